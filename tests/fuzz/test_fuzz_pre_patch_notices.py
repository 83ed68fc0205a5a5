"""Fuzz the pre-patch notices function (the hub's periodic check of every child's windows) on the emulator.

Inputs: the scheduled event EventBridge sends (``Scheduled Event`` from ``aws.events`` with its ``time``), timed
before a child's window runs, with zero to three defects, an event by hand (``{}``: the clock) and any JSON.
The world: the hub's dedupe table and notice topic, a child account with a team window and instances.
Invariants: nothing escapes (``NoticeError`` is documented for an unreadable account-region; here all are
readable); an event that is not an object or whose ``time`` is not even shaped like a time (checked by a
pattern written here) is refused with one line, with zero AWS writes and no dedupe claim.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from tests import aws
from tests.fuzz import invariants, mutations, strategies
from tests.fuzz.emulator import ACCOUNT, REGION, Emulator, WriteCounter, lambda_module, running_as
from tests.fuzz.emulator import context as fuzz_context

TARGET = "lambda pre_patch_notices (scheduled events)"
app = lambda_module("pre_patch_notices")
CHILD = "222222222222"
TABLE = "org-patching-failure-alerts"
PREFIX = f"arn:aws:sns:{REGION}:{ACCOUNT}:org-patching-notices"
WINDOW = "Prod_payments_maintenance_window"
#: Stands for "one hour before the child's window runs" (the emulator's schedule starts at its clock).
BEFORE_RUN = "<an hour before the window runs>"


@dataclass
class World:
    emulator: Emulator
    counter: WriteCounter
    before_run: str


@pytest.fixture(scope="module")
def world() -> Iterator[World]:
    mp = pytest.MonkeyPatch()
    with Emulator() as emulator:
        hub = emulator.session(ACCOUNT, REGION)
        hub.client("dynamodb").create_table(
            TableName=TABLE,
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        )
        for team in ("platform", "payments"):
            hub.client("sns").create_topic(Name=f"org-patching-notices-{team}")
        child = emulator.session(CHILD, REGION)
        window_id = aws.create_window(child, WINDOW)
        aws.run_instances(child, {"maintenance_window": WINDOW, "patch_team": "payments"}, count=2)
        found = child.client("ssm").get_maintenance_window(WindowId=window_id)
        runs_at = app.parse_time(str(found["NextExecutionTime"]))
        assert runs_at is not None
        for name, value in {
            "ACCOUNTS": CHILD,
            "REGIONS": REGION,
            "READER_ROLE": "org-patching-notice-reader",
            "TOPIC_ARN_PREFIX": PREFIX,
            "TEAMS": "payments",
            "DEFAULT_TEAM": "platform",
            "DEDUPE_TABLE": TABLE,
        }.items():
            mp.setenv(name, value)
        yield World(emulator, WriteCounter(), f"{runs_at - timedelta(hours=1):%Y-%m-%dT%H:%M:%SZ}")
    mp.undo()


SCHEDULED: dict[str, Any] = {
    "version": "0",
    "id": "89d1a02d-5ec7-412e-82f5-13505f849b41",
    "detail-type": "Scheduled Event",
    "source": "aws.events",
    "account": ACCOUNT,
    "time": BEFORE_RUN,
    "region": REGION,
    "resources": [f"arn:aws:events:{REGION}:{ACCOUNT}:rule/org-patching-pre-patch-notices"],
    "detail": {},
}
times = st.one_of(
    st.just(BEFORE_RUN),
    st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30)).map(lambda t: f"{t:%Y-%m-%dT%H:%M}Z"),
    strategies.mutated(st.just("2026-12-05T01:00:00Z")),
)
events = strategies.as_delivered(
    st.one_of(
        st.just(SCHEDULED).flatmap(mutations.mutate),
        st.builds(lambda t: {**SCHEDULED, "time": t}, times),
        st.just({}),
        strategies.json_values,
    )
)
#: Written apart from the function: what is at least shaped like an ISO-8601 time (ASCII digits).
_TIME_SHAPE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}([T ][0-9:.]+)?(Z|[+-][0-9:]+)?", re.ASCII)


def _refusable(event: Any) -> bool:
    """Certainly not a scheduled event: not an object, or a ``time`` that is not shaped like a time."""
    if not isinstance(event, dict):
        return True
    return "time" in event and not (isinstance(event["time"], str) and _TIME_SHAPE.fullmatch(event["time"]))


@invariants.fuzz_settings(quick_examples=10)
@given(event=events)
@example(event={**SCHEDULED, "time": "9999-12-31T23:00:00Z"})
@example(event={**SCHEDULED, "time": "0001-01-01T00:00:00+05:00"})
@example(event={**SCHEDULED, "time": "next saturday"})
@example(event=["not", "an", "object"])
def test_pre_patch_notices_handler(world: World, event: Any) -> None:
    case = invariants.case(TARGET)
    if isinstance(event, dict) and event.get("time") == BEFORE_RUN:
        event = {**event, "time": world.before_run}
    world.counter.reset()
    with running_as(world.emulator, world.counter):
        try:
            result = app.handler(event, fuzz_context(app.SERVICE))
        except Exception as error:  # every account-region here is readable: not even NoticeError
            case.check(invariants.NO_ESCAPE, False, f"{type(error).__name__}: {error}")
            raise
    case.check(invariants.NO_ESCAPE, isinstance(result, dict) and isinstance(result.get("sent"), list), result)
    if "refused" in result or _refusable(event):
        case.check(invariants.ONE_LINE, invariants.one_line(str(result.get("refused", ""))), (result, event))
        case.check(invariants.ZERO_WRITES, world.counter.total == 0, dict(world.counter.writes))
        case.check(invariants.NO_CLAIM, world.counter.writes["PutItem"] == 0 and not result["sent"], result)
