"""Patch-event forwarding in the child stack: one rule and one target per account-region, one role
per account, within issue 16's allowance; the pattern forwards exactly the patch events."""

from __future__ import annotations

import json
from typing import Any

import pytest
from moto.events.models import EventPattern

from components import event_patterns, naming
from tests.policy_eval import role_policy_documents

REGIONS = ["us-east-1", "eu-west-1", "eu-central-1", "ap-southeast-2"]
SIX_OS = ["AMAZON_LINUX_2", "AMAZON_LINUX_2023", "REDHAT_ENTERPRISE_LINUX", "UBUNTU", "WINDOWS", "SUSE"]
#: What issue 16 allows the forwarding per account-region (2 accounts x 4 regions).
ALLOWANCE = 2.25


def forwarding(capture: Any) -> list[Any]:
    by_urn = capture.by_urn
    return [
        r
        for r in capture.resources
        if r.custom and r.type.startswith("aws:") and by_urn[r.parent].type == "org-patching:spoke:PatchEventForwarding"
    ]


def test_forwarding_stays_within_its_allowance(render_child: Any) -> None:
    capture = render_child(regions=REGIONS, patching={"operatingSystems": SIX_OS})
    mine = forwarding(capture)
    assert len(mine) / (2 * len(REGIONS)) <= ALLOWANCE
    # the role is the account's EventBridge role (AccountBaseline's event-forwarding role), not one of its own
    assert sorted(r.type for r in mine) == sorted(
        ["aws:cloudwatch/eventRule:EventRule"] * 8 + ["aws:cloudwatch/eventTarget:EventTarget"] * 8
    )


def test_every_account_region_forwards_to_the_hub_bus_with_the_role(child_capture: Any, child_config: Any) -> None:
    mine = forwarding(child_capture)
    rules = [r for r in mine if r.type == "aws:cloudwatch/eventRule:EventRule"]
    targets = [r for r in mine if r.type == "aws:cloudwatch/eventTarget:EventTarget"]
    expected = {(a.id, region) for a in child_config.accounts for region in child_config.regions_of(a)}
    assert {(child_capture.account_of(r), r.inputs["region"]) for r in rules} == expected
    for rule in rules:
        assert rule.inputs["name"] == naming.PATCH_EVENT_FORWARDING_RULE
        assert json.loads(rule.inputs["eventPattern"]) == event_patterns.forwarded_pattern()
    for target in targets:
        assert target.inputs["arn"].endswith(f":{child_config.central_account_id}:event-bus/{naming.PATCH_EVENT_BUS}")
        assert target.inputs["roleArn"] == (
            f"arn:aws:iam::{child_capture.account_of(target)}:role/{naming.EVENT_FORWARDING_ROLE}"
        )


def test_the_role_may_only_put_events_on_the_hub_bus_and_its_home_bus(child_capture: Any, child_config: Any) -> None:
    roles = [r for r in child_capture.of_type("aws:iam/role:Role") if r.inputs["name"] == naming.EVENT_FORWARDING_ROLE]
    assert len(roles) == len(child_config.accounts)
    for role in roles:
        account = child_capture.account_of(role)
        [trust] = json.loads(role.inputs["assumeRolePolicy"])["Statement"]
        assert trust["Principal"] == {"Service": "events.amazonaws.com"}
        assert trust["Condition"]["StringEquals"]["aws:SourceAccount"] == account
        [text] = role_policy_documents(child_capture, role)
        statements = json.loads(text)["Statement"]
        assert {a for s in statements for a in s["Action"]} == {"events:PutEvents"}
        assert sorted(r for s in statements for r in s["Resource"]) == sorted(
            [
                f"arn:aws:events:{child_config.home_region}:{account}:event-bus/default",
                f"arn:aws:events:us-east-1:{child_config.central_account_id}:event-bus/{naming.PATCH_EVENT_BUS}",
            ]
        )


def matches(pattern: dict[str, Any], event: dict[str, Any]) -> bool:
    """moto's EventBridge matcher (it implements ``$or``, ``prefix`` and nested detail keys)."""
    return bool(EventPattern.load(json.dumps(pattern)).matches_event(event))  # type: ignore[arg-type]


def ssm(detail_type: str, detail: dict[str, Any], source: str = "aws.ssm") -> dict[str, Any]:
    return {
        "source": source,
        "detail-type": detail_type,
        "account": "222222222222",
        "region": "eu-west-1",
        "detail": detail,
    }


FORWARDED = [
    ssm(event_patterns.COMMAND_INVOCATION, {"document-name": "AWS-RunPatchBaseline", "status": "Failed"}),
    ssm(event_patterns.COMMAND, {"document-name": "AWS-RunPatchBaseline", "status": "Success"}),
    ssm(event_patterns.COMPLIANCE, {"compliance-type": "Patch", "compliance-status": "non_compliant"}),
    ssm(event_patterns.AUTOMATION, {"Definition": naming.RUNBOOK_ASG, "Status": "Failed"}),
    ssm(event_patterns.WINDOW_TASK, {"window-id": "mw-0123456789abcdef0", "status": "SUCCESS"}),
    ssm(
        event_patterns.CUSTOM_RESOURCE,
        {"resource-type": "Custom::WindowTagging", "status-details": {"status": "CREATE_FAILED"}},
        source="aws.cloudformation",
    ),
]
NOT_FORWARDED = [
    ssm(event_patterns.COMMAND_INVOCATION, {"document-name": "AWS-RunShellScript", "status": "Success"}),
    ssm(event_patterns.COMPLIANCE, {"compliance-type": "Association", "compliance-status": "compliant"}),
    ssm(event_patterns.AUTOMATION, {"Definition": "AWS-RestartEC2Instance", "Status": "Failed"}),
    ssm(
        event_patterns.CUSTOM_RESOURCE,
        {"resource-type": "Custom::WindowTagging", "status-details": {"status": "CREATE_COMPLETE"}},
        source="aws.cloudformation",
    ),
    ssm(
        event_patterns.CUSTOM_RESOURCE,
        {"resource-type": "AWS::SSM::MaintenanceWindow", "status-details": {"status": "CREATE_FAILED"}},
        source="aws.cloudformation",
    ),
    ssm("EC2 Instance State-change Notification", {"state": "running"}, source="aws.ec2"),
]


@pytest.mark.parametrize("event", FORWARDED, ids=lambda e: e["detail-type"])
def test_patch_events_are_forwarded(event: dict[str, Any]) -> None:
    assert matches(event_patterns.forwarded_pattern(), event)
    assert matches(event_patterns.archive_pattern(), event)


@pytest.mark.parametrize("event", NOT_FORWARDED, ids=lambda e: e["detail-type"])
def test_other_events_stay_in_the_account(event: dict[str, Any]) -> None:
    assert not matches(event_patterns.forwarded_pattern(), event)
