"""The emergency-patching ASL file, executed on moto's Step Functions interpreter.

What runs is exactly what is deployed: ``render_definition`` fills the same placeholders the
component fills, the validation Lambda's real ``handler`` runs in-process, and every
``aws-sdk:ssm:*`` task goes through the project's SSM Automation extension (TargetLocations
bookkeeping, rate control, failure injection). Waits use ``poll_seconds: 0``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
import yaml

from components import naming
from components.config import BootstrapConfig, CentralConfig
from components.hub.emergency_patching import DETAIL_TYPE, render_definition
from components.runbooks import render_runbook
from devkit.demo.emergency import EmergencyHub, deploy_emergency_hub
from devkit.emulator import Emulator
from devkit.moto_extensions.ssm.models import automation as ssm_automation

HUB = "123456789012"  # moto runs aws-sdk tasks as its default account
REGION = "us-east-1"
ACCOUNTS = ["111111111111", "222222222222", "333333333333"]
REGIONS = ["us-east-1", "eu-west-1"]

# The parameter declarations of the runbooks the hub deploys (rendered, not copied): a wave that
# leaves out a required parameter, or passes one the runbook refuses, fails to start here as in SSM.
STANDALONE_PARAMETERS = yaml.safe_load(render_runbook(naming.RUNBOOK_STANDALONE))["parameters"]
ASG_PARAMETERS = yaml.safe_load(render_runbook(naming.RUNBOOK_ASG))["parameters"]
PATCH_LOGS = f"org-patching-patch-logs-{HUB}"


def _runbook(parameters: dict[str, Any]) -> str:
    return json.dumps(
        {
            "schemaVersion": "0.3",
            "assumeRole": "{{ AutomationAssumeRole }}",
            "parameters": parameters,
            "mainSteps": [{"name": "patch", "action": "aws:sleep", "inputs": {"Duration": "PT1S"}}],
        }
    )


class Hub(EmergencyHub):
    """The demo's emulator deployment of the hub, plus what the tests look at."""

    @property
    def sfn(self) -> Any:
        return self.session.client("stepfunctions")

    @property
    def ssm(self) -> Any:
        return self.session.client("ssm")

    def finish(self, execution: str, on_approval: Callable[[dict[str, Any]], None] | None = None) -> dict[str, Any]:
        return super().finish(execution, on_approval, timeout_seconds=120)

    def automations(self) -> list[dict[str, Any]]:
        return list(ssm_automation.executions_in(HUB, REGION))


@pytest.fixture
def hub() -> Iterator[Hub]:
    """The dev kit's emulator: Step Functions executions run, the validation Lambda's real handler
    runs in-process, SSM Automation is the moto extension's."""
    with Emulator():
        yield _build_hub()


def _build_hub() -> Hub:
    cfg = CentralConfig(
        stack="central",
        org_id="o-abcdefghij",
        central_account_id=HUB,
        home_region=REGION,
        regions=REGIONS,
        accounts=ACCOUNTS,
        bootstrap=BootstrapConfig(enabled=False),  # tested in test_deploy_role_bootstrap.py
    )
    runbooks = {
        naming.RUNBOOK_STANDALONE: _runbook(STANDALONE_PARAMETERS),
        naming.RUNBOOK_ASG: _runbook(ASG_PARAMETERS),
    }
    deployed = deploy_emergency_hub(boto3.session.Session(region_name=REGION), cfg, runbooks)
    return Hub(**vars(deployed))


def request(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "patching_operation": "Install",
        "operation_post_patching": "RebootIfNeeded",
        "include_asg": "Yes",
        "retain_healthy_percentage": "90",
        "refresh_asg_instances": "Yes",
        "run_patch_baseline_install_override_list": "",
        "targets": {"accounts": ACCOUNTS, "regions": REGIONS},
        "target_location_max_concurrency": "2",
        "target_location_max_errors": "0",
        "poll_seconds": 0,
    }
    base.update(overrides)
    return base


