"""Fuzz the emergency rollout's approval gate (``lambda_src/emergency_approval``) on the emulated hub.

The hub is ``tests/hub/test_emergency_state_machine.py``'s (the state machine, the gate's function, table and
topic, the runbooks), with the opt-in Inspector rule deployed as ``devkit/demo/inspector.py`` does.

Inputs: every action (``start``, ``ask``, ``approve``, ``reject``, others) with fields right, wrong or missing,
and an identity proof that is either signed for exactly that action (``alice`` starts, ``bob`` answers: the test
signs the binding of the drawn fields, so the fuzzed input reaches the code behind the proof) or anything else.
Invariants: only ``ApprovalRefused`` and ``InvalidProof`` escape (documented: their class names are the error
types ``patchctl emergency`` shows), in one line, and a refused action changes nothing in AWS (a conditional
write that AWS refused is counted as tried, not as a change).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from lambda_shared import caller_proof

from components.config import InspectorConfig
from devkit.demo.emergency import EmergencyHub
from devkit.demo.inspector import deploy_inspector_rule
from tests.fuzz import invariants, mutations, strategies
from tests.fuzz.emulator import Emulator, WriteCounter, lambda_module, running_as
from tests.fuzz.emulator import context as fuzz_context
from tests.hub.test_emergency_state_machine import HUB, REGION, Hub, _build_hub, request

GATE = "lambda emergency_approval (gate actions)"
gate_app = lambda_module("emergency_approval")
PROOF = "<a proof signed for this action>"
NONCES = ("0b7c3c4e-4f6a-4d2e-9a51-2f1f0c6f4e11", "5e3a9d1c-2b7f-4c8e-8d40-6a9b1c2d3e4f")


@dataclass
class World:
    emulator: Emulator
    hub: Hub
    counter: WriteCounter
    people: dict[str, Any]


@pytest.fixture(scope="module")
def world() -> Iterator[World]:
    mp = pytest.MonkeyPatch()
    with Emulator() as emulator:
        hub = _build_hub()
        config = InspectorConfig(enabled=True, minimum_severity="HIGH")
        deploy_inspector_rule(hub.session, config, hub.approval_function, hub.machine_arn)  # its table and role
        environment = {
            "TABLE_NAME": hub.approval_table,
            "TOPIC_ARN": hub.approval_topic,
            "STATE_MACHINE_ARN": hub.machine_arn,
            "CHANGE_CALENDAR": "",
        }
        for name, value in environment.items():
            mp.setenv(name, value)
        people = {name: hub.person(name) for name in ("alice", "bob")}
        yield World(emulator, hub, WriteCounter(), people)
    mp.undo()


def _settle(world: World, execution: Any, timeout: float = 600.0) -> None:
    """End a rollout the case started (its Prod wave rejected, as ``Hub.finish`` answers it) before the next case:
    the emulator runs an execution's Lambda tasks on a thread of its own with their environment swapped into
    ``os.environ``, which must not overlap the next case's handler; and the gate's fuzzed answers never find a
    pending wave to approve and run."""
    if isinstance(execution, str) and execution:
        EmergencyHub.finish(
            world.hub, execution, lambda body: world.hub.reject(body, "fuzz: settled", by="bob"), timeout
        )


# --------------------------------------------------------------------------- the approval gate

EXECUTION = f"arn:aws:states:{REGION}:{HUB}:execution:org-patching-emergency:emergency-{NONCES[0]}"
VALID_ACTIONS: list[dict[str, Any]] = [
    {"action": "start", "request": request(waves=["Prod"], include_asg="No"), "nonce": NONCES[0], "proof": PROOF},
    {"action": "ask", "execution": EXECUTION, "wave": "Prod", "task_token": "AQB8AAAAKgAAAAMAAAAA"},
    {"action": "approve", "execution": EXECUTION, "wave": "Prod", "proof": PROOF},
    {"action": "reject", "execution": EXECUTION, "wave": "Prod", "reason": "CAB said no", "proof": PROOF},
]
actions = strategies.as_delivered(
    st.one_of(st.sampled_from(VALID_ACTIONS).flatmap(mutations.mutate), strategies.json_values)
)


def _signed(world: World, event: Any) -> Any:
    """``event`` with :data:`PROOF` replaced by a proof signed for exactly its action and fields."""
    if not isinstance(event, dict) or event.get("proof") != PROOF:
        return event
    action = event.get("action")
    if action == "start":
        person, bound = "alice", caller_proof.binding("start", request=event.get("request"), nonce=event.get("nonce"))
    else:
        fields = {"execution": event.get("execution"), "wave": event.get("wave")}
        person, bound = "bob", caller_proof.binding(str(action), **fields)
    credentials = world.people[person].get_credentials().get_frozen_credentials()
    return {**event, "proof": caller_proof.sign(credentials, REGION, bound)}


@invariants.fuzz_settings(quick_examples=6)
@given(event=actions)
@example(event={**VALID_ACTIONS[2], "execution": EXECUTION.replace(NONCES[0], NONCES[1])})
@example(event={**VALID_ACTIONS[1], "task_token": ["t"]})
@example(event={**VALID_ACTIONS[0], "proof": {"url": "https://sts.us-east-1.amazonaws.com/", "headers": []}})
def test_emergency_approval_handler(world: World, event: Any) -> None:
    case = invariants.case(GATE)
    event = _signed(world, event)
    world.counter.reset()
    with running_as(world.emulator, world.counter, HUB, REGION):
        try:
            result = gate_app.handler(event, fuzz_context("org-patching-emergency-approval"))
        except (gate_app.ApprovalRefused, caller_proof.InvalidProof) as refused:
            case.check(invariants.NO_ESCAPE, True)
            case.check(invariants.ONE_LINE, invariants.one_line(str(refused)), str(refused))
            case.check(invariants.ZERO_WRITES, sum(world.counter.changes.values()) == 0, dict(world.counter.changes))
            return
        except Exception as error:
            case.check(invariants.NO_ESCAPE, False, f"{type(error).__name__}: {error}")
            raise
    case.check(invariants.NO_ESCAPE, isinstance(result, dict), result)
    if event.get("action") == "start":
        _settle(world, result.get("execution_arn"))
