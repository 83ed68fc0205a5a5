"""``patchctl emergency`` end to end on the emulator, and its bad-input contract (one line, exit 2)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from devkit.emulator import Emulator
from devkit.moto_extensions.ssm.models import automation as ssm_automation
from patchctl.cli import main
from tests.hub.test_emergency_state_machine import ACCOUNTS, REGIONS, Hub, _build_hub


@pytest.fixture
def hub() -> Iterator[Hub]:
    with Emulator():
        yield _build_hub()


def _outputs(tmp_path: Path, hub: Hub) -> Path:
    path = tmp_path / "central-outputs.json"
    path.write_text(
        json.dumps(
            {
                "homeRegion": hub.ref.region,
                "emergency": {"stateMachineArn": hub.machine_arn, "approvalFunctionName": hub.approval_function},
            }
        )
    )
    return path


def _as(monkeypatch: pytest.MonkeyPatch, hub: Hub, name: str) -> None:
    credentials = hub.person(name).get_credentials().get_frozen_credentials()
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", credentials.access_key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", credentials.secret_key)
    monkeypatch.setenv("AWS_SESSION_TOKEN", credentials.token)
    monkeypatch.setenv("AWS_DEFAULT_REGION", hub.ref.region)


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, Any, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    # the in-process Lambdas' one-line JSON logs share stdout; the CLI's document is indented
    starts = [i for i in (out.find("{\n"), out.find("[\n")) if i >= 0]
    document = json.JSONDecoder().raw_decode(out, min(starts))[0] if starts else None
    return code, document, err


def test_start_approve_status_list_on_the_emulator(
    hub: Hub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    outputs = str(_outputs(tmp_path, hub))
    _as(monkeypatch, hub, "alice")
    flags = [
        "--operation",
        "Install",
        "--waves",
        "Dev,Prod",
        "--poll-seconds",
        "0",
        *[f"--account={a}" for a in ACCOUNTS],
    ]
    code, started, err = _run(capsys, "emergency", "start", "--hub-outputs", outputs, *flags, "--region", REGIONS[0])
    assert code == 0, err
    assert started["requested_by"].endswith("assumed-role/central-team-operator/alice")
    execution = started["execution_arn"]

    answers: list[tuple[int, str]] = []

    def approve(body: dict[str, Any]) -> None:
        _as(monkeypatch, hub, "alice")  # the requester is refused: exit 1, one line
        code, _, err = _run(
            capsys, "emergency", "approve", "--hub-outputs", outputs, "--execution", body["execution"], "--wave", "Prod"
        )
        answers.append((code, err.strip()))
        _as(monkeypatch, hub, "bob")
        code, approved, err = _run(
            capsys, "emergency", "approve", "--hub-outputs", outputs, "--execution", body["execution"], "--wave", "Prod"
        )
        answers.append((code, approved["by"]))

    result = hub.finish(execution, approve)
    assert result["status"] == "SUCCEEDED", result.get("cause")
    assert answers[0][0] == 1 and "requested this rollout and cannot approve it" in answers[0][1]
    assert len(answers[0][1].splitlines()) == 1
    assert answers[1][0] == 0 and answers[1][1].endswith("/bob")

    code, status, err = _run(capsys, "emergency", "status", "--hub-outputs", outputs, "--execution", execution)
    assert code == 0, err
    assert status["status"] == "SUCCEEDED" and status["requested_by"].endswith("/alice")
    assert [w["wave"] for w in status["waves"]] == ["Dev", "Prod"]
    for wave in status["waves"]:
        [automation] = wave["automations"]  # include_asg not set: the standalone runbook only
        assert automation["status"] == "Success"
        assert sorted((loc["account"], loc["region"]) for loc in automation["locations"]) == sorted(
            (a, REGIONS[0]) for a in ACCOUNTS
        )
    assert status["summary"]["waves"][1]["approval"]["approved_by"].endswith("/bob")

    code, listed, _ = _run(capsys, "emergency", "list", "--hub-outputs", outputs)
    assert code == 0 and [e["execution"] for e in listed] == [execution]


def test_cancel_stops_the_execution_and_the_automations_it_left_running(
    hub: Hub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue 16 item 5: ``cancel`` is StopExecution plus StopAutomationExecution of every running wave automation;
    a bad id is one line and exit 2, before any call."""
    outputs = str(_outputs(tmp_path, hub))
    _as(monkeypatch, hub, "alice")
    flags = ["--operation", "Install", "--waves", "Dev", "--poll-seconds", "1", *[f"--account={a}" for a in ACCOUNTS]]
    # The wave's automation keeps reporting InProgress (one scripted status per read) until it is stopped.
    with ssm_automation.report_statuses(*["InProgress"] * 10_000):
        code, started, err = _run(capsys, "emergency", "start", "--hub-outputs", outputs, *flags)
        assert code == 0, err
        execution = started["execution_arn"]
        deadline = time.monotonic() + 30
        while not [a for a in hub.automations() if a.get("AutomationExecutionStatus") == "InProgress"]:
            assert time.monotonic() < deadline, "the wave never started"
            time.sleep(0.05)
        _as(monkeypatch, hub, "bob")
        code, cancelled, err = _run(
            capsys, "emergency", "cancel", "--hub-outputs", outputs, "--execution", execution, "--reason", "wrong KB"
        )
    assert code == 0, err
    [parent] = [a for a in hub.automations() if "ParentAutomationExecutionId" not in a]
    assert cancelled == {
        "execution": execution,
        "status": "ABORTED",
        "stopped_automations": [parent["AutomationExecutionId"]],
    }
    described = hub.session.client("stepfunctions").describe_execution(executionArn=execution)
    assert described["status"] == "ABORTED"
    assert "ExecutionAborted" in [e["type"] for e in hub.history(execution)]
    ssm = hub.session.client("ssm")
    stopped = ssm.get_automation_execution(AutomationExecutionId=parent["AutomationExecutionId"])["AutomationExecution"]
    assert stopped["AutomationExecutionStatus"] == "Cancelled"

    code, status, _ = _run(capsys, "emergency", "status", "--hub-outputs", outputs, "--execution", execution)
    assert code == 0 and status["status"] == "ABORTED" and status["current_state"] is None
    assert [a["status"] for w in status["waves"] for a in w["automations"]] == ["Cancelled"]

    # Cancelling it again stops nothing more (the automation is already Cancelled).
    code, again, err = _run(capsys, "emergency", "cancel", "--hub-outputs", outputs, "--execution", execution)
    assert code == 0 and again["stopped_automations"] == [], err
    for bad in ("not a name!", "arn:aws:states:us-east-1:999999999999:execution:other-machine:x"):
        code, _, err = _run(capsys, "emergency", "cancel", "--hub-outputs", outputs, "--execution", bad)
        assert code == 2 and len(err.strip().splitlines()) == 1 and "--execution" in err, err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--operation", "Patch", "--account", "111111111111"], "argument --operation: invalid choice"),
        (["--operation", "Install", "--account", "12345"], "targets.accounts[0]: '12345' is not a 12-digit account id"),
        (["--operation", "Install", "--waves", "Dev,Staging", "--account", "111111111111"], "waves[1]"),
        (["--operation", "Install"], "targets"),
        ([], "give --request FILE or at least --operation"),
    ],
)
def test_a_bad_request_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    outputs = tmp_path / "outputs.json"
    outputs.write_text(
        json.dumps(
            {
                "homeRegion": "us-east-1",
                "emergency": {
                    "stateMachineArn": "arn:aws:states:us-east-1:123456789012:stateMachine:org-patching-emergency",
                    "approvalFunctionName": "org-patching-emergency-approval",
                },
            }
        )
    )
    with pytest.raises(SystemExit) if "invalid choice" in message else _nothing():
        code = main(["emergency", "start", "--hub-outputs", str(outputs), *argv])
        assert code == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1, err


def test_a_bad_request_file_and_bad_hub_outputs_are_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    request = tmp_path / "request.json"
    request.write_text(json.dumps({"patching_operation": "Install", "targets": {}, "pach": 1}))
    outputs = tmp_path / "outputs.json"
    outputs.write_text(json.dumps({"homeRegion": "us-east-1"}))
    assert main(["emergency", "start", "--hub-outputs", str(outputs), "--request", str(request)]) == 2
    assert "no 'emergency' section" in capsys.readouterr().err
    outputs.write_text(
        json.dumps(
            {
                "homeRegion": "us-east-1",
                "emergency": {"stateMachineArn": "arn:aws:states:x", "approvalFunctionName": "f"},
            }
        )
    )
    assert main(["emergency", "start", "--hub-outputs", str(outputs), "--request", str(request)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("patchctl emergency: error: ") and len(err.strip().splitlines()) == 1, err


class _nothing:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None