def approve(hub: Hub, seen: list[str]) -> Callable[[dict[str, Any]], None]:
    def answer(body: dict[str, Any]) -> None:
        seen.append(body["wave"])
        assert "task_token" not in body and "Token" not in json.dumps(body)  # only the gate holds it
        assert body["approve"] == f"patchctl emergency approve --execution {body['execution']} --wave {body['wave']}"
        hub.approve(body)

    return answer


# --------------------------------------------------------------------------- happy path


def test_three_waves_run_in_order_after_prod_approval(hub: Hub) -> None:
    approvals: list[str] = []
    execution = hub.start(request())
    result = hub.finish(execution, approve(hub, approvals))

    assert result["status"] == "SUCCEEDED", result.get("cause")
    summary = json.loads(result["output"])
    assert summary["status"] == "Succeeded"
    assert [w["wave"] for w in summary["waves"]] == ["Dev", "Test", "Prod"]
    assert approvals == ["Prod"]  # the configured default: approval before Prod only

    parents = [a for a in hub.automations() if "ParentAutomationExecutionId" not in a]
    # one StartAutomationExecution per runbook and wave, whatever the number of accounts
    assert len(parents) == 6
    by_env: dict[str, set[str]] = {}
    for parent in parents:
        # a wave means an environment: the runbooks select by Patch Group, not by maintenance window
        assert "MaintenanceWindow" not in parent["Parameters"]
        by_env.setdefault(parent["Parameters"]["PatchGroup"][0], set()).add(parent["DocumentName"])
        assert parent["AutomationExecutionStatus"] == "Success"
        [location] = parent["TargetLocations"]
        assert location["Accounts"] == ACCOUNTS
        assert location["Regions"] == REGIONS
        assert location["ExecutionRoleName"] == naming.AUTOMATION_EXECUTION_ROLE
        assert parent["ProgressCounters"]["TotalSteps"] == 6  # 3 accounts x 2 Regions
        assert parent["Parameters"]["AutomationAssumeRole"][0].endswith(
            f":role/{naming.AUTOMATION_ADMINISTRATION_ROLE}"
        )
        if parent["DocumentName"] == naming.RUNBOOK_STANDALONE:
            # the runbook requires it: its old default "" reached SendCommand, which refuses it
            assert parent["Parameters"]["OutputS3BucketName"] == [PATCH_LOGS]
    assert by_env == {env: {naming.RUNBOOK_STANDALONE, naming.RUNBOOK_ASG} for env in ("Dev", "Test", "Prod")}
    # the children really ran in each target account and Region
    for account in ACCOUNTS:
        for region in REGIONS:
            children = list(ssm_automation.executions_in(account, region))
            assert len(children) == 6 and all(c["AutomationExecutionStatus"] == "Success" for c in children)

    # rate control: 6 locations at 2 at a time -> the machine polled more than once per automation
    polls = [
        e
        for e in hub.history(execution)
        if e["type"] == "TaskScheduled" and e["taskScheduledEventDetails"]["resource"] == "describeAutomationExecutions"
    ]
    assert len(polls) == 6 * 3

    [event] = hub.events()
    assert event["source"] == naming.EVENT_SOURCE
    assert event["detail-type"] == DETAIL_TYPE
    assert event["detail"]["status"] == "Succeeded"
    assert [w["wave"] for w in event["detail"]["waves"]] == ["Dev", "Test", "Prod"]


def test_standalone_only_when_asgs_are_not_included(hub: Hub) -> None:
    result = hub.finish(hub.start(request(include_asg="No", waves=["Dev"])))
    assert result["status"] == "SUCCEEDED", result.get("cause")
    assert {a["DocumentName"] for a in hub.automations() if "ParentAutomationExecutionId" not in a} == {
        naming.RUNBOOK_STANDALONE
    }


