"""The emergency state machine's poll loop knows every SSM Automation status.

The statuses come from botocore's SSM model (``AutomationExecutionStatus``), classified here once
by hand: a status botocore adds later fails :func:`test_every_status_is_classified` until someone
decides whether it is running, a success or a failure, and the ASL names it.
"""

from __future__ import annotations

import json
from typing import Any

import botocore.session

from components.hub.emergency_patching import ASL_FILE

#: Not terminal: the execution may still run (or wait for an approval, a schedule, a change calendar).
RUNNING = frozenset(
    {
        "Pending",
        "InProgress",
        "Waiting",
        "Cancelling",
        "PendingApproval",
        "Approved",
        "Scheduled",
        "RunbookInProgress",
        "PendingChangeCalendarOverride",
        "ChangeCalendarOverrideApproved",
    }
)
#: Terminal and successful.
SUCCESS = frozenset({"Success", "CompletedWithSuccess"})
#: Terminal and not proven successful (``Exited``: the runbook stopped early; nothing says it patched).
FAILURE = frozenset(
    {"Failed", "TimedOut", "Cancelled", "Rejected", "ChangeCalendarOverrideRejected", "CompletedWithFailure", "Exited"}
)


def botocore_statuses() -> frozenset[str]:
    model = botocore.session.get_session().get_service_model("ssm")
    return frozenset(model.shape_for("AutomationExecutionStatus").enum)


def _poll_states() -> dict[str, Any]:
    asl = json.loads(ASL_FILE.read_text())
    return dict(asl["States"]["RunWave"]["ItemProcessor"]["States"])


def _routes(choice: dict[str, Any]) -> dict[str, str]:
    """status -> next state, for a Choice whose rules all test ``$.poll.status`` by StringEquals."""
    routes: dict[str, str] = {}
    for rule in choice["Choices"]:
        for test in rule.get("Or", [rule]):
            assert test["Variable"] == "$.poll.status" and set(test) == {"Variable", "StringEquals"}, test
            assert test["StringEquals"] not in routes, f"{test['StringEquals']} is tested twice"
            routes[test["StringEquals"]] = rule["Next"]
    return routes


def test_every_status_is_classified() -> None:
    assert not (RUNNING & SUCCESS or RUNNING & FAILURE or SUCCESS & FAILURE)
    assert botocore_statuses() == RUNNING | SUCCESS | FAILURE


def test_the_poll_loop_waits_on_every_running_status_and_stops_on_every_terminal_one() -> None:
    states = _poll_states()
    routes = _routes(states["AutomationFinished"])
    assert set(routes) == botocore_statuses()  # every status is named: none reaches the Default by accident
    assert {status for status, target in routes.items() if target == "WaitForAutomation"} == RUNNING
    assert {status for status, target in routes.items() if target == "ListFailedLocations"} == SUCCESS | FAILURE
    # a status newer than botocore's model stops the rollout rather than polling forever or passing
    assert states["AutomationFinished"]["Default"] == "ListFailedLocations"


def test_only_successful_statuses_count_as_success() -> None:
    choice = _poll_states()["Succeeded?"]
    routes = _routes(choice)
    assert routes == dict.fromkeys(SUCCESS, "AutomationSucceeded")
    assert choice["Default"] == "AutomationFailed"


def test_the_rebake_polls_on_the_same_running_statuses() -> None:
    """The rebake's own wait (an executeScript step, components/runbooks/asg_rebake.py) keeps its copy of the
    running statuses (the script runs in SSM, away from this package); it must be this classification,
    plus ``Exiting`` (named as not terminal in the SSM console, absent from botocore's enum)."""
    from components.runbooks import asg_rebake

    assert set(asg_rebake.RUNNING) - {"Exiting"} == RUNNING
