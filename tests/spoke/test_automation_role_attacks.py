"""Attacks on the automation execution role (issue 13 items 1-2), judged on the RENDERED policy of the child stack.

The judge is IAM's evaluation logic for identity policies (AWS IAM User Guide, "Policy evaluation logic": an
explicit Deny wins, then any Allow, else implicit deny; a condition key absent from the request makes its operator
false, except ...IfExists) for the operators this policy uses. It is deliberately small: it only has to say what
these statements allow, with the request context the attack sets.
"""

from __future__ import annotations

import fnmatch
from typing import Any

import pytest

from components import naming
from tests.spoke.test_account_baseline import ACCOUNT, as_list, policy, roles

REGION = "eu-west-1"
TEMPLATE = f"arn:aws:ec2:{REGION}:{ACCOUNT}:launch-template/lt-0123456789abcdef0"
INSTANCE = f"arn:aws:ec2:{REGION}:{ACCOUNT}:instance/i-0123456789abcdef0"
ASG = f"arn:aws:autoscaling:{REGION}:{ACCOUNT}:autoScalingGroup:uuid:autoScalingGroupName/web"
PATCHING_PROFILE = f"arn:aws:iam::{ACCOUNT}:instance-profile/{naming.INSTANCE_PROFILE}"


def _condition(operator: str, key: str, wanted: Any, context: dict[str, Any]) -> bool:
    if key not in context:
        return False
    values = [str(v) for v in as_list(context[key])]
    wanted = [str(w) for w in as_list(wanted)]
    if operator in ("StringEquals", "ArnEquals"):
        return any(v in wanted for v in values)
    if operator == "StringEqualsIgnoreCase":
        return any(v.casefold() in [w.casefold() for w in wanted] for v in values)
    if operator in ("StringLike", "ArnLike"):
        return any(fnmatch.fnmatchcase(v, w) for v in values for w in wanted)
    raise AssertionError(f"the judge does not know {operator}")


def _applies(statement: dict[str, Any], action: str, resource: str, context: dict[str, Any]) -> bool:
    if not any(fnmatch.fnmatchcase(action, a) for a in as_list(statement["Action"])):
        return False
    if not any(fnmatch.fnmatchcase(resource, r) for r in as_list(statement["Resource"])):
        return False
    return all(
        _condition(operator, key, wanted, context)
        for operator, keys in (statement.get("Condition") or {}).items()
        for key, wanted in keys.items()
    )


def allowed(document: dict[str, Any], action: str, resource: str, **context: Any) -> bool:
    matching = [s for s in document["Statement"] if _applies(s, action, resource, context)]
    return not any(s["Effect"] == "Deny" for s in matching) and any(s["Effect"] == "Allow" for s in matching)


@pytest.fixture()
def role(child_capture: Any) -> dict[str, Any]:
    return policy(child_capture, roles(child_capture)[naming.AUTOMATION_EXECUTION_ROLE])


def test_launch_templates_outside_the_contract_cannot_be_changed(role: dict[str, Any]) -> None:
    for action in ("ec2:CreateLaunchTemplateVersion", "ec2:DeleteLaunchTemplateVersions", "ec2:RunInstances"):
        assert not allowed(role, action, TEMPLATE), action
        assert not allowed(role, action, TEMPLATE, **{"aws:ResourceTag/Patch Group": "Production"}), action
        assert allowed(role, action, TEMPLATE, **{"aws:ResourceTag/Patch Group": "Prod"}), action
    assert not allowed(role, "ec2:ModifyLaunchTemplate", TEMPLATE, **{"aws:ResourceTag/Patch Group": "Prod"})


def test_groups_outside_the_contract_or_exempt_are_not_refreshed(role: dict[str, Any]) -> None:
    assert not allowed(role, "autoscaling:StartInstanceRefresh", ASG)
    assert allowed(role, "autoscaling:StartInstanceRefresh", ASG, **{"aws:ResourceTag/Patch Group": "Dev"})
    for key in ("install_patch", "patch_install"):
        exempt = {"aws:ResourceTag/Patch Group": "Dev", f"aws:ResourceTag/{key}": "No"}
        assert not allowed(role, "autoscaling:StartInstanceRefresh", ASG, **exempt), key
    for action in (
        "autoscaling:UpdateAutoScalingGroup",
        "autoscaling:CancelInstanceRefresh",
        "autoscaling:RollbackInstanceRefresh",
    ):
        assert not allowed(role, action, ASG, **{"aws:ResourceTag/Patch Group": "Dev"}), action