def test_non_terminal_statuses_keep_polling_and_completed_with_success_succeeds(hub: Hub) -> None:
    # SSM's AutomationExecutionStatus has more non-terminal values than InProgress, and
    # CompletedWithSuccess is a success (tests/hub/test_automation_statuses.py covers them all).
    before = ("PendingApproval", "Approved", "Scheduled", "RunbookInProgress", "PendingChangeCalendarOverride")
    with ssm_automation.report_statuses(*before, "ChangeCalendarOverrideApproved", end="CompletedWithSuccess"):
        execution = hub.start(request(include_asg="No", waves=["Dev"]))
        result = hub.finish(execution)

    assert result["status"] == "SUCCEEDED", result.get("cause")
    [wave] = json.loads(result["output"])["waves"]
    [automation] = wave["automations"]
    assert automation["status"] == "CompletedWithSuccess" and automation["ok"] is True
    polls = [
        e
        for e in hub.history(execution)
        if e["type"] == "TaskScheduled" and e["taskScheduledEventDetails"]["resource"] == "describeAutomationExecutions"
    ]
    assert len(polls) == 6 + 3  # each scripted status once, then 6 locations at 2 at a time


def test_completed_with_failure_stops_the_rollout(hub: Hub) -> None:
    with ssm_automation.report_statuses("RunbookInProgress", end="CompletedWithFailure"):
        result = hub.finish(hub.start(request(include_asg="No", waves=["Dev", "Test"])))
    assert result["status"] == "FAILED" and result["error"] == "WaveErrorThresholdExceeded"
    [dev] = json.loads(result["cause"])["waves"]
    assert dev["automations"][0]["status"] == "CompletedWithFailure"


# --------------------------------------------------------------------------- approval rejected


def test_rejected_approval_stops_before_prod(hub: Hub) -> None:
    def reject(body: dict[str, Any]) -> None:
        assert body["wave"] == "Prod"
        hub.reject(body, "CAB said no")

    result = hub.finish(hub.start(request()), reject)

    assert result["status"] == "FAILED"
    assert result["error"] == "ApprovalRejected"
    summary = json.loads(result["cause"])
    assert summary["stopped_at_wave"] == "Prod"
    assert summary["approval_error"] == "Rejected"
    assert "approval_cause" in summary  # moto 5.2 drops send_task_failure's cause; AWS passes it through
    assert [w["wave"] for w in summary["waves"]] == ["Dev", "Test"]
    environments = {a["Parameters"]["PatchGroup"][0] for a in hub.automations()}
    assert environments == {"Dev", "Test"}  # nothing was started for Prod
    [event] = hub.events()
    assert event["detail"]["status"] == "ApprovalRejected"


def test_request_can_add_an_approval_but_not_remove_the_configured_one(hub: Hub) -> None:
    approvals: list[str] = []
    result = hub.finish(
        hub.start(request(approval={"required_before": ["Dev"]}, include_asg="No")), approve(hub, approvals)
    )
    assert result["status"] == "SUCCEEDED", result.get("cause")
    assert approvals == ["Dev", "Prod"]


def test_unanswered_approval_times_out_and_stops(hub: Hub) -> None:
    lam = boto3.client("lambda")
    function = "org-patching-emergency-validate"
    variables = lam.get_function_configuration(FunctionName=function)["Environment"]["Variables"]
    lam.update_function_configuration(
        FunctionName=function, Environment={"Variables": {**variables, "APPROVAL_TIMEOUT_SECONDS": "1"}}
    )
    asked: list[str] = []
    result = hub.finish(hub.start(request(waves=["Prod"])), lambda body: asked.append(body["wave"]))
    # the gate may still be publishing when the 1-s timeout ends the execution: wait for its request
    deadline = time.monotonic() + 60
    while not asked and time.monotonic() < deadline:
        hub.finish(result["executionArn"], lambda body: asked.append(body["wave"]))
        time.sleep(0.1)

    assert asked == ["Prod"]
    assert result["status"] == "FAILED" and result["error"] == "ApprovalRejected"
    summary = json.loads(result["cause"])
    assert summary["approval_error"] == "States.Timeout"
    assert summary["waves"] == []
    assert hub.automations() == []


