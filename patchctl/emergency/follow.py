"""What a rollout is doing: its state machine execution, its waves and each target location's result.

Read-only calls with the operator's credentials: ``states:DescribeExecution``,
``states:GetExecutionHistory``, ``states:ListExecutions``, and for the waves' automations
``ssm:GetAutomationExecution`` and ``ssm:DescribeAutomationStepExecutions`` (one step per account
and Region). ``cancel`` also stops the rollout's running automations.
"""

from __future__ import annotations

import json
import re
from typing import Any

from patchctl.emergency.hub import HubRef
from patchctl.errors import InputError

_NAME = re.compile(r"^[\w-]{1,80}\Z", re.ASCII)
_TERMINAL = {"Success", "CompletedWithSuccess", "Failed", "TimedOut", "Cancelled", "CompletedWithFailure", "Exited"}


def execution_arn(hub: HubRef, execution: str) -> str:
    """An execution ARN from an ARN or a name of the hub's state machine."""
    if execution.startswith("arn:"):
        prefix, _, machine = hub.state_machine_arn.rpartition(":stateMachine:")
        if not execution.startswith(f"{prefix}:execution:{machine}:"):
            raise InputError(f"--execution {execution}: not an execution of {hub.state_machine_arn}")
        return execution
    if not _NAME.match(execution):
        raise InputError(f"--execution {execution!r}: not an execution name or ARN")
    prefix, _, machine = hub.state_machine_arn.rpartition(":stateMachine:")
    return f"{prefix}:execution:{machine}:{execution}"


def _json(text: Any) -> Any:
    try:
        return json.loads(text) if isinstance(text, str) else None
    except ValueError:
        return None


def _history(sfn: Any, arn: str) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    for page in sfn.get_paginator("get_execution_history").paginate(executionArn=arn):
        events.extend(page["events"])
    return events


def automation_ids(events: list[dict[str, Any]]) -> list[str]:
    """The automations the rollout started, in order (from the StartAutomationExecution task results)."""
    ids: list[str] = []
    for event in events:
        details = event.get("taskSucceededEventDetails") or {}
        if details.get("resource") == "startAutomationExecution":
            started = _json(details.get("output")) or {}
            if started.get("AutomationExecutionId"):
                ids.append(str(started["AutomationExecutionId"]))
    return ids


def _automation(ssm: Any, automation_id: str) -> dict[str, Any]:
    execution = ssm.get_automation_execution(AutomationExecutionId=automation_id)["AutomationExecution"]
    steps = ssm.describe_automation_step_executions(AutomationExecutionId=automation_id).get("StepExecutions", [])
    locations = []
    for step in steps:
        target = step.get("TargetLocation") or {}
        for account in target.get("Accounts", []):
            for region in target.get("Regions", []):
                locations.append(
                    {
                        "account": account,
                        "region": region,
                        "status": step.get("StepStatus", ""),
                        **({"reason": step["FailureMessage"]} if step.get("FailureMessage") else {}),
                    }
                )
    return {
        "wave": (execution.get("Parameters", {}).get("PatchGroup") or [""])[0],
        "document": execution.get("DocumentName", ""),
        "automation_id": automation_id,
        "status": execution.get("AutomationExecutionStatus", ""),
        "locations": locations,
    }


def status(session: Any, hub: HubRef, execution: str) -> dict[str, Any]:
    """The execution, its current state, its summary when finished, and every wave's per-location results."""
    arn = execution_arn(hub, execution)
    sfn = session.client("stepfunctions", region_name=hub.region)
    ssm = session.client("ssm", region_name=hub.region)
    described = sfn.describe_execution(executionArn=arn)
    events = _history(sfn, arn)
    entered = [e["stateEnteredEventDetails"]["name"] for e in events if "stateEnteredEventDetails" in e]
    request = _json(described.get("input")) or {}
    summary = _json(described.get("output")) or _json(described.get("cause"))
    waves: dict[str, list[dict[str, Any]]] = {}
    for automation_id in automation_ids(events):
        automation = _automation(ssm, automation_id)
        waves.setdefault(automation["wave"], []).append(automation)
    return {
        "execution": arn,
        "status": described["status"],
        "current_state": entered[-1] if entered and described["status"] == "RUNNING" else None,
        "requested_by": request.get("requested_by", ""),
        "findings": request.get("findings", []),
        "waves": [{"wave": wave, "automations": automations} for wave, automations in waves.items()],
        "summary": summary if isinstance(summary, dict) else None,
        **({"error": described["error"]} if described.get("error") else {}),
    }


def executions(session: Any, hub: HubRef, limit: int) -> list[dict[str, Any]]:
    sfn = session.client("stepfunctions", region_name=hub.region)
    listed = sfn.list_executions(stateMachineArn=hub.state_machine_arn, maxResults=limit)["executions"]
    return [
        {
            "name": e["name"],
            "status": e["status"],
            "started": e["startDate"].isoformat(),
            "execution": e["executionArn"],
        }
        for e in listed
    ]


def cancel(session: Any, hub: HubRef, execution: str, reason: str) -> dict[str, Any]:
    """Stop the execution (no later wave starts) and the automations it left running."""
    arn = execution_arn(hub, execution)
    sfn = session.client("stepfunctions", region_name=hub.region)
    ssm = session.client("ssm", region_name=hub.region)
    sfn.stop_execution(executionArn=arn, error="Cancelled", cause=reason[:32768])
    stopped = []
    for automation_id in automation_ids(_history(sfn, arn)):
        current = ssm.get_automation_execution(AutomationExecutionId=automation_id)["AutomationExecution"]
        if current.get("AutomationExecutionStatus") not in _TERMINAL:
            ssm.stop_automation_execution(AutomationExecutionId=automation_id, Type="Cancel")
            stopped.append(automation_id)
    return {"execution": arn, "status": "ABORTED", "stopped_automations": stopped}
