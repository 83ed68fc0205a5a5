"""Issue 16 item 4: Inspector findings into emergency requests, on the emulator with the documented event shape.

The emergency hub is ``tests/hub/test_emergency_state_machine.py``'s; the Inspector rule is deployed from the
component's pattern, policy and environment (``devkit/demo/inspector.py``), and findings are put on the hub's
default bus as Inspector publishes them (``devkit/demo/inspector_finding.json``: the shape of the documented
"Amazon EC2 package vulnerability finding" example, Amazon Inspector User Guide, "Amazon EventBridge event schema
for Amazon Inspector events", https://docs.aws.amazon.com/inspector/latest/user/eventbridge-integration.html).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any

import pytest
import tag_contract

from components import naming
from components.config import CentralConfig, InspectorConfig
from components.hub.inspector_rule import event_pattern
from devkit.demo.inspector import InspectorDeployment, deploy_inspector_rule, finding_event
from devkit.emulator import Emulator
from tests.hub.test_emergency_state_machine import ACCOUNTS, HUB, REGIONS, Hub, _build_hub

PG = tag_contract.PATCH_GROUP_TAG
INSTANCE = "i-0123456789abcdef0"
VALIDATE = "org-patching-emergency-validate"


@pytest.fixture(scope="module")
def deployed() -> Iterator[tuple[Hub, InspectorDeployment]]:
    """One hub for the module (each test uses its own instance ids, so dedupe keys never collide)."""
    with Emulator():
        hub = _build_hub()
        # the requests carry no poll interval (the configured one applies): poll at once on the emulator
        lam = hub.session.client("lambda")
        variables = lam.get_function_configuration(FunctionName=VALIDATE)["Environment"]["Variables"]
        lam.update_function_configuration(
            FunctionName=VALIDATE, Environment={"Variables": {**variables, "POLL_SECONDS": "0"}}
        )
        rule = deploy_inspector_rule(
            hub.session, InspectorConfig(enabled=True, minimum_severity="HIGH"), hub.approval_function, hub.machine_arn
        )
        yield hub, rule


def _event(instance: str = INSTANCE, wave: str | None = "Dev", **overrides: Any) -> dict[str, Any]:
    tags = {"Name": "web-1", **({PG: wave} if wave else {})}
    return finding_event(ACCOUNTS[0], REGIONS[0], instance, tags=tags, **overrides)


def test_the_documented_shape_is_what_the_fixture_carries() -> None:
    event = _event()
    assert (event["source"], event["detail-type"]) == ("aws.inspector2", "Inspector2 Finding")
    detail = event["detail"]
    assert {"findingArn", "awsAccountId", "severity", "status", "type", "fixAvailable", "resources"} <= set(detail)
    assert detail["resources"][0]["type"] == "AWS_EC2_INSTANCE" and detail["resources"][0]["details"]["awsEc2Instance"]
    pattern = event_pattern(InspectorConfig(enabled=True, minimum_severity="HIGH"))
    assert pattern["detail"]["severity"] == ["HIGH", "CRITICAL"]


def test_a_finding_starts_a_request_for_exactly_its_instance_through_the_gate(
    deployed: tuple[Hub, InspectorDeployment],
) -> None:
    hub, rule = deployed
    event = _event(instance="i-0aaaaaaaaaaaaaaa1", wave="Prod")
    outcome = rule.handle(event)
    assert outcome["status"] == "started", outcome
    instance_arn = f"arn:aws:ec2:{REGIONS[0]}:{ACCOUNTS[0]}:instance/i-0aaaaaaaaaaaaaaa1"
    assert (outcome["instance"], outcome["wave"]) == (instance_arn, "Prod")
    described = hub.session.client("stepfunctions").describe_execution(executionArn=outcome["execution_arn"])
    request = json.loads(described["input"])
    assert request["targets"] == {"instances": [instance_arn]}
    assert request["env"] == "Prod" and request["patching_operation"] == "Install"
    assert request["findings"] == [event["detail"]["findingArn"]] and request["vulnerabilities"] == ["CVE-2023-38408"]
    # started through the gate like a person's request: its requester is the function's role
    assert request["requested_by"] == f"arn:aws:sts::{HUB}:assumed-role/{naming.INSPECTOR_FINDINGS_FUNCTION}/lambda"
    # Prod waits for an approver (the configured approval); a repeat of the finding starts nothing meanwhile
    again = rule.handle(copy.deepcopy(event))
    assert again["status"] == "duplicate" and again["execution_arn"] == outcome["execution_arn"]
    other_finding = _event(instance="i-0aaaaaaaaaaaaaaa1", wave="Prod", finding_id="f" * 32)
    assert rule.handle(other_finding)["status"] == "duplicate"  # same CVE and instance, another finding ARN
    asked: list[str] = []
    result = hub.finish(outcome["execution_arn"], lambda body: (asked.append(body["wave"]), hub.approve(body)))
    assert result["status"] == "SUCCEEDED", result.get("cause")
    assert asked == ["Prod"]
    [parent] = [
        a
        for a in hub.automations()
        if "ParentAutomationExecutionId" not in a and a.get("Parameters", {}).get("InstanceIds")
    ]
    assert parent["Parameters"]["InstanceIds"] == ["i-0aaaaaaaaaaaaaaa1"]
    assert parent["TargetLocations"][0]["Accounts"] == [ACCOUNTS[0]]
    assert parent["TargetLocations"][0]["Regions"] == [REGIONS[0]]
    # the rollout ended: the same finding, still ACTIVE, starts a new one
    assert rule.handle(copy.deepcopy(event))["status"] == "started"


def test_the_rule_delivers_only_qualifying_findings(deployed: tuple[Hub, InspectorDeployment]) -> None:
    _, rule = deployed
    rule.put(_event(instance="i-0bbbbbbbbbbbbbbb1", severity="MEDIUM"))  # below HIGH: the pattern drops it
    rule.put(_event(instance="i-0bbbbbbbbbbbbbbb2", fixAvailable="NO"))
    rule.put(_event(instance="i-0bbbbbbbbbbbbbbb3"))  # qualifies: the rule invokes the function
    keys = {c["pk"] for c in rule.claims() if "i-0bbbbbbbbbbbbbbb" in c["pk"]}
    assert keys == {"inspector#CVE-2023-38408#i-0bbbbbbbbbbbbbbb3"}


@pytest.mark.parametrize(
    ("overrides", "status", "reason"),
    [
        ({"severity": "LOW"}, "skipped", "severity 'LOW' is below HIGH"),
        ({"severity": "UNTRIAGED"}, "skipped", "is below HIGH"),
        ({"fixAvailable": "PARTIAL"}, "skipped", "no fix to install"),
        ({"status": "CLOSED"}, "skipped", "is not ACTIVE"),
        ({"type": "NETWORK_REACHABILITY"}, "skipped", "is not PACKAGE_VULNERABILITY"),
        ({"awsAccountId": "12345"}, "rejected", "detail.awsAccountId: '12345' is not a 12-digit account id"),
        ({"findingArn": ""}, "rejected", "detail.findingArn: '' is not a non-empty string"),
        ({"packageVulnerabilityDetails": {}}, "rejected", "vulnerabilityId: None is not a non-empty string"),
        ({"resources": []}, "skipped", "0 EC2 instances in detail.resources"),
    ],
)
def test_bad_and_non_qualifying_findings_start_nothing(
    deployed: tuple[Hub, InspectorDeployment], overrides: dict[str, Any], status: str, reason: str
) -> None:
    hub, rule = deployed
    executions = hub.session.client("stepfunctions").list_executions(stateMachineArn=hub.machine_arn)["executions"]
    outcome = rule.handle(_event(instance="i-0ccccccccccccccc1", **overrides))
    assert outcome["status"] == status and reason in outcome["reason"], outcome
    assert len(outcome["reason"].splitlines()) == 1
    after = hub.session.client("stepfunctions").list_executions(stateMachineArn=hub.machine_arn)["executions"]
    assert len(after) == len(executions)
    assert not [c for c in rule.claims() if c["pk"].endswith("i-0ccccccccccccccc1")]


def test_unmanaged_exempt_and_asg_instances_and_other_events_are_not_patched(
    deployed: tuple[Hub, InspectorDeployment],
) -> None:
    _, rule = deployed
    no_group = rule.handle(_event(instance="i-0ddddddddddddddd1", wave=None))
    assert no_group["status"] == "skipped" and "not under the contract" in no_group["reason"]
    member = _event(instance="i-0ddddddddddddddd2")
    member["detail"]["resources"][0]["tags"]["aws:autoscaling:groupName"] = "web-asg"
    assert "its group is rebaked" in rule.handle(member)["reason"]
    bogus_wave = rule.handle(_event(instance="i-0ddddddddddddddd3", wave="Staging"))
    assert bogus_wave["status"] == "skipped"
    for event in ({"source": "aws.ec2", "detail-type": "x"}, ["not", "an", "object"], {"source": "aws.inspector2"}):
        outcome = rule.handle(event)  # type: ignore[arg-type]
        assert outcome["status"] == "rejected" and len(outcome["reason"].splitlines()) == 1, outcome
    bad_instance = _event(instance="vol-0123456789abcdef0")
    assert rule.handle(bad_instance)["status"] == "rejected"


def test_the_hub_creates_the_rule_only_when_enabled(central_config: CentralConfig) -> None:
    """Opt-in: the example central stack (default config) has no Inspector resources; enabled, one rule,
    one function and its role, all in the hub (nothing per account-region)."""
    from patchctl.stack_render import render_stack

    assert central_config.inspector.enabled is False
    enabled = central_config.model_copy(update={"inspector": InspectorConfig(enabled=True, minimum_severity="HIGH")})
    capture = render_stack(enabled)
    rules = capture.of_type("aws:cloudwatch/eventRule:EventRule")
    [rule] = [r for r in rules if r.inputs.get("name") == naming.INSPECTOR_FINDINGS_RULE]
    assert json.loads(rule.inputs["eventPattern"])["detail"]["severity"] == ["HIGH", "CRITICAL"]
    [function] = [
        r
        for r in capture.of_type("aws:lambda/function:Function")
        if r.inputs.get("name") == naming.INSPECTOR_FINDINGS_FUNCTION
    ]
    variables = function.inputs["environment"]["variables"]
    assert variables["MIN_SEVERITY"] == "HIGH" and variables["TABLE_NAME"] == naming.FAILURE_ALERTS_TABLE
    [policy] = [r for r in capture.of_type("aws:iam/rolePolicy:RolePolicy") if r.name == "hub-inspector"]
    statements = {s["Sid"]: s for s in json.loads(policy.inputs["policy"])["Statement"]}
    assert statements["StartThroughTheGate"]["Action"] == ["lambda:InvokeFunction"]
    assert "states:StartExecution" not in json.dumps(statements)
