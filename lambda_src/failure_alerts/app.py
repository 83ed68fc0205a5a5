"""Failure alerts: one message on the hub's alert topic per failure anywhere in the organization.

The hub's failure rules (``components/hub/patch_events.py``) invoke this function with events
from two buses: the patch-event bus every child account-region forwards to, and the hub's
default bus (the emergency rollout). Each failure becomes ONE alert with the account, region,
resource, a short reason and a reference to the execution:

* ``Maintenance Window Task Execution State-change Notification`` ending ``FAILED`` or
  ``TIMED_OUT``: a window task failed (the patching runbook it started, or the task itself);
* ``EC2 Automation Execution Status-change Notification`` of a patching runbook ending
  ``Failed``, ``TimedOut`` or ``CompletedWithFailure`` (an ASG rebake's failure means its
  instance refresh rolled back), unless a maintenance window or the emergency rollout started
  it: those failures are alerted once, as the window task's or the wave's;
* ``Emergency Patching Rollout Finished`` (source ``org-patching``) with status
  ``WaveErrorThresholdExceeded``, and the emergency state machine's own ``FAILED``,
  ``TIMED_OUT`` or ``ABORTED`` (except ``ApprovalRejected``: a decision, not a failure). Both
  name the same Step Functions execution, so they dedupe to one alert;
* ``CloudFormation Resource Status Change`` of a ``Custom::`` resource ending ``*_FAILED``: the
  custom resource answered FAILED (or never answered);
* ``CloudWatch Alarm State Change`` of a child account's functions alarm (``CHILD_ALARM``) entering
  ``ALARM``: one of its functions failed an invocation or an event was dead-lettered there. Each
  transition into ALARM is one alert (keyed by the alarm and the transition's timestamp); the alarm
  has no action of its own, so nothing else alerts it.

Dead-lettered events and the functions' errors are CloudWatch alarms on the same topic. A failure event whose
account, region or execution id is malformed or missing is refused with one log line and claims nothing: its
dedupe key would not name the failure (found by ``tests/fuzz/test_fuzz_failure_alerts.py``).

Nothing is alerted twice: EventBridge delivers at least once and SSM repeats terminal statuses,
so the first delivery claims ``<account>:<region>:<execution id>`` in the DynamoDB table with a
conditional put (TTL ``DEDUPE_DAYS``); a later one finds the claim and is dropped. When the
publish fails the claim is released and the error raised, so Lambda's retry alerts once.

Environment: ``ALERT_TOPIC_ARN``, ``DEDUPE_TABLE`` (required), ``DEDUPE_DAYS`` (default 14),
``SUPPRESSED_STARTERS`` (role names whose automations are alerted elsewhere, comma-separated),
``RUNBOOKS`` (the patching runbooks, comma-separated), ``EMERGENCY_STATE_MACHINE_ARN``, ``CHILD_ALARM``
(the child accounts' functions alarm name).
"""

from __future__ import annotations

import os
import re
import time
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import ClientError
from lambda_shared.clients import client
from lambda_shared.observability import METRICS_NAMESPACE

SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME", "org-patching-failure-alerts")
logger = Logger(service=SERVICE)
metrics = Metrics(namespace=METRICS_NAMESPACE, service=SERVICE)

WINDOW_TASK = "Maintenance Window Task Execution State-change Notification"
AUTOMATION = "EC2 Automation Execution Status-change Notification"
ROLLOUT_FINISHED = "Emergency Patching Rollout Finished"
STATE_MACHINE = "Step Functions Execution Status Change"
CUSTOM_RESOURCE = "CloudFormation Resource Status Change"
ALARM_STATE = "CloudWatch Alarm State Change"

#: Terminal failure statuses (SSM API reference: MaintenanceWindowExecutionStatus, AutomationExecutionStatus;
#: Step Functions ExecutionStatus).
WINDOW_TASK_FAILED = frozenset({"FAILED", "TIMED_OUT"})
AUTOMATION_FAILED = frozenset({"Failed", "TimedOut", "CompletedWithFailure"})
STATE_MACHINE_FAILED = frozenset({"FAILED", "TIMED_OUT", "ABORTED"})
#: The state machine's deliberate ends: a rejected approval or request is answered, not alerted.
NOT_FAILURES = frozenset({"ApprovalRejected", "InvalidInput"})
#: SNS subjects are at most 100 characters.
SUBJECT_LIMIT = 100
ACCOUNT_ID = re.compile(r"^\d{12}\Z", re.ASCII)
REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d\Z", re.ASCII)


