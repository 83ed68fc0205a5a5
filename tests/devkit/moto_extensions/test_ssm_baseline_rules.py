"""The emulator refuses what AWS refuses in a patch baseline: no approval delay on Ubuntu/Debian."""

from __future__ import annotations

from typing import Any

import botocore.session
import pytest
from botocore.exceptions import ClientError

from patchctl.offline import service_rules as ssm_baseline_rules
from tests import aws

ACCOUNT, REGION = aws.ACCOUNTS[0], aws.REGIONS[0]
FILTERS = {"PatchFilters": [{"Key": "PRIORITY", "Values": ["Required", "Important"]}]}


def _rule(**delay: Any) -> dict[str, Any]:
    return {"PatchRules": [{"PatchFilterGroup": FILTERS, "ComplianceLevel": "CRITICAL", **delay}]}


def test_the_rule_is_the_one_botocore_documents() -> None:
    shape = botocore.session.get_session().get_service_model("ssm").shape_for("PatchRule")
    for member in ("ApproveAfterDays", "ApproveUntilDate"):
        assert "Not supported for Debian Server or Ubuntu Server." in shape.members[member].documentation
    operating_systems = botocore.session.get_session().get_service_model("ssm").shape_for("OperatingSystem").enum
    assert set(operating_systems) >= ssm_baseline_rules.NO_APPROVAL_DELAY


@pytest.mark.parametrize("os_name", sorted(ssm_baseline_rules.NO_APPROVAL_DELAY))
@pytest.mark.parametrize("delay", [{"ApproveAfterDays": 7}, {"ApproveUntilDate": "2026-11-16"}])
def test_create_refuses_a_delay_on_ubuntu_and_debian(moto_aws: None, os_name: str, delay: dict[str, Any]) -> None:
    ssm = aws.session(ACCOUNT, REGION).client("ssm")
    with pytest.raises(ClientError) as raised:
        ssm.create_patch_baseline(Name="org-b", OperatingSystem=os_name, ApprovalRules=_rule(**delay))
    assert raised.value.response["Error"]["Code"] == "ValidationException"
    assert next(iter(delay)) in raised.value.response["Error"]["Message"]
    assert (
        ssm.describe_patch_baselines(Filters=[{"Key": "NAME_PREFIX", "Values": ["org-b"]}])["BaselineIdentities"] == []
    )


def test_create_accepts_ubuntu_without_a_delay_and_others_with_one(moto_aws: None) -> None:
    ssm = aws.session(ACCOUNT, REGION).client("ssm")
    assert ssm.create_patch_baseline(Name="org-u", OperatingSystem="UBUNTU", ApprovalRules=_rule())["BaselineId"]
    rpm = {"PatchFilters": [{"Key": "CLASSIFICATION", "Values": ["Security"]}]}
    rules = {"PatchRules": [{"PatchFilterGroup": rpm, "ApproveAfterDays": 7}]}
    assert ssm.create_patch_baseline(Name="org-a", OperatingSystem="AMAZON_LINUX_2023", ApprovalRules=rules)[
        "BaselineId"
    ]
    # no OperatingSystem means WINDOWS, which takes a delay
    assert ssm.create_patch_baseline(
        Name="org-w", ApprovalRules={"PatchRules": [{"PatchFilterGroup": rpm, "ApproveAfterDays": 1}]}
    )


def test_update_refuses_a_delay_on_an_ubuntu_baseline_and_applies_a_valid_change(moto_aws: None) -> None:
    ssm = aws.session(ACCOUNT, REGION).client("ssm")
    baseline = ssm.create_patch_baseline(Name="org-u", OperatingSystem="UBUNTU", ApprovalRules=_rule())["BaselineId"]
    with pytest.raises(ClientError) as raised:
        ssm.update_patch_baseline(BaselineId=baseline, ApprovalRules=_rule(ApproveAfterDays=3))
    assert raised.value.response["Error"]["Code"] == "ValidationException"

    updated = ssm.update_patch_baseline(BaselineId=baseline, Description="approved when published")
    assert updated["BaselineId"] == baseline and updated["OperatingSystem"] == "UBUNTU"
    assert updated["Description"] == "approved when published"
    assert updated["ApprovalRules"]["PatchRules"][0].get("ApproveAfterDays") is None


def test_update_of_an_unknown_baseline_is_refused(moto_aws: None) -> None:
    ssm = aws.session(ACCOUNT, REGION).client("ssm")
    with pytest.raises(ClientError) as raised:
        ssm.update_patch_baseline(BaselineId="pb-00000000000000000", Description="x")
    assert raised.value.response["Error"]["Code"] == "DoesNotExistException"
