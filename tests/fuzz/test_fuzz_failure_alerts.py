"""Fuzz the failure-alerts function (one alert per failure, deduplicated in DynamoDB) on the emulator.

Inputs: every failure event the hub's rules send it (a window task FAILED, a patching runbook's Automation
Failed, the emergency rollout's stop and its state machine's FAILED, a custom resource's ``*_FAILED``, the child
functions' alarm entering ALARM), each with zero to three defects, and any JSON. Invariants: nothing escapes (a
malformed or non-failure event is answered ``alerted: False``); an event that is not alerted writes nothing
(a duplicate only tries its claim); and a dedupe claim is written only for a well-formed event: an account id and
a region by patterns written here, and an execution every part of which is named (a claim keyed on an empty id
would swallow every later failure that lacks one).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from components import naming
from tests.fuzz import invariants, mutations, strategies
from tests.fuzz.emulator import ACCOUNT, REGION, Emulator, WriteCounter, lambda_module, running_as
from tests.fuzz.emulator import context as fuzz_context

TARGET = "lambda failure_alerts (failure events)"
app = lambda_module("failure_alerts")
CHILD = "222222222222"
MACHINE = f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:{naming.EMERGENCY_STATE_MACHINE}"
EXECUTION = f"arn:aws:states:{REGION}:{ACCOUNT}:execution:{naming.EMERGENCY_STATE_MACHINE}:zero-day"


@dataclass
class World:
    emulator: Emulator
    counter: WriteCounter


@pytest.fixture(scope="module")
def world() -> Iterator[World]:
    mp = pytest.MonkeyPatch()
    with Emulator() as emulator:
        session = emulator.session(ACCOUNT, REGION)
        session.client("dynamodb").create_table(
            TableName=naming.FAILURE_ALERTS_TABLE,
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        )
        topic = session.client("sns").create_topic(Name="org-patching-alerts")["TopicArn"]
        for name, value in {
            "ALERT_TOPIC_ARN": topic,
            "DEDUPE_TABLE": naming.FAILURE_ALERTS_TABLE,
            "DEDUPE_DAYS": "14",
            "RUNBOOKS": f"{naming.RUNBOOK_STANDALONE},{naming.RUNBOOK_ASG}",
            "SUPPRESSED_STARTERS": f"{naming.MAINTENANCE_WINDOW_ROLE},{naming.AUTOMATION_ADMINISTRATION_ROLE}",
            "EMERGENCY_STATE_MACHINE_ARN": MACHINE,
            "CHILD_ALARM": naming.CHILD_FUNCTIONS_ALARM,
        }.items():
            mp.setenv(name, value)
        yield World(emulator, WriteCounter())
    mp.undo()


def _event(detail_type: str, source: str, detail: dict[str, Any], account: str = CHILD) -> dict[str, Any]:
    return {
        "version": "0",
        "id": "d290ece9-1088-4383-9df6-cd5b4ac42b99",
        "detail-type": detail_type,
        "source": source,
        "account": account,
        "time": "2026-11-27T05:40:00Z",
        "region": REGION,
        "resources": [],
        "detail": detail,
    }


#: One event of every failure the function alerts (the shapes of tests/lambda_src/test_failure_alerts.py).
VALID: list[dict[str, Any]] = [
    _event(
        app.WINDOW_TASK,
        "aws.ssm",
        {
            "start-time": "2026-11-27T05:00:01Z",
            "task-execution-id": "6417e808-7f35-4d1a-843f-123456789012",
            "end-time": "2026-11-27T05:40:00Z",
            "window-id": "mw-0ed7251d3fcf6e0c2",
            "window-execution-id": "14bea65d-5ccc-462d-a2f3-e99c8EXAMPLE",
            "status": "FAILED",
        },
    ),
    _event(
        app.AUTOMATION,
        "aws.ssm",
        {
            "ExecutionId": "333ba70b-2333-48db-b17e-a5e69c6f4d1c",
            "Definition": naming.RUNBOOK_ASG,
            "DefinitionVersion": 1.0,
            "Status": "Failed",
            "ExecutedBy": f"arn:aws:iam::{CHILD}:user/ops",
            "ErrorMessage": "Step fails when it is verifying the instance refresh",
        },
    ),
    _event(
        app.ROLLOUT_FINISHED,
        naming.EVENT_SOURCE,
        {"status": "WaveErrorThresholdExceeded", "stopped_at_wave": "Test", "execution": EXECUTION},
        account=ACCOUNT,
    ),
    _event(
        app.STATE_MACHINE,
        "aws.states",
        {"executionArn": EXECUTION, "stateMachineArn": MACHINE, "status": "TIMED_OUT", "error": "States.Timeout"},
        account=ACCOUNT,
    ),
    _event(
        app.CUSTOM_RESOURCE,
        "aws.cloudformation",
        {
            "stack-id": f"arn:aws:cloudformation:{REGION}:{CHILD}:stack/SC-{CHILD}-pp-abc/1",
            "logical-resource-id": "WindowTagging",
            "resource-type": "Custom::WindowTagging",
            "status-details": {"status": "CREATE_FAILED", "status-reason": "window mw-0123 not found"},
        },
    ),
    _event(
        app.ALARM_STATE,
        "aws.cloudwatch",
        {
            "alarmName": naming.CHILD_FUNCTIONS_ALARM,
            "state": {"value": "ALARM", "reason": "Threshold Crossed", "timestamp": "2026-11-29T10:00:00.000+0000"},
        },
    ),
]
events = strategies.as_delivered(st.one_of(st.sampled_from(VALID).flatmap(mutations.mutate), strategies.json_values))

#: Written apart from the function's own checks (ASCII only).
_ACCOUNT = re.compile(r"[0-9]{12}", re.ASCII)
_REGION = re.compile(r"[a-z]{2}(-[a-z]+)+-[0-9]", re.ASCII)


def _claimable(event: Any, key: str) -> bool:
    """A claim's key ``<account>:<region>:<execution>`` of a well-formed event."""
    account, region, execution = [*key.split(":", 2), "", ""][:3]
    return (
        isinstance(event, dict)
        and bool(_ACCOUNT.fullmatch(account) and _REGION.fullmatch(region))
        and (event.get("account"), event.get("region")) == (account, region)
        and all(part.strip() for part in execution.split("/"))
    )


