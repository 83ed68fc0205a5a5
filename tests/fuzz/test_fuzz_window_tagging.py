"""Fuzz the window-tagging custom resource with arbitrary CloudFormation events on the emulator.

Invariants: the handler never raises; whenever the event carries a usable ResponseURL, CloudFormation gets
exactly one answer (SUCCESS or FAILED, its RequestId echoed, a physical id, under CloudFormation's 4,096-byte
limit); an invalid request (or a Delete with nothing to undo) writes nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from tests import aws
from tests.cfn_response import ResponseRecorder
from tests.fuzz import invariants, mutations, strategies
from tests.fuzz.emulator import ACCOUNT, REGION, Emulator, WriteCounter, lambda_module, running_as
from tests.fuzz.emulator import context as fuzz_context

TARGET = "lambda window_tagging (custom resource events)"
app = lambda_module("window_tagging")
#: CloudFormation rejects a response body over 4,096 bytes (the stack then waits for its timeout).
MAX_RESPONSE_BYTES = 4096
USE_SERVER = "<the recorder's url>"


@dataclass
class World:
    emulator: Emulator
    counter: WriteCounter
    cloudformation: ResponseRecorder


@pytest.fixture(scope="module")
def world() -> Iterator[World]:
    recorder = ResponseRecorder()
    try:
        with Emulator() as emulator:
            session = emulator.session(ACCOUNT, REGION)
            aws.run_instances(session, {"environment": "Prod"}, count=2)
            aws.run_instances(session, {"environment": "dev", "maintenance_window": "Dev_maintenance_window"})
            aws.create_asg(session, "prod-asg", {"environment": "Prod"}, desired=0)
            yield World(emulator, WriteCounter(), recorder)
    finally:
        recorder.close()


properties = st.one_of(
    strategies.with_extra(
        strategies.maybe_missing(
            {
                "ServiceToken": st.just("arn:aws:lambda:eu-west-1:111111111111:function:window-tagging"),
                "Environment": strategies.environments,
                "WindowName": strategies.mutated(
                    st.sampled_from(("Prod_maintenance_window", "Dev_maintenance_window", "Default_maintenance_window"))
                ),
                "IncludeASG": strategies.mutated(st.sampled_from(("Yes", "No", "true", "false"))),
            }
        )
    ),
    strategies.json_values,
)
# CloudFormation's own fields are bounded (ids of at most a few hundred characters): fuzz their content, not size.
bounded_text = st.one_of(st.text(max_size=60), strategies.json_scalars)
events = st.one_of(
    strategies.with_extra(
        strategies.maybe_missing(
            {
                "RequestType": strategies.mutated(st.sampled_from(("Create", "Update", "Delete"))),
                "ResponseURL": st.one_of(
                    st.just(USE_SERVER), st.just(USE_SERVER), st.sampled_from(("", "ftp://x", "s3://b/k")), st.none()
                ),
                "StackId": st.one_of(
                    st.just("arn:aws:cloudformation:eu-west-1:111111111111:stack/SC-1-pp-abc/uuid"), bounded_text
                ),
                "RequestId": bounded_text,
                "LogicalResourceId": st.one_of(st.just("EC2Tagging"), bounded_text),
                "PhysicalResourceId": bounded_text,
                "ResourceType": st.just("Custom::EC2Tagging"),
                "ResourceProperties": properties,
                "OldResourceProperties": properties,
            }
        )
    ),
    strategies.json_values,
)


#: Valid events as CloudFormation sends them, for each request type: mutated, they reach the writing path.
VALID: list[dict[str, Any]] = [
    {
        "RequestType": request_type,
        "ResponseURL": USE_SERVER,
        "StackId": "arn:aws:cloudformation:eu-west-1:111111111111:stack/SC-1-pp-abc/uuid",
        "RequestId": f"req-{request_type}",
        "LogicalResourceId": "EC2Tagging",
        "ResourceType": "Custom::EC2Tagging",
        "ResourceProperties": {"Environment": env, "WindowName": f"{env}_maintenance_window", "IncludeASG": "Yes"},
        "OldResourceProperties": {"Environment": "Dev", "WindowName": "Dev_maintenance_window"},
    }
    for request_type in ("Create", "Update", "Delete")
    for env in ("Prod", "Dev")
]
events = st.one_of(st.sampled_from(VALID).flatmap(mutations.mutate), events)


def _usable(event: Any) -> bool:
    return isinstance(event, dict) and event.get("ResponseURL") == USE_SERVER


@invariants.fuzz_settings(quick_examples=25)
@given(event=events)
@example(event={"RequestType": "Create", "ResponseURL": USE_SERVER, "ResourceProperties": {"Environment": "é" * 900}})
@example(event={"RequestType": "Delete", "ResponseURL": USE_SERVER, "ResourceProperties": {"Environment": 7}})
def test_window_tagging_handler(world: World, event: Any) -> None:
    case = invariants.case(TARGET)
    usable = _usable(event)
    if usable:
        event = {**event, "ResponseURL": world.cloudformation.url}
    world.counter.reset()
    answers_before = len(world.cloudformation.bodies)
    with running_as(world.emulator, world.counter):
        try:
            body = app.handler(event, fuzz_context("org-patching-window_tagging"))
        except Exception as error:
            case.check(invariants.NO_ESCAPE, False, f"{type(error).__name__}: {error}")
            raise
    case.check(invariants.NO_ESCAPE, isinstance(body, dict) and body.get("Status") in ("SUCCESS", "FAILED"), body)
    if usable:
        answers = world.cloudformation.bodies[answers_before:]
        size = world.cloudformation.sizes[-1] if answers else 0
        answered = (
            len(answers) == 1
            and answers[0]["Status"] in ("SUCCESS", "FAILED")
            and answers[0]["RequestId"] == event.get("RequestId", "")
            and isinstance(answers[0]["PhysicalResourceId"], str)
            and answers[0]["PhysicalResourceId"] != ""
            and size <= MAX_RESPONSE_BYTES
        )
        case.check(invariants.ALWAYS_ANSWERS, answered, (size, answers))
    reason = str(body.get("Reason", ""))
    if reason.startswith(("invalid request:", "nothing to undo")):
        case.check(invariants.ZERO_WRITES, world.counter.total == 0, dict(world.counter.writes))