@dataclass(frozen=True)
class Alert:
    """One failure, as the platform team reads it."""

    account: str
    region: str
    resource: str
    reason: str
    #: the execution it is about (the dedupe key's last part)
    execution: str
    #: where to look: a console address of the execution
    reference: str
    kind: str

    @property
    def dedupe_key(self) -> str:
        return f"{self.account}:{self.region}:{self.execution}"

    def problem(self) -> str | None:
        """Why the event cannot be alerted (malformed): its dedupe key must name the account, the region and every
        part of the execution, or one claim would swallow every later failure that lacks the same id."""
        if not ACCOUNT_ID.match(self.account):
            return f"event account: {self.account!r} is not a 12-digit account id"
        if not REGION.match(self.region):
            return f"event region: {self.region!r} is not a region"
        if not all(part.strip() for part in self.execution.split("/")):
            return f"the {self.kind} event names no execution: {self.execution!r}"
        return None

    def subject(self) -> str:
        text = f"org-patching: {self.kind} failed in {self.account} {self.region}"
        return text[:SUBJECT_LIMIT]

    def message(self) -> str:
        return "\n".join(
            [
                f"{self.kind} failed",
                f"account:   {self.account}",
                f"region:    {self.region}",
                f"resource:  {self.resource}",
                f"reason:    {self.reason}",
                f"execution: {self.execution}",
                f"see:       {self.reference}",
            ]
        )


def _console(region: str, path: str) -> str:
    return f"https://{region}.console.aws.amazon.com/{path}"


def _csv(name: str) -> frozenset[str]:
    return frozenset(part.strip() for part in os.environ.get(name, "").split(",") if part.strip())


def _started_by_suppressed(executed_by: str) -> bool:
    """True when ``ExecutedBy`` (an assumed-role ARN) is a role whose failures are alerted elsewhere."""
    role = executed_by.split(":assumed-role/", 1)[-1].split("/", 1)[0] if ":assumed-role/" in executed_by else ""
    if not role and ":role/" in executed_by:
        role = executed_by.rsplit("/", 1)[-1]
    return bool(role) and role in _csv("SUPPRESSED_STARTERS")


def _is(value: Any, statuses: frozenset[str]) -> bool:
    """``value`` is one of ``statuses`` (any JSON value: a list or an object is none of them, never a TypeError)."""
    return isinstance(value, str) and value in statuses


def _runbook(definition: str) -> str:
    """``OrgPatching-PatchInstances`` from a name or a document ARN (a multi-account run names the hub's)."""
    return definition.rsplit("/", 1)[-1].split(":", 1)[0]


def alert_of(event: Any) -> Alert | None:
    """The alert an event calls for, or ``None`` (pure: no AWS call)."""
    if not isinstance(event, dict) or not isinstance(event.get("detail"), dict):
        return None
    detail: dict[str, Any] = event["detail"]
    account, region = str(event.get("account", "")), str(event.get("region", ""))
    kind = event.get("detail-type")
    if kind == WINDOW_TASK and _is(detail.get("status"), WINDOW_TASK_FAILED):
        window, task = str(detail.get("window-id", "")), str(detail.get("task-execution-id", ""))
        run = str(detail.get("window-execution-id", ""))
        return Alert(
            account,
            region,
            f"maintenance window {window}",
            f"window task {detail['status']}",
            task or run,
            _console(region, f"systems-manager/maintenance-windows/{window}/history/{run}?region={region}"),
            "maintenance window task",
        )
    if kind == AUTOMATION and _is(detail.get("Status"), AUTOMATION_FAILED):
        runbook = _runbook(str(detail.get("Definition", "")))
        if runbook not in _csv("RUNBOOKS") or _started_by_suppressed(str(detail.get("ExecutedBy", ""))):
            return None
        execution = str(detail.get("ExecutionId", ""))
        reason = f"runbook {runbook} {detail['Status']}"
        if "AutoScaling" in runbook:
            reason += " (the instance refresh rolls back to the previous launch template version)"
        if detail.get("ErrorMessage"):
            reason += f": {detail['ErrorMessage']}"
        return Alert(
            account,
            region,
            runbook,
            reason,
            execution,
            _console(region, f"systems-manager/automation/execution/{execution}?region={region}"),
            "automation",
        )
    emergency = os.environ.get("EMERGENCY_STATE_MACHINE_ARN", "")
    if kind == ROLLOUT_FINISHED and detail.get("status") == "WaveErrorThresholdExceeded":
        execution = str(detail.get("execution", ""))
        return _rollout_alert(account, region, execution, f"wave {detail.get('stopped_at_wave')} exceeded its errors")
    if (
        kind == STATE_MACHINE
        and _is(detail.get("status"), STATE_MACHINE_FAILED)
        and detail.get("stateMachineArn") == emergency
        and not _is(detail.get("error"), NOT_FAILURES)
    ):
        reason = f"rollout {detail['status']}" + (f": {detail['error']}" if detail.get("error") else "")
        return _rollout_alert(account, region, str(detail.get("executionArn", "")), reason)
    if kind == ALARM_STATE:
        return _child_alarm_alert(account, region, detail)
    raw_status = detail.get("status-details")
    status: dict[str, Any] = raw_status if isinstance(raw_status, dict) else {}
    if (
        kind == CUSTOM_RESOURCE
        and str(detail.get("resource-type", "")).startswith("Custom::")
        and str(status.get("status", "")).endswith("_FAILED")
    ):
        stack = str(detail.get("stack-id", ""))
        logical = str(detail.get("logical-resource-id", ""))
        return Alert(
            account,
            region,
            f"{detail['resource-type']} {logical}",
            f"{status['status']}: {status.get('status-reason', 'no reason given')}",
            f"{stack}/{logical}/{status['status']}",
            _console(region, f"cloudformation/home?region={region}#/stacks/events?stackId={stack}"),
            "custom resource",
        )
    return None


