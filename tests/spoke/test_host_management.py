"""The daily patch scan and Default Host Management Configuration (components/spoke/host_management.py)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from components import naming
from components.config import parse_config
from components.errors import ConfigError
from components.spoke.host_management import setting_arn
from devkit.applier import moto_gaps
from tests import aws

ACCOUNTS = ("222222222222", "333333333333")
REGIONS = ("us-east-1", "eu-west-1")


def scans(capture: Any) -> list[Any]:
    return [
        a
        for a in capture.of_type("aws:ssm/association:Association")
        if a.inputs["associationName"] == naming.PATCH_SCAN_ASSOCIATION
    ]


def test_a_daily_scan_in_every_account_region_with_the_orgs_baselines(child_capture: Any, central_capture: Any) -> None:
    lists = central_capture.outputs["compliance"]["patchListBucket"]
    found = {(child_capture.account_of(a), a.inputs["region"]): a for a in scans(child_capture)}
    assert sorted(found) == sorted((a, r) for a in ACCOUNTS for r in REGIONS)
    for association in found.values():
        assert association.inputs["name"] == "AWS-RunPatchBaseline"
        assert association.inputs["scheduleExpression"] == "rate(1 day)"
        assert association.inputs["targets"] == [{"key": "InstanceIds", "values": ["*"]}]
        assert association.inputs["parameters"] == {
            "Operation": "Scan",
            "RebootOption": "NoReboot",
            "BaselineOverride": f"s3://{lists}/baseline-overrides/child.json",
        }


def test_dhmc_names_the_accounts_role_in_every_region(child_capture: Any) -> None:
    settings = child_capture.of_type("aws:ssm/serviceSetting:ServiceSetting")
    assert sorted((child_capture.account_of(s), s.inputs["region"]) for s in settings) == sorted(
        (a, r) for a in ACCOUNTS for r in REGIONS
    )
    for setting in settings:
        account, region = child_capture.account_of(setting), setting.inputs["region"]
        assert setting.inputs["settingId"] == (
            f"arn:aws:ssm:{region}:{account}:servicesetting/ssm/managed-instance/default-ec2-instance-management-role"
        )
        # the account's patching instance role: no role of its own (it trusts SSM too, with DHMC on)
        assert setting.inputs["settingValue"] == naming.INSTANCE_ROLE
    roles = [r for r in child_capture.of_type("aws:iam/role:Role") if r.inputs["name"] == naming.INSTANCE_ROLE]
    assert sorted(child_capture.account_of(r) for r in roles) == sorted(ACCOUNTS)
    for role in roles:
        principals = [s["Principal"] for s in json.loads(role.inputs["assumeRolePolicy"])["Statement"]]
        assert principals == [{"Service": "ec2.amazonaws.com"}, {"Service": "ssm.amazonaws.com"}]
    attached = {
        (child_capture.account_of(a), a.inputs["policyArn"])
        for a in child_capture.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
        if a.inputs["role"] == naming.INSTANCE_ROLE
    }
    # AmazonSSMManagedInstanceCore holds every permission of the DHMC policy (AmazonSSMManagedEC2InstanceDefaultPolicy)
    assert attached == {(a, "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore") for a in ACCOUNTS}


def test_both_can_be_turned_off_and_the_scan_rescheduled(render_child: Any) -> None:
    off = render_child(patching={"patchScan": {"enabled": False}, "defaultHostManagement": {"enabled": False}})
    assert not scans(off)
    assert not off.of_type("aws:ssm/serviceSetting:ServiceSetting")
    for role in off.of_type("aws:iam/role:Role"):  # the instance role trusts SSM only for DHMC
        if role.inputs["name"] == naming.INSTANCE_ROLE:
            assert "ssm.amazonaws.com" not in role.inputs["assumeRolePolicy"]
    weekly = render_child(patching={"patchScan": {"schedule": "cron(0 3 ? * SUN *)"}})
    assert {a.inputs["scheduleExpression"] for a in scans(weekly)} == {"cron(0 3 ? * SUN *)"}


@pytest.mark.parametrize(
    ("patching", "key"),
    [
        ({"patchScan": {"schedule": "daily"}}, "patchScan.schedule"),
        ({"patchScan": {"enabled": "sometimes"}}, "patchScan.enabled"),
        ({"defaultHostManagement": {"role": "x"}}, "defaultHostManagement.role"),
    ],
)
def test_bad_settings_are_one_clear_error(patching: dict[str, Any], key: str) -> None:
    raw = {
        "org-patching:stack": "child",
        "org-patching:orgId": "o-exampleorg01",
        "org-patching:centralAccountId": "111111111111",
        "org-patching:homeRegion": "us-east-1",
        "org-patching:hubStack": "organization/org-patching/central",
        "org-patching:regions": ["us-east-1"],
        "org-patching:accounts": [{"id": "222222222222", "name": "a"}],
        "org-patching:patching": patching,
    }
    with pytest.raises(ConfigError) as error:
        parse_config(raw)
    assert key in str(error.value) and "\n" not in str(error.value)


def test_the_emulator_keeps_the_setting_and_refuses_a_role_that_does_not_exist(moto_aws: None) -> None:
    moto_gaps.install()  # the applier's companion of the moto extension (it deploys the setting)
    account, region = aws.ACCOUNTS[0], aws.REGIONS[0]
    ssm = aws.session(account, region).client("ssm")
    setting = setting_arn("aws", region, account)
    assert ssm.get_service_setting(SettingId=setting)["ServiceSetting"]["Status"] == "Default"
    with pytest.raises(ClientError, match="no IAM role of that name"):
        ssm.update_service_setting(SettingId=setting, SettingValue="nobody")
    iam = aws.session(account, region).client("iam")
    iam.create_role(RoleName=naming.INSTANCE_ROLE, AssumeRolePolicyDocument="{}")
    ssm.update_service_setting(SettingId=setting, SettingValue=naming.INSTANCE_ROLE)
    found = ssm.get_service_setting(SettingId=setting)["ServiceSetting"]
    assert (found["SettingValue"], found["Status"]) == (naming.INSTANCE_ROLE, "Customized")
    with pytest.raises(ClientError, match="not a setting of this account"):
        ssm.get_service_setting(SettingId=setting_arn("aws", region, aws.ACCOUNTS[1]))
    with pytest.raises(ClientError, match="not a service setting"):
        ssm.get_service_setting(SettingId="/ssm/made/up")
    assert ssm.reset_service_setting(SettingId=setting)["ServiceSetting"]["Status"] == "Default"