# --------------------------------------------------------------------------- error threshold


def test_wave_over_its_error_threshold_stops_later_waves(hub: Hub) -> None:
    # Test wave: two target locations fail where one is tolerated
    with ssm_automation.fail_locations(("222222222222", "eu-west-1"), ("333333333333", "us-east-1")):
        execution = hub.start(request(include_asg="No", target_location_max_errors="1", waves=["Dev", "Test", "Prod"]))
        # Dev fails too (same accounts), so the rollout stops after Dev: Test and Prod never start
        result = hub.finish(execution)

    assert result["status"] == "FAILED"
    assert result["error"] == "WaveErrorThresholdExceeded"
    summary = json.loads(result["cause"])
    assert summary["stopped_at_wave"] == "Dev"
    [dev] = summary["waves"]
    [automation] = dev["automations"]
    assert automation["status"] == "Failed"
    failed = {(f["location"]["Accounts"][0], f["location"]["Regions"][0]) for f in automation["failed_locations"]}
    assert failed == {("222222222222", "eu-west-1"), ("333333333333", "us-east-1")}
    assert all(f["status"] == "Failed" and "injected" in f["message"] for f in automation["failed_locations"])
    parents = [a for a in hub.automations() if "ParentAutomationExecutionId" not in a]
    assert [p["Parameters"]["PatchGroup"][0] for p in parents] == ["Dev"]
    [event] = hub.events()
    assert event["detail"]["status"] == "WaveErrorThresholdExceeded"


def test_errors_within_the_threshold_let_the_rollout_continue(hub: Hub) -> None:
    with ssm_automation.fail_locations(("222222222222", "eu-west-1")):
        result = hub.finish(hub.start(request(include_asg="No", target_location_max_errors="1", waves=["Dev", "Test"])))
    assert result["status"] == "SUCCEEDED", result.get("cause")
    waves = json.loads(result["output"])["waves"]
    assert [len(w["automations"][0]["failed_locations"]) for w in waves] == [1, 1]


def test_a_wave_that_cannot_start_stops_the_rollout(hub: Hub) -> None:
    # SSM deletes a shared document only once it is unshared (InvalidDocumentOperation otherwise)
    shared = hub.ssm.describe_document_permission(Name=naming.RUNBOOK_ASG, PermissionType="Share")["AccountIds"]
    for start in range(0, len(shared), 20):
        hub.ssm.modify_document_permission(
            Name=naming.RUNBOOK_ASG, PermissionType="Share", AccountIdsToRemove=shared[start : start + 20]
        )
    hub.ssm.delete_document(Name=naming.RUNBOOK_ASG)
    result = hub.finish(hub.start(request(waves=["Dev", "Test"])))
    assert result["status"] == "FAILED"
    assert result["error"] == "WaveErrorThresholdExceeded"
    summary = json.loads(result["cause"])
    statuses = {a["document"]: a["status"] for a in summary["waves"][0]["automations"]}
    assert statuses == {naming.RUNBOOK_STANDALONE: "Success", naming.RUNBOOK_ASG: "StartFailed"}


# --------------------------------------------------------------------------- invalid input


