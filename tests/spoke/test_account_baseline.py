"""AccountBaseline's IAM: names, trust and least privilege, on the rendered documents."""

from __future__ import annotations

import json
from typing import Any

import pytest

from components import naming
from components.runbooks.asg_rebake import APP_ROLE_PATH
from tests.policy_eval import role_policy_documents

ACCOUNT = "222222222222"

#: Statements allowed to use Resource "*", each commented with why (baseline_policies.py, automation_policy.py).
STAR_SIDS = {
    "ReadCommandResults",
    "DescribeForRebake",
    "ReadFleet",
    "ActionsWithoutResourceType",
    "DescribeWindows",
    "ReadProductTemplate",
    "ReadManagedInstances",
}


def roles(capture: Any, account: str = ACCOUNT) -> dict[str, Any]:
    """The AccountBaseline's roles (every role of the child stack: DHMC uses the instance role)."""
    return {r.inputs["name"]: r for r in capture.of_type("aws:iam/role:Role") if capture.account_of(r) == account}


def policy(capture: Any, role: Any) -> dict[str, Any]:
    """The role's one inline policy (a ``RolePolicy`` named ``org-patching``)."""
    (text,) = role_policy_documents(capture, role)
    return dict(json.loads(text))


def statements(capture: Any, role: Any) -> dict[str, dict[str, Any]]:
    return {s["Sid"]: s for s in policy(capture, role)["Statement"]}


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def test_roles_once_per_account(child_capture: Any) -> None:
    for account in ("222222222222", "333333333333"):
        assert sorted(roles(child_capture, account)) == sorted(
            [
                naming.INSTANCE_ROLE,
                naming.AUTOMATION_EXECUTION_ROLE,
                naming.MAINTENANCE_WINDOW_ROLE,
                naming.TAG_REMEDIATION_ROLE,
                naming.WINDOW_TAGGING_ROLE,
                naming.OVERRIDE_LIST_ROLE,
                naming.CATALOG_LAUNCH_ROLE,
                naming.EVENT_FORWARDING_ROLE,
                naming.NOTICE_READER_ROLE,  # components/spoke/notice_reader.py
            ]
        )
    profiles = child_capture.of_type("aws:iam/instanceProfile:InstanceProfile")
    assert {p.inputs["name"] for p in profiles} == {naming.INSTANCE_PROFILE}
    assert len(profiles) == 2


def test_instance_role_writes_only_its_own_prefix(child_capture: Any, central_capture: Any) -> None:
    compliance = central_capture.outputs["compliance"]
    role = roles(child_capture)[naming.INSTANCE_ROLE]
    found = statements(child_capture, role)
    assert found["WritePatchLogsUnderOwnAccount"]["Resource"] == [
        f"arn:aws:s3:::{compliance['patchLogBucket']}/{ACCOUNT}/*"
    ]
    assert found["ReadPatchLists"]["Resource"] == [f"arn:aws:s3:::{compliance['patchListBucket']}/{ACCOUNT}/*"]
    assert found["UseHubKeyThroughS3"]["Resource"] == [compliance["keyArn"]]
    attachments = [
        a
        for a in child_capture.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
        if child_capture.account_of(a) == ACCOUNT and a.inputs["role"] == naming.INSTANCE_ROLE
    ]
    assert [a.inputs["policyArn"] for a in attachments] == ["arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"]


def test_execution_role_trusts_the_hub_role_in_the_org_and_ssm_here(child_capture: Any) -> None:
    role = roles(child_capture)[naming.AUTOMATION_EXECUTION_ROLE]
    trust = json.loads(role.inputs["assumeRolePolicy"])["Statement"]
    hub = next(s for s in trust if "AWS" in s["Principal"])
    assert hub["Principal"]["AWS"] == f"arn:aws:iam::111111111111:role/{naming.AUTOMATION_ADMINISTRATION_ROLE}"
    assert hub["Condition"] == {"StringEquals": {"aws:PrincipalOrgID": "o-exampleorg01"}}
    ssm = next(s for s in trust if "Service" in s["Principal"])
    assert ssm["Principal"]["Service"] == "ssm.amazonaws.com"
    assert ssm["Condition"] == {"StringEquals": {"aws:SourceAccount": ACCOUNT}}