@invariants.fuzz_settings(quick_examples=15)
@given(event=events)
@example(event={**VALID[0], "detail": {**VALID[0]["detail"], "status": ["FAILED"]}})
@example(event={**VALID[3], "detail": {**VALID[3]["detail"], "error": {"Cause": "x"}}})
@example(event={**VALID[0], "account": None})
@example(event={**VALID[0], "region": "eu-west-1\n"})
@example(event={**VALID[0], "detail": {**VALID[0]["detail"], "task-execution-id": "", "window-execution-id": ""}})
@example(event={**VALID[5], "detail": {**VALID[5]["detail"], "state": {"value": "ALARM"}}})
@example(event={**VALID[4], "detail": {**VALID[4]["detail"], "stack-id": "", "logical-resource-id": ""}})
def test_failure_alerts_handler(world: World, event: Any) -> None:
    case = invariants.case(TARGET)
    world.counter.reset()
    with running_as(world.emulator, world.counter):
        try:
            result = app.handler(event, fuzz_context(app.SERVICE))
        except Exception as error:  # nothing is documented to escape for an event (AWS errors are retried)
            case.check(invariants.NO_ESCAPE, False, f"{type(error).__name__}: {error}")
            raise
    case.check(invariants.NO_ESCAPE, isinstance(result, dict) and isinstance(result.get("alerted"), bool), result)
    claimed = world.counter.writes["PutItem"] > 0
    if claimed or result["alerted"]:
        case.check(invariants.NO_CLAIM, _claimable(event, str(result.get("key", ""))), (result, event))
    if not result["alerted"] and result.get("why") != "already alerted":
        case.check(invariants.ZERO_WRITES, world.counter.total == 0, dict(world.counter.writes))
