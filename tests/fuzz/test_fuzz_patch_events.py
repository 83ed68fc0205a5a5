"""Fuzz the patch-events function (the hub's archive of forwarded patch events) on the emulator.

Inputs: the EventBridge events the spokes forward (SSM Run Command invocations, compliance changes, the patching
runbooks' Automation status changes, maintenance-window task state changes), each with zero to three defects,
and any JSON. Invariants: nothing escapes (a bad event is answered ``{"written": 0, "refused": ...}``, one line),
a refused event writes nothing, and a filed event was well-formed by patterns written here, apart from the
function's, with its S3 key inside the table's partitions.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from tests.fuzz import invariants, mutations, strategies
from tests.fuzz.emulator import ACCOUNT, REGION, Emulator, WriteCounter, lambda_module, running_as
from tests.fuzz.emulator import context as fuzz_context

TARGET = "lambda patch_events (forwarded EventBridge events)"
app = lambda_module("patch_events")
BUCKET = "org-patching-patch-events-fuzz"
CHILD = "222222222222"
INSTANCE = "i-0123456789abcdef0"


@dataclass
class World:
    emulator: Emulator
    counter: WriteCounter


@pytest.fixture(scope="module")
def world() -> Iterator[World]:
    mp = pytest.MonkeyPatch()
    with Emulator() as emulator:
        mp.setenv("EVENTS_BUCKET", BUCKET)
        mp.setenv("EVENTS_PREFIX", "events")
        session = emulator.session(ACCOUNT, REGION)
        session.client("s3").create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
        yield World(emulator, WriteCounter())
    mp.undo()


def _event(detail_type: str, source: str, detail: dict[str, Any], resources: list[str]) -> dict[str, Any]:
    return {
        "version": "0",
        "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
        "detail-type": detail_type,
        "source": source,
        "account": CHILD,
        "time": "2026-11-27T05:12:41Z",
        "region": REGION,
        "resources": resources,
        "detail": detail,
    }


#: The events the spokes forward, as the SSM user guide's EventBridge examples show them.
VALID: list[dict[str, Any]] = [
    _event(
        "EC2 Command Invocation Status-change Notification",
        "aws.ssm",
        {
            "command-id": "e8d3c0e4-71f7-4491-898f-c9b35bee5f3b",
            "document-name": "AWS-RunPatchBaseline",
            "instance-id": INSTANCE,
            "requested-date-time": "2026-11-27T05:10:02.000Z",
            "status": "Success",
        },
        [f"arn:aws:ec2:{REGION}:{CHILD}:instance/{INSTANCE}"],
    ),
    _event(
        "Configuration Compliance State Change",
        "aws.ssm",
        {
            "last-runtime": "2026-11-27T05:13:00Z",
            "compliance-status": "non_compliant",
            "resource-type": "managed-instance",
            "resource-id": INSTANCE,
            "compliance-type": "Patch",
            "patch-baseline-id": "pb-0c10e65780EXAMPLE",
            "serverity": "critical",
        },
        [f"arn:aws:ssm:{REGION}:{CHILD}:managed-instance/{INSTANCE}"],
    ),
    _event(
        "EC2 Automation Execution Status-change Notification",
        "aws.ssm",
        {
            "ExecutionId": "333ba70b-2333-48db-b17e-a5e69c6f4d1c",
            "Definition": "OrgPatching-PatchAutoScalingGroups",
            "DefinitionVersion": 1.0,
            "Status": "Failed",
            "StartTime": "Nov 27, 2026 5:10:20 AM",
            "EndTime": "Nov 27, 2026 5:40:26 AM",
            "ExecutedBy": f"arn:aws:iam::{CHILD}:user/ops",
        },
        [],
    ),
    _event(
        "Maintenance Window Task Execution State-change Notification",
        "aws.ssm",
        {
            "start-time": "2026-11-27T05:00:01Z",
            "task-execution-id": "6417e808-7f35-4d1a-843f-123456789012",
            "end-time": "2026-11-27T05:40:00Z",
            "window-id": "mw-0ed7251d3fcf6e0c2",
            "window-execution-id": "14bea65d-5ccc-462d-a2f3-e99c8EXAMPLE",
            "status": "FAILED",
        },
        [],
    ),
]
events = strategies.as_delivered(st.one_of(st.sampled_from(VALID).flatmap(mutations.mutate), strategies.json_values))

#: Written apart from the function's own patterns: what a filed event must carry (ASCII only).
_ID = re.compile(r"[A-Za-z0-9-]{1,64}", re.ASCII)
_ACCOUNT = re.compile(r"[0-9]{12}", re.ASCII)
_REGION = re.compile(r"[a-z]{2}(-[a-z]+)+-[0-9]", re.ASCII)
_KEY = re.compile(r"events/accountid=[0-9]{12}/region=[a-z0-9-]+/dt=[0-9]{4}-[0-9]{2}-[0-9]{2}/[A-Za-z0-9-]+\.json")


def _well_formed(event: Any) -> bool:
    return (
        isinstance(event, dict)
        and all(isinstance(event.get(k), str) for k in ("id", "account", "region", "time"))
        and bool(_ID.fullmatch(event["id"]) and _ACCOUNT.fullmatch(event["account"]))
        and bool(_REGION.fullmatch(event["region"]))
        and isinstance(event.get("detail"), dict)
    )


@invariants.fuzz_settings(quick_examples=15)
@given(event=events)
@example(event={**VALID[0], "time": "0001-01-01T00:00:00+05:00"})
@example(event={**VALID[0], "time": "9999-12-31T23:59:59-05:00"})
@example(event={**VALID[0], "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718\n"})
@example(event={**VALID[0], "account": "٢٢٢٢٢٢٢٢٢٢٢٢"})
def test_patch_events_handler(world: World, event: Any) -> None:
    case = invariants.case(TARGET)
    world.counter.reset()
    with running_as(world.emulator, world.counter):
        try:
            result = app.handler(event, fuzz_context(app.SERVICE))
        except Exception as error:  # nothing is documented to escape: a bad event is refused
            case.check(invariants.NO_ESCAPE, False, f"{type(error).__name__}: {error}")
            raise
    case.check(invariants.NO_ESCAPE, isinstance(result, dict) and result.get("written") in (0, 1), result)
    if result.get("duplicate"):  # filed before: the redelivery's conditional put is refused and changes nothing
        filed = _well_formed(event) and bool(_KEY.fullmatch(result["key"]))
        unchanged = world.counter.writes == {"PutObject": 1} and sum(world.counter.changes.values()) == 0
        case.check(invariants.WELL_FORMED, filed and unchanged, (result, event))
    elif result["written"] == 0:
        case.check(invariants.ONE_LINE, invariants.one_line(str(result.get("refused", ""))), result)
        case.check(invariants.ZERO_WRITES, world.counter.total == 0, dict(world.counter.writes))
    else:
        filed = _well_formed(event) and bool(_KEY.fullmatch(result["key"]))
        case.check(invariants.WELL_FORMED, filed and world.counter.writes == {"PutObject": 1}, (result, event))
