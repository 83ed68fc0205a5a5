"""The child deploy role's StackSet template: cfn-lint clean, trusted only by the configured central
principal within the organization, 3-hour sessions, and a permission policy that parliament passes
and that covers exactly the names the child stack uses."""

from __future__ import annotations

import fnmatch
import json
import re
from pathlib import Path
from typing import Any

import parliament
from cfnlint.api import ManualArgs, lint
from cfnlint.decode import decode_str

from components import naming
from components.hub.deploy_role_bootstrap import TEMPLATE_FILE
from components.spoke import account_baseline

TEXT = Path(TEMPLATE_FILE).read_text()
TEMPLATE, _ = decode_str(TEXT)
ROLE = TEMPLATE["Resources"]["DeployRole"]["Properties"]
ACCOUNT = "222222222222"


def substituted(value: Any) -> Any:
    """The template's ``!Sub`` strings with the pseudo parameters of a member account."""
    if isinstance(value, dict) and set(value) == {"Fn::Sub"}:
        return value["Fn::Sub"].replace("${AWS::Partition}", "aws").replace("${AWS::AccountId}", ACCOUNT)
    if isinstance(value, dict):
        return {k: substituted(v) for k, v in value.items()}
    if isinstance(value, list):
        return [substituted(v) for v in value]
    return value


POLICY = substituted(ROLE["Policies"][0]["PolicyDocument"])


def resources_of(action: str, effect: str = "Allow") -> list[str]:
    found: list[str] = []
    for statement in POLICY["Statement"]:
        if statement["Effect"] != effect:
            continue
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        if action in actions:
            found += statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
    return found


def allows(action: str, arn: str) -> bool:
    """Allowed by a statement and denied by none (conditions aside: asserted separately)."""
    allowed = any(fnmatch.fnmatchcase(arn, pattern) for pattern in resources_of(action))
    return allowed and not any(fnmatch.fnmatchcase(arn, pattern) for pattern in resources_of(action, "Deny"))


def test_cfn_lint_finds_nothing_not_even_informational() -> None:
    matches = lint(TEXT, config=ManualArgs(include_checks=["I"], regions=["us-east-1", "eu-west-1"]))
    assert [str(m) for m in matches] == []


def test_the_role_is_the_child_default_and_sessions_last_three_hours() -> None:
    assert ROLE["RoleName"] == naming.CHILD_DEPLOY_ROLE
    assert ROLE["MaxSessionDuration"] == 3 * 3600


def test_only_the_configured_principal_of_the_organization_may_assume_it() -> None:
    (statement,) = ROLE["AssumeRolePolicyDocument"]["Statement"]
    assert statement["Effect"] == "Allow" and statement["Action"] == "sts:AssumeRole"
    assert statement["Principal"] == {"AWS": {"Ref": "DeployPrincipalArn"}}
    assert statement["Condition"] == {"StringEquals": {"aws:PrincipalOrgID": {"Ref": "OrganizationId"}}}
    parameters = TEMPLATE["Parameters"]
    assert re.match(parameters["DeployPrincipalArn"]["AllowedPattern"], "arn:aws:iam::111111111111:role/deploy")
    assert not re.match(parameters["DeployPrincipalArn"]["AllowedPattern"], "arn:aws:iam::111111111111:root")
    assert not re.match(parameters["OrganizationId"]["AllowedPattern"], "*")


def test_the_permission_policy_lints_clean_with_parliament() -> None:
    # Every finding, not a severity band: ``analyze_policy_string`` leaves ``severity`` empty. The
    # unavoidable ``Resource: "*"`` statements name only actions the SAR gives no resource type, so
    # not even RESOURCE_STAR is reported.
    findings = parliament.analyze_policy_string(json.dumps(POLICY), include_community_auditors=False).findings
    assert [f"{f.issue} {f.detail}" for f in findings] == []


CREATES_WITHOUT_RESOURCE = {"CreatePatchBaseline", "CreateMaintenanceWindow"}


def test_every_wildcard_resource_is_explained_and_never_writes() -> None:
    stars = [s for s in POLICY["Statement"] if s["Resource"] == "*"]
    inline = TEXT.split("  DeployRoleBoundary:")[0]  # the boundary's own stars: test_the_boundary_caps_...
    assert inline.count('Resource: "*"') == len(stars) == inline.count('# Resource "*":')
    for statement in stars:
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        verbs = {a.split(":")[1] for a in actions}
        # reads, plus the two creates that have no resource before they run
        assert all(v.startswith(("Describe", "Get", "List")) for v in verbs - CREATES_WITHOUT_RESOURCE), statement[
            "Sid"
        ]


def test_no_statement_reaches_another_account_except_the_aws_published_layer() -> None:
    for statement in POLICY["Statement"]:
        resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        for arn in resources:
            if arn == "*" or statement["Sid"] == "UsePowertoolsLayer" or ":document/AWS-" in arn:
                continue
            assert f":{ACCOUNT}:" in arn, (statement["Sid"], arn)
    (attach,) = [s for s in POLICY["Statement"] if s["Effect"] == "Allow" and "iam:AttachRolePolicy" in s["Action"]]
    assert attach["Condition"] == {
        "ArnEquals": {
            "iam:PolicyARN": [
                f"arn:aws:iam::aws:policy/{account_baseline.SSM_CORE_POLICY}",
                f"arn:aws:iam::aws:policy/{naming.DEFAULT_HOST_MANAGEMENT_POLICY}",
            ],
            "iam:PermissionsBoundary": naming.child_role_boundary_arn("aws", ACCOUNT),
        }
    }
    (passing,) = [s for s in POLICY["Statement"] if s["Effect"] == "Allow" and "iam:PassRole" in s["Action"]]
    assert "iam:PassedToService" in passing["Condition"]["StringEquals"]