def _child_alarm_alert(account: str, region: str, detail: dict[str, Any]) -> Alert | None:
    """A child account's functions alarm entering ALARM (any other alarm or state: no alert)."""
    name = str(detail.get("alarmName", ""))
    raw_state = detail.get("state")
    state: dict[str, Any] = raw_state if isinstance(raw_state, dict) else {}
    if not name or name != os.environ.get("CHILD_ALARM") or state.get("value") != "ALARM":
        return None
    reason = str(state.get("reason", "no reason given"))
    return Alert(
        account,
        region,
        f"CloudWatch alarm {name}",
        f"a function failed or an event was dead-lettered: {reason}",
        f"{name}/{state.get('timestamp', '')}",
        _console(region, f"cloudwatch/home?region={region}#alarmsV2:alarm/{name}"),
        "child function",
    )


def _rollout_alert(account: str, region: str, execution: str, reason: str) -> Alert:
    return Alert(
        account,
        region,
        "emergency rollout",
        reason,
        execution,
        _console(region, f"states/home?region={region}#/v2/executions/details/{execution}"),
        "emergency wave",
    )


def _claim(table: str, alert: Alert, days: int) -> bool:
    """Record the alert's key once; False when it was already there (a duplicate)."""
    try:
        client("dynamodb").put_item(
            TableName=table,
            Item={
                "pk": {"S": alert.dedupe_key},
                "expires": {"N": str(int(time.time()) + days * 86400)},
            },
            ConditionExpression="attribute_not_exists(pk)",
        )
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
            return False
        raise
    return True


@metrics.log_metrics
@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    topic, table = os.environ.get("ALERT_TOPIC_ARN", ""), os.environ.get("DEDUPE_TABLE", "")
    if not topic or not table:
        raise RuntimeError("ALERT_TOPIC_ARN and DEDUPE_TABLE must be set")
    alert = alert_of(event)
    if alert is None:
        metrics.add_metric(name="FailureAlertsNotNeeded", unit=MetricUnit.Count, value=1)
        return {"alerted": False, "why": "not a failure"}
    malformed = alert.problem()
    if malformed is not None:
        logger.error(f"refused: {malformed}")
        metrics.add_metric(name="FailureAlertsRefused", unit=MetricUnit.Count, value=1)
        return {"alerted": False, "why": malformed}
    if not _claim(table, alert, int(os.environ.get("DEDUPE_DAYS", "14"))):
        logger.info("duplicate", extra={"key": alert.dedupe_key})
        metrics.add_metric(name="FailureAlertsDeduplicated", unit=MetricUnit.Count, value=1)
        return {"alerted": False, "why": "already alerted", "key": alert.dedupe_key}
    try:
        client("sns").publish(TopicArn=topic, Subject=alert.subject(), Message=alert.message())
    except Exception:
        # release the claim: Lambda's retry must be able to alert
        client("dynamodb").delete_item(TableName=table, Key={"pk": {"S": alert.dedupe_key}})
        raise
    metrics.add_metric(name="FailureAlertsSent", unit=MetricUnit.Count, value=1)
    logger.info("alerted", extra={"key": alert.dedupe_key})
    return {"alerted": True, "key": alert.dedupe_key}
