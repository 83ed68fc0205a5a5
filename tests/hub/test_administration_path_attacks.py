"""Issue 13 item 1, the hub side: only the emergency state machine's executions may use the automation
administration role, and only for the org-patching runbooks.

Attacked on the rendered central stack (``central_capture``) with ``tests/policy_eval.py``: another
org-patching role passing the administration role, the state machine passing it to another service or
starting another document with it, and SSM taking the role for an automation of another account or Region.
The condition keys used are the ones the Service Authorization Reference lists (parliament's data, checked
below): ``iam:PassedToService`` for ``iam:PassRole``; ``ssm:StartAutomationExecution`` has no document
condition key, so the documents are its resources (``automation-definition``).
"""

from __future__ import annotations

import json
from typing import Any

import parliament
import pytest

from components import naming
from tests.policy_eval import Request, evaluate

HUB, REGION = "111111111111", "us-east-1"  # Pulumi.central.yaml
MACHINE_POLICY = "hub-emergency-state-machine"


@pytest.fixture(scope="module")
def admin_role_arn(central_capture: Any) -> str:
    return str(central_capture.one("aws:iam/role:Role", "hub-emergency-automation-administration").outputs["arn"])


def _identity_policies(capture: Any) -> dict[str, dict[str, Any]]:
    """Every identity policy of the hub's roles: RolePolicy resources and roles' inline policies."""
    policies = {}
    for record in capture.resources:
        if record.type in ("aws:iam/rolePolicy:RolePolicy", "aws:iam/policy:Policy"):
            policies[record.name] = json.loads(record.inputs["policy"])
        for inline in record.inputs.get("inlinePolicies") or [] if record.type == "aws:iam/role:Role" else []:
            policies[f"{record.name}/{inline['name']}"] = json.loads(inline["policy"])
    return policies


def _pass(role: str, service: str = "ssm.amazonaws.com") -> Request:
    return Request("arn:aws:iam::111111111111:role/any", "iam:PassRole", role, {"iam:PassedToService": service})


def test_no_other_org_patching_role_can_pass_the_administration_role(central_capture: Any, admin_role_arn: str) -> None:
    policies = _identity_policies(central_capture)
    assert MACHINE_POLICY in policies and len(policies) >= 6
    allowed = sorted(
        name
        for name, document in policies.items()
        if evaluate(document, _pass(admin_role_arn), resource_policy=False) == "allow"
    )
    assert allowed == [MACHINE_POLICY]


def test_the_state_machine_passes_it_only_to_ssm_and_starts_only_the_org_patching_runbooks(
    central_capture: Any, admin_role_arn: str
) -> None:
    machine = _identity_policies(central_capture)[MACHINE_POLICY]

    def decide(request: Request) -> str:
        return evaluate(machine, request, resource_policy=False)

    assert decide(_pass(admin_role_arn)) == "allow"
    assert decide(_pass(admin_role_arn, "ec2.amazonaws.com")) == "implicit-deny"
    assert decide(_pass(f"arn:aws:iam::{HUB}:role/OrganizationAccountAccessRole")) == "implicit-deny"

    def start(document: str, region: str = REGION) -> str:
        resource = f"arn:aws:ssm:{region}:{HUB}:automation-definition/{document}:$DEFAULT"
        return decide(Request("arn:aws:sts::111111111111:assumed-role/m/x", "ssm:StartAutomationExecution", resource))

    assert start(naming.RUNBOOK_STANDALONE) == start(naming.RUNBOOK_ASG) == "allow"
    for other in ("AWS-RunShellScript", "AWS-UpdateCloudFormationStackWithApproval", "attacker-runbook"):
        assert start(other) == "implicit-deny", other
    assert start(naming.RUNBOOK_STANDALONE, "eu-west-1") == "implicit-deny"  # a copy in another Region


def test_ssm_takes_the_role_only_for_the_hub_home_region_automations(central_capture: Any) -> None:
    role = central_capture.one("aws:iam/role:Role", "hub-emergency-automation-administration")
    trust = json.loads(role.inputs["assumeRolePolicy"])

    def assume(account: str, region: str, principal: str = "service:ssm.amazonaws.com") -> str:
        context = {
            "aws:SourceAccount": account,
            "aws:SourceArn": f"arn:aws:ssm:{region}:{account}:automation-execution/0123-abcd",
        }
        return evaluate(trust, Request(principal, "sts:AssumeRole", role.outputs["arn"], context))

    assert assume(HUB, REGION) == "allow"
    assert assume("222222222222", REGION) == "implicit-deny"  # an automation of a child account
    assert assume(HUB, "eu-west-1") == "implicit-deny"  # not where the state machine starts waves
    assert assume(HUB, REGION, "service:states.amazonaws.com") == "implicit-deny"
    assert assume(HUB, REGION, f"arn:aws:iam::{HUB}:role/someone") == "implicit-deny"


def test_each_condition_key_is_one_the_service_authorization_reference_lists() -> None:
    privileges = {
        (service["prefix"], privilege["privilege"]): privilege["resource_types"]
        for service in parliament.iam_definition
        for privilege in service["privileges"]
    }
    pass_role = {key for entry in privileges[("iam", "PassRole")] for key in entry["condition_keys"]}
    assert "iam:PassedToService" in pass_role
    start = privileges[("ssm", "StartAutomationExecution")]
    assert [entry["resource_type"] for entry in start if entry["resource_type"]] == ["automation-definition*"]
    assert {key for entry in start for key in entry["condition_keys"]} == {"aws:RequestTag/${TagKey}", "aws:TagKeys"}
    # the approval gate's check of an "ask"
    assert "execution*" in [entry["resource_type"] for entry in privileges[("states", "GetExecutionHistory")]]