def test_passrole_only_named_roles_to_one_service(child_capture: Any) -> None:
    expected = {
        naming.AUTOMATION_EXECUTION_ROLE: (naming.INSTANCE_ROLE, "ec2.amazonaws.com"),
        naming.MAINTENANCE_WINDOW_ROLE: (naming.AUTOMATION_EXECUTION_ROLE, "ssm.amazonaws.com"),
        naming.CATALOG_LAUNCH_ROLE: (naming.MAINTENANCE_WINDOW_ROLE, "ssm.amazonaws.com"),
        # the profile check attaches the patching profile to instances that have none (issue 15.4)
        naming.TAG_REMEDIATION_ROLE: (naming.INSTANCE_ROLE, "ec2.amazonaws.com"),
    }
    for name, role in roles(child_capture).items():
        passes = [s for s in policy(child_capture, role)["Statement"] if "iam:PassRole" in as_list(s["Action"])]
        if name not in expected:
            assert not passes, name
            continue
        target, service = expected[name]
        (statement,) = passes
        # the automation role also passes app-owned instance roles under the documented IAM path (the refresh's
        # launch-template check), never any other role
        extra = [f"arn:aws:iam::{ACCOUNT}:role{APP_ROLE_PATH}*"] if name == naming.AUTOMATION_EXECUTION_ROLE else []
        assert statement["Resource"] == [f"arn:aws:iam::{ACCOUNT}:role/{target}", *extra]
        assert statement["Condition"] == {"StringEquals": {"iam:PassedToService": service}}


def test_every_star_is_an_explained_statement(child_capture: Any) -> None:
    for name, role in roles(child_capture).items():
        for statement in policy(child_capture, role)["Statement"]:
            if "*" in as_list(statement["Resource"]):
                assert statement["Sid"] in STAR_SIDS, f"{name}: {statement['Sid']} uses Resource '*'"
            assert not any(action.endswith(":*") or action == "*" for action in as_list(statement["Action"])), name


def test_tagging_roles_write_only_the_contract_keys(child_capture: Any) -> None:
    for name in (naming.TAG_REMEDIATION_ROLE, naming.WINDOW_TAGGING_ROLE):
        found = statements(child_capture, roles(child_capture)[name])
        for sid in ("WriteContractTagsOnInstances", "WriteContractTagsOnAsgs"):
            condition = found[sid]["Condition"]
            assert condition["ForAllValues:StringEquals"]["aws:TagKeys"] == ["Patch Group", "maintenance_window"]
            assert condition["Null"] == {"aws:TagKeys": "false"}
            assert all(f":{ACCOUNT}:" in arn for arn in found[sid]["Resource"])


@pytest.mark.parametrize(
    ("role_name", "service"),
    [
        (naming.MAINTENANCE_WINDOW_ROLE, "ssm.amazonaws.com"),
        (naming.TAG_REMEDIATION_ROLE, "lambda.amazonaws.com"),
        (naming.WINDOW_TAGGING_ROLE, "lambda.amazonaws.com"),
        (naming.OVERRIDE_LIST_ROLE, "lambda.amazonaws.com"),
        (naming.CATALOG_LAUNCH_ROLE, "servicecatalog.amazonaws.com"),
        (naming.EVENT_FORWARDING_ROLE, "events.amazonaws.com"),
    ],
)
def test_service_roles_are_confused_deputy_safe(child_capture: Any, role_name: str, service: str) -> None:
    (statement,) = json.loads(roles(child_capture)[role_name].inputs["assumeRolePolicy"])["Statement"]
    assert statement["Principal"] == {"Service": service}
    assert statement["Condition"] == {"StringEquals": {"aws:SourceAccount": ACCOUNT}}


def test_override_list_writes_only_its_own_prefix(child_capture: Any, central_capture: Any) -> None:
    bucket = central_capture.outputs["compliance"]["patchListBucket"]
    found = statements(child_capture, roles(child_capture)[naming.OVERRIDE_LIST_ROLE])
    assert found["WriteOwnLists"]["Resource"] == [f"arn:aws:s3:::{bucket}/{ACCOUNT}/*"]