def test_exempt_instances_are_never_sent_a_command(role: dict[str, Any]) -> None:
    assert allowed(role, "ssm:SendCommand", INSTANCE)
    for key in ("install_patch", "patch_install"):
        assert not allowed(role, "ssm:SendCommand", INSTANCE, **{f"aws:ResourceTag/{key}": "no"}), key


def test_only_a_tagged_builder_with_the_patching_profile_is_launched(role: dict[str, Any]) -> None:
    builder = {"aws:RequestTag/org-patching:builder-for": "web", "ec2:InstanceProfile": PATCHING_PROFILE}
    assert allowed(role, "ec2:RunInstances", INSTANCE, **builder)
    admin = f"arn:aws:iam::{ACCOUNT}:instance-profile/admin"
    assert not allowed(role, "ec2:RunInstances", INSTANCE, **{**builder, "ec2:InstanceProfile": admin})
    assert not allowed(role, "ec2:RunInstances", INSTANCE, **{"ec2:InstanceProfile": PATCHING_PROFILE})
    # the builder is imaged and terminated only with the tag it was launched with
    assert not allowed(role, "ec2:TerminateInstances", INSTANCE)
    assert allowed(role, "ec2:TerminateInstances", INSTANCE, **{"aws:ResourceTag/org-patching:builder-for": "web"})


def test_roles_passed_to_ec2_are_the_patching_one_and_the_documented_path(role: dict[str, Any]) -> None:
    to_ec2 = {"iam:PassedToService": "ec2.amazonaws.com"}
    assert allowed(role, "iam:PassRole", f"arn:aws:iam::{ACCOUNT}:role/{naming.INSTANCE_ROLE}", **to_ec2)
    assert allowed(role, "iam:PassRole", f"arn:aws:iam::{ACCOUNT}:role/org-patching-app/web", **to_ec2)
    assert not allowed(role, "iam:PassRole", f"arn:aws:iam::{ACCOUNT}:role/OrganizationAccountAccessRole", **to_ec2)
    assert not allowed(
        role,
        "iam:PassRole",
        f"arn:aws:iam::{ACCOUNT}:role/org-patching-app/web",
        **{"iam:PassedToService": "lambda.amazonaws.com"},
    )


def test_parameters_are_read_only_under_aws_service_and_the_documented_prefix(role: dict[str, Any]) -> None:
    public = f"arn:aws:ssm:{REGION}::parameter/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"
    assert allowed(role, "ssm:GetParameter", public)
    assert allowed(role, "ssm:GetParameter", f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/org-patching/ami/web")
    for secret in ("/prod/db/password", "/aws/reference/secretsmanager/x", "/org-patchingX/y"):
        assert not allowed(role, "ssm:GetParameter", f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter{secret}"), secret
    lock = f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/org-patching/rebake-lock/web"
    assert allowed(role, "ssm:PutParameter", lock)
    assert not allowed(role, "ssm:PutParameter", f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/org-patching/ami/web")


def test_permissions_no_code_path_uses_are_gone(role: dict[str, Any]) -> None:
    actions = {a for s in role["Statement"] if s["Effect"] == "Allow" for a in as_list(s["Action"])}
    for unused in (
        "lambda:InvokeFunction",
        "s3:GetObject",
        "ec2:DescribeSubnets",
        "ec2:DescribeSecurityGroups",
        "ec2:StopInstances",
        "ec2:ModifyLaunchTemplate",
        "autoscaling:UpdateAutoScalingGroup",
        "autoscaling:CancelInstanceRefresh",
        "autoscaling:RollbackInstanceRefresh",
        "kms:Decrypt",
    ):
        assert unused not in actions, unused