#: (change to a valid request, field the error must name, words of the reason)
INVALID: list[tuple[dict[str, Any], str, str]] = [
    ({"patching_operation": "Patch"}, "patching_operation", "is not one of Scan, Install"),
    ({"operation_post_patching": "Always"}, "operation_post_patching", "is not one of"),
    ({"include_asg": "maybe"}, "include_asg", "is not Yes or No"),
    ({"retain_healthy_percentage": "150"}, "retain_healthy_percentage", "0-100"),
    ({"refresh_asg_instances": 3}, "refresh_asg_instances", "is not Yes or No"),
    ({"run_patch_baseline_install_override_list": "ftp://x"}, "run_patch_baseline_install_override_list", "https"),
    ({"targets": {"accounts": ["12345"], "regions": REGIONS}}, "targets.accounts[0]", "12-digit"),
    ({"targets": {"organizational_units": ["ou-bad"], "regions": REGIONS}}, "targets.organizational_units[0]", "OU"),
    ({"targets": {"accounts": ACCOUNTS, "regions": ["moon-1"]}}, "targets.regions[0]", "Region"),
    ({"targets": {"regions": REGIONS}}, "targets", "at least one account"),
    ({"waves": ["Dev", "Staging"]}, "waves[1]", "is not one of"),
    ({"env": "Dev", "waves": ["Dev"]}, "waves", "either 'env'"),
    ({"max_errors": "200%"}, "max_errors", "count"),
    ({"target_location_max_concurrency": "0"}, "target_location_max_concurrency", "count"),
    ({"approval": {"required_before": ["QA"]}}, "approval.required_before[0]", "is not one of"),
    ({"poll_seconds": -1}, "poll_seconds", "0-3600"),
    ({"pach_operation": "Install"}, "pach_operation", "not a known field"),
]


def test_invalid_input_fails_at_once_naming_the_field(hub: Hub) -> None:
    # All bad requests on one emulator, one after the other (the in-process Lambda runner
    # patches os.environ, so executions must not overlap).
    for change, field, why in INVALID:
        execution = hub.start(request(**change))
        result = hub.finish(execution)
        assert result["status"] == "FAILED", field
        assert result["error"] == "InvalidInput", (field, result.get("cause"))
        assert result["cause"].startswith(f"{field}: "), result["cause"]
        assert why in result["cause"], result["cause"]
        states = [
            e["stateEnteredEventDetails"]["name"] for e in hub.history(execution) if "stateEnteredEventDetails" in e
        ]
        assert states == ["ValidateInput", "ExplainRejection", "InputRejected"]
    assert hub.automations() == []  # nothing started
    assert hub.events() == []  # and nothing announced: the rollout never began


def test_seed_payload_with_env_runs_one_wave(hub: Hub) -> None:
    seed = {
        "env": "Test",
        "include_asg": "Yes",
        "retain_healthy_percentage": "90",
        "refresh_asg_instances": "Yes",
        "patching_operation": "Install",
        "operation_post_patching": "RebootIfNeeded",
        "run_patch_baseline_install_override_list": "",
        "targets": {"accounts": ACCOUNTS[:1]},
        "poll_seconds": 0,
    }
    result = hub.finish(hub.start(seed))
    assert result["status"] == "SUCCEEDED", result.get("cause")
    [wave] = json.loads(result["output"])["waves"]
    assert wave["wave"] == "Test"
    # regions default to the configured ones
    parent = next(a for a in hub.automations() if "ParentAutomationExecutionId" not in a)
    assert parent["TargetLocations"][0]["Regions"] == REGIONS


def test_definition_placeholders_are_all_filled() -> None:
    text = render_definition(
        {"Partition": "aws-us-gov", "ValidateFunctionArn": "fn", "ApprovalFunctionArn": "gate", "EventSource": "src"}
    )
    assert "${" not in text and "arn:aws-us-gov:states:::aws-sdk:ssm:startAutomationExecution" in text
    with pytest.raises(ValueError, match="ApprovalFunctionArn"):
        render_definition({"Partition": "aws", "ValidateFunctionArn": "fn", "EventSource": "src"})
    with pytest.raises(ValueError, match=r"\$\{Other\}"):
        render_definition(
            {"Partition": "aws", "ValidateFunctionArn": "f", "ApprovalFunctionArn": "g", "EventSource": "s"},
            template='{"a": "${Other}"}',
        )
