"""The approval gate, attacked: the requester approving, a replayed approval, a borrowed identity proof.

Everything runs on the emulator as deployed (``tests/hub/test_emergency_state_machine.py``'s hub):
people are assumed-role sessions of the hub account (``alice`` requests, ``bob`` and ``carol``
approve), and each call goes through ``patchctl.emergency.gate``, as ``patchctl emergency`` does.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from lambda_shared import caller_proof

from components import naming
from devkit.emulator import Emulator
from patchctl.emergency import gate
from tests.hub.test_emergency_state_machine import HUB, Hub, _build_hub, request


@pytest.fixture
def hub() -> Iterator[Hub]:
    with Emulator():
        yield _build_hub()


def _record(hub: Hub, key: str) -> dict[str, Any]:
    table = hub.session.resource("dynamodb").Table(naming.EMERGENCY_APPROVAL_TABLE)
    item: dict[str, Any] = table.get_item(Key={"pk": key})["Item"]
    return item


def test_requester_cannot_approve_and_a_second_answer_fails(hub: Hub) -> None:
    outcomes: list[str] = []

    def answer(body: dict[str, Any]) -> None:
        with pytest.raises(gate.GateRefused, match="requested this rollout and cannot approve it"):
            hub.approve(body, by="alice")  # the requester
        approved = hub.approve(body, by="bob")
        outcomes.append(approved["status"])
        with pytest.raises(gate.GateRefused, match=r"already approved by .*assumed-role/central-team-operator/bob"):
            hub.approve(body, by="carol")  # the same wave again: the token is used once
        with pytest.raises(gate.GateRefused, match="already approved"):
            hub.reject(body, "too late", by="carol")

    execution = hub.start(request(waves=["Prod"], include_asg="No"), by="alice")
    result = hub.finish(execution, answer)

    assert result["status"] == "SUCCEEDED", result.get("cause")
    assert outcomes == ["approved"]
    started = _record(hub, f"start#{execution}")
    assert started["requested_by"] == f"arn:aws:sts::{HUB}:assumed-role/central-team-operator/alice"
    wave = _record(hub, f"wave#{execution}#Prod")
    assert wave["status"] == "approved"
    assert wave["answered_by"] == f"arn:aws:sts::{HUB}:assumed-role/central-team-operator/bob"
    assert wave["answered_at"].endswith("Z") and "task_token" not in wave  # who and when; the token is gone
    # the summary and the event say who asked and who approved
    summary = json.loads(result["output"])
    assert summary["request"]["requested_by"].endswith("/alice")
    assert summary["waves"][0]["approval"]["approved_by"].endswith("/bob")


def test_a_proof_for_another_wave_or_an_execution_not_started_by_the_gate_is_refused(hub: Hub) -> None:
    refusals: list[str] = []

    def answer(body: dict[str, Any]) -> None:
        bob = hub.person("bob")
        credentials = bob.get_credentials().get_frozen_credentials()
        # bob's proof made for the Dev wave, replayed for Prod
        proof = caller_proof.sign(
            credentials, hub.ref.region, caller_proof.binding("approve", execution=body["execution"], wave="Dev")
        )
        payload = {"action": "approve", "execution": body["execution"], "wave": "Prod", "proof": proof}
        with pytest.raises(gate.GateRefused, match="made for another operation") as refused:
            gate.invoke(bob, hub.ref, payload)
        refusals.append(str(refused.value))
        hub.reject(body, "CAB said no", by="bob")

    execution = hub.start(request(waves=["Prod"], include_asg="No"))
    result = hub.finish(execution, answer)
    assert len(refusals) == 1
    assert result["status"] == "FAILED" and result["error"] == "ApprovalRejected"
    rejected = _record(hub, f"wave#{execution}#Prod")
    assert (rejected["status"], rejected["reason"]) == ("rejected", "CAB said no")
    assert rejected["answered_by"].endswith("/bob")

    # An execution started directly (not through the gate) has no requester record: never approvable.
    direct = hub.machine_arn.replace(":stateMachine:", ":execution:") + f":direct-{uuid.uuid4()}"
    with pytest.raises(gate.GateRefused, match="was not started through the approval gate"):
        gate.answer(hub.person("bob"), hub.ref, direct, "Prod")
    assert hub.automations() == []  # nothing ran


def test_a_forged_ask_cannot_replace_a_pending_token_or_open_a_wave(hub: Hub) -> None:
    """Anyone who may invoke the gate (every approver) sending "ask" themselves: refused unless the execution's
    history shows the approval task with that token for that wave, so the real token stays and the wave runs."""
    forged: list[str] = []

    def answer(body: dict[str, Any]) -> None:
        bob = hub.person("bob")
        ask = {"action": "ask", "execution": body["execution"], "wave": "Prod", "task_token": "forged-token"}
        for payload in (ask, {**ask, "wave": "Dev"}, {**ask, "execution": body["execution"] + "x"}):
            with pytest.raises(gate.GateRefused, match="is not waiting for an approval of the") as refused:
                gate.invoke(bob, hub.ref, payload)
            forged.append(str(refused.value))
        other = body["execution"].replace(naming.EMERGENCY_STATE_MACHINE, "another-machine")
        with pytest.raises(gate.GateRefused, match="is not an execution of"):
            gate.invoke(bob, hub.ref, {**ask, "execution": other})
        assert _record(hub, f"wave#{body['execution']}#Prod")["task_token"] != "forged-token"
        hub.approve(body, by="bob")  # the genuine token still answers the state machine

    execution = hub.start(request(waves=["Prod"], include_asg="No"), by="alice")
    result = hub.finish(execution, answer)
    assert result["status"] == "SUCCEEDED", result.get("cause")
    assert len(forged) == 3 and "Dev wave" in forged[1]
    assert "wave#" + execution + "#Dev" not in json.dumps(
        hub.session.client("dynamodb").scan(TableName=naming.EMERGENCY_APPROVAL_TABLE)["Items"]
    )


def test_a_proof_that_is_not_for_sts_is_refused_before_any_call() -> None:
    with pytest.raises(caller_proof.InvalidProof, match="not a Regional STS endpoint"):
        caller_proof.check({"url": "https://attacker.example/", "headers": {}}, "x")
    with pytest.raises(caller_proof.InvalidProof, match="does not cover"):
        caller_proof.check(
            {
                "url": "https://sts.us-east-1.amazonaws.com/",
                "headers": {
                    "Authorization": "AWS4-HMAC-SHA256 Credential=A/x, SignedHeaders=host;x-amz-date, Signature=0"
                },
            },
            "x",
        )