def test_the_child_stacks_names_are_inside_the_policy() -> None:
    role = f"arn:aws:iam::{ACCOUNT}:role/"
    for name in (
        naming.INSTANCE_ROLE,
        naming.AUTOMATION_EXECUTION_ROLE,
        naming.MAINTENANCE_WINDOW_ROLE,
        naming.TAG_REMEDIATION_ROLE,
        naming.WINDOW_TAGGING_ROLE,
        naming.OVERRIDE_LIST_ROLE,
        naming.CATALOG_LAUNCH_ROLE,
        naming.EVENT_FORWARDING_ROLE,
    ):
        assert allows("iam:CreateRole", role + name) and allows("iam:PassRole", role + name), name
        assert allows("iam:AttachRolePolicy", role + name)
    assert not allows("iam:CreateRole", role + "Admin") and not allows("iam:PassRole", role + "Admin")
    # the deploy role shares the prefix, but can neither change nor pass itself
    for action in ("iam:PutRolePolicy", "iam:AttachRolePolicy", "iam:UpdateAssumeRolePolicy", "iam:PassRole"):
        assert not allows(action, role + naming.CHILD_DEPLOY_ROLE), action
    profile = f"arn:aws:iam::{ACCOUNT}:instance-profile/{naming.INSTANCE_PROFILE}"
    assert allows("iam:CreateInstanceProfile", profile)
    for name in (naming.TAG_REMEDIATION_FUNCTION, naming.WINDOW_TAGGING_FUNCTION, naming.OVERRIDE_LIST_FUNCTION):
        assert allows("lambda:CreateFunction", f"arn:aws:lambda:eu-west-1:{ACCOUNT}:function:{name}"), name
    for name in (naming.RUNBOOK_STANDALONE, naming.RUNBOOK_ASG):
        assert allows("ssm:CreateDocument", f"arn:aws:ssm:eu-west-1:{ACCOUNT}:document/{name}"), name
    assert allows(
        "ssm:CreateResourceDataSync", f"arn:aws:ssm:eu-west-1:{ACCOUNT}:resource-data-sync/{naming.RESOURCE_DATA_SYNC}"
    )
    assert allows("sqs:CreateQueue", f"arn:aws:sqs:eu-west-1:{ACCOUNT}:{naming.DEAD_LETTER_QUEUE}")
    assert allows("logs:CreateLogGroup", f"arn:aws:logs:eu-west-1:{ACCOUNT}:log-group:{naming.FUNCTION_LOG_GROUP}")
    for rule in (naming.CONFIG_RULE, naming.SWEEP_RULE, naming.COMPLIANCE_EVENT_RULE):
        assert rule.startswith(naming.PREFIX)
    assert allows("events:PutRule", f"arn:aws:events:eu-west-1:{ACCOUNT}:rule/{naming.SWEEP_RULE}-1")
    assert allows("ssm:CreateAssociation", "arn:aws:ssm:eu-west-1::document/AWS-GatherSoftwareInventory")


def test_the_inline_policy_fits_iams_size_limit() -> None:
    # IAM counts a role's inline policies without whitespace: 10,240 characters in all.
    assert len(json.dumps(POLICY, separators=(",", ":"))) < 10_240


BOUNDARY = substituted(TEMPLATE["Resources"]["DeployRoleBoundary"]["Properties"])


def test_the_boundary_caps_the_role_and_cannot_be_loosened_by_it() -> None:
    """15.1 / 17.9: whatever the inline policy becomes, the role stays within the child stack's services, never
    makes IAM users or keys, attaches no other managed policy, and cannot edit or drop its boundary."""
    assert ROLE["PermissionsBoundary"] == {"Ref": "DeployRoleBoundary"}
    assert BOUNDARY["ManagedPolicyName"] == naming.DEPLOY_ROLE_BOUNDARY
    document = BOUNDARY["PolicyDocument"]
    findings = parliament.analyze_policy_string(json.dumps(document), include_community_auditors=False).findings
    # a boundary caps by service on purpose (its "*" is explained in the template); nothing else may be found
    assert [f.issue for f in findings if f.issue not in ("RESOURCE_STAR", "PERMISSIONS_MANAGEMENT_ACTIONS")] == []
    statements = {s["Sid"]: s for s in document["Statement"]}
    services = {a.split(":")[0] for a in statements["OnlyTheChildStacksServices"]["Action"]}
    inline_services = {
        a.split(":")[0]
        for s in POLICY["Statement"]
        for a in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]])
    }
    # cloudwatch: the account's functions alarm (components/spoke/functions_alarm.py)
    assert inline_services <= services == {"iam", "ssm", "lambda", "events", "sqs", "logs", "config", "cloudwatch"}
    assert "iam:CreateAccessKey" in statements["NoIdentitiesOrKeys"]["Action"]
    assert statements["NoOtherManagedPolicy"]["Condition"]["ArnNotEquals"]["iam:PolicyARN"] == [
        f"arn:aws:iam::aws:policy/{account_baseline.SSM_CORE_POLICY}",
        f"arn:aws:iam::aws:policy/{naming.DEFAULT_HOST_MANAGEMENT_POLICY}",
    ]
    assert statements["NeverLoosenTheCap"]["Resource"] == [
        f"arn:aws:iam::{ACCOUNT}:policy/{naming.DEPLOY_ROLE_BOUNDARY}",
        naming.child_role_boundary_arn("aws", ACCOUNT),
    ]
    assert statements["NeverDropTheBoundary"]["Resource"] == f"arn:aws:iam::{ACCOUNT}:role/{naming.CHILD_DEPLOY_ROLE}"
    # this boundary and the child roles' one each explain their "*"
    assert TEXT.count('# Boundary "*":') == 2
