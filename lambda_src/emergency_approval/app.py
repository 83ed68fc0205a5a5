"""The emergency rollout's approval gate: who started it, who approved each wave, each answer once.

Why a function: the task token used to travel in the SNS message and the state machine's logs,
so anyone who could read either could approve, the requester included. Now the token goes only
from the state machine to this function and into its table (encrypted with the hub key); people
never see it. Every human action is an IAM-authenticated ``lambda:InvokeFunction`` carrying a
proof of the caller's identity (``lambda_shared/caller_proof.py``: a signed STS
``GetCallerIdentity`` that this function sends and believes), so the identity recorded is the
one STS vouches for, never one the caller typed.

Actions (the event's ``action``):

* ``start`` (``patchctl emergency start``, the Inspector rule): record the requester, start the
  state machine with ``requested_by`` set to the caller's ARN. The execution name comes from the
  caller's nonce, so a replayed start is the same execution, not a second rollout.
* ``ask`` (the state machine, ``lambda:invoke.waitForTaskToken``): keep the wave's task token,
  tell the approvers through the topic (no token in the message). Anyone allowed to invoke the gate
  (every approver) could send an ask, so an ask is believed only when the execution's own history
  (``states:GetExecutionHistory``) shows the approval task scheduled with this token for this wave:
  a forged ask would otherwise replace a pending wave's token and hold the wave until it times out.
* ``approve`` / ``reject`` (``patchctl emergency approve|reject``): refuse the requester and any
  execution not started here; mark the wave answered with a conditional write (a second answer,
  or a replayed request, fails), then answer Step Functions with who and when.

Table items (key ``pk``): ``start#<execution arn>`` (requested_by, started_at, findings; freeze_override and
calendar_state when it started during a change freeze) and
``wave#<execution arn>#<wave>`` (status pending|approved|rejected, task_token until answered,
asked_at, answered_by, answered_at, reason). Environment: ``TABLE_NAME``, ``TOPIC_ARN``,
``STATE_MACHINE_ARN``, ``CHANGE_CALENDAR`` (the change calendar's name; empty: no freeze check).
"""

from __future__ import annotations

import datetime
import json
import os
import re
from typing import Any

import boto3
from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import ClientError
from lambda_shared import caller_proof
from lambda_shared.clients import client

# Never log the event: an "ask" carries the task token.
logger = Logger(service=os.environ.get("POWERTOOLS_SERVICE_NAME", "org-patching-emergency-approval"))

_NONCE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\Z", re.ASCII)
_EXECUTION = re.compile(r"^arn:aws[a-z-]*:states:[a-z0-9-]+:\d{12}:execution:[\w-]{1,80}:[\w-]{1,80}\Z", re.ASCII)
_WAVE = re.compile(r"^(Default|Dev|Test|Prod)\Z")
_REASON_MAX = 256


class ApprovalRefused(Exception):  # the class name is the error type ``patchctl emergency`` shows
    """The action is not allowed (requester, second answer, unknown execution, bad field)."""


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _field(event: dict[str, Any], name: str, pattern: re.Pattern[str]) -> str:
    value = event.get(name)
    if not isinstance(value, str) or not pattern.match(value):
        raise ApprovalRefused(f"{name}: {value!r} is not valid")
    return value


def caller_arn(proof: Any, bound_to: str) -> str:
    """The ARN STS gives for the caller's signed GetCallerIdentity (only an STS endpoint is called)."""
    region, headers = caller_proof.check(proof, bound_to)
    sts = boto3.client("sts", region_name=region, endpoint_url=proof["url"], config=Config(signature_version=UNSIGNED))

    def send_as_signed(request: Any, **_: Any) -> None:
        for key in [k for k in request.headers if k.lower() in {h.lower() for h in headers}]:
            del request.headers[key]
        for key, value in headers.items():
            request.headers[key] = value

    sts.meta.events.register("request-created.sts.GetCallerIdentity", send_as_signed)
    try:
        return str(sts.get_caller_identity()["Arn"])
    except ClientError as refused:
        raise caller_proof.InvalidProof(f"identity proof refused by STS: {refused.response['Error']['Code']}") from None


def _execution_arn(machine_arn: str, name: str) -> str:
    prefix, _, machine = machine_arn.rpartition(":stateMachine:")
    return f"{prefix}:execution:{machine}:{name}"


def freeze_check(request: dict[str, Any]) -> dict[str, Any]:
    """The change freeze (``CHANGE_CALENDAR``, the hub's Change Calendar): while it is CLOSED a rollout starts only
    with ``freeze_override: true``, and the start record keeps that it overrode the freeze."""
    calendar = os.environ.get("CHANGE_CALENDAR", "")
    if not calendar:
        return {}
    state = client("ssm").get_calendar_state(CalendarNames=[calendar])
    if state["State"] != "CLOSED":
        return {}
    if request.get("freeze_override") is not True:
        until = f" until {state['NextTransitionTime']}" if state.get("NextTransitionTime") else ""
        raise ApprovalRefused(
            f"change freeze: {calendar.rsplit('/', 1)[-1]} is CLOSED{until}; "
            "set freeze_override (patchctl emergency start --override-freeze) to run anyway"
        )
    return {"freeze_override": True, "calendar_state": "CLOSED"}


def start(event: dict[str, Any], table: Any) -> dict[str, Any]:
    request, nonce = event.get("request"), _field(event, "nonce", _NONCE)
    if not isinstance(request, dict):
        raise ApprovalRefused("request: is not a JSON object")
    requester = caller_arn(event.get("proof"), caller_proof.binding("start", request=request, nonce=nonce))
    machine = os.environ["STATE_MACHINE_ARN"]
    name = f"emergency-{nonce}"
    execution = _execution_arn(machine, name)
    record = {"pk": f"start#{execution}", "requested_by": requester, "started_at": _now(), **freeze_check(request)}
    try:
        table.put_item(Item=record, ConditionExpression="attribute_not_exists(pk)")
    except ClientError as error:
        if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
            raise
        existing = table.get_item(Key={"pk": record["pk"]}).get("Item", {})
        if existing.get("requested_by") != requester:
            raise ApprovalRefused(f"execution {name} was started by someone else") from None
        return {"execution_arn": execution, "requested_by": requester, "started_at": existing.get("started_at")}
    client("stepfunctions").start_execution(
        stateMachineArn=machine, name=name, input=json.dumps({**request, "requested_by": requester})
    )
    logger.info("rollout started", extra={"execution": execution, "requested_by": requester})
    return {"execution_arn": execution, "requested_by": requester, "started_at": record["started_at"]}


def _scheduled_with(execution: str, wave: str, token: str) -> bool:
    """Whether the execution (of our state machine) scheduled the approval task with ``token`` for ``wave``: its
    TaskScheduled event's parameters hold the payload the state machine sent (the token is known only to Step
    Functions and this function, so an ask that names it is genuine)."""
    sfn = client("stepfunctions")
    try:
        # Newest first: the ask being answered is the last task the execution scheduled.
        pages = sfn.get_paginator("get_execution_history").paginate(
            executionArn=execution, reverseOrder=True, includeExecutionData=True
        )
        for page in pages:
            for entry in page["events"]:
                details = entry.get("taskScheduledEventDetails") or {}
                if details.get("resource") != "invoke.waitForTaskToken":
                    continue
                payload = (json.loads(details.get("parameters") or "{}") or {}).get("Payload") or {}
                if payload.get("task_token") == token and payload.get("wave") == wave:
                    return True
    except ClientError as error:  # no such execution (or not ours to read): not a genuine ask
        logger.warning("ask not verifiable", extra={"execution": execution, "error": error.response["Error"]["Code"]})
        return False
    return False


def ask(event: dict[str, Any], table: Any) -> dict[str, Any]:
    execution, wave = _field(event, "execution", _EXECUTION), _field(event, "wave", _WAVE)
    token = event.get("task_token")
    if not isinstance(token, str) or not token:
        raise ApprovalRefused("task_token: missing")
    machine = os.environ["STATE_MACHINE_ARN"]
    if not execution.startswith(_execution_arn(machine, "")):
        raise ApprovalRefused(f"{execution} is not an execution of {machine}")
    if not _scheduled_with(execution, wave, token):
        raise ApprovalRefused(f"{execution} is not waiting for an approval of the {wave} wave with this token")
    given = event.get("request")
    request: dict[str, Any] = given if isinstance(given, dict) else {}
    # A wave is asked once per execution; a pending ask may be renewed (a new token), an answered one never reopens.
    # The same ask delivered again (Step Functions retries a Lambda task) fails the condition too: it is the ask
    # already kept, so nothing is written and the approvers are not told twice (issue 18: run twice = run once).
    key = {"pk": f"wave#{execution}#{wave}"}
    try:
        table.put_item(
            Item={**key, "status": "pending", "task_token": token, "asked_at": _now()},
            ConditionExpression="attribute_not_exists(pk) OR (#s = :pending AND task_token <> :token)",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={":pending": "pending", ":token": token},
        )
    except ClientError as error:
        if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
            raise
        kept = table.get_item(Key=key, ConsistentRead=True).get("Item") or {}
        if kept.get("status") != "pending" or kept.get("task_token") != token:
            raise
        logger.info("approval already asked", extra={"execution": execution, "wave": wave})
        return {"asked": True}
    message = {
        "question": f"Emergency patching {execution} is ready to start the {wave} wave. Approve or reject it.",
        "execution": execution,
        "wave": wave,
        "requested_by": request.get("requested_by", ""),
        "request": request,
        "approve": f"patchctl emergency approve --execution {execution} --wave {wave}",
        "reject": f"patchctl emergency approve --reject --reason '<why>' --execution {execution} --wave {wave}",
    }
    client("sns").publish(
        TopicArn=os.environ["TOPIC_ARN"],
        Subject=f"org-patching emergency: approve the {wave} wave?",
        Message=json.dumps(message, indent=2),
    )
    logger.info("approval asked", extra={"execution": execution, "wave": wave})
    return {"asked": True}


def answer(event: dict[str, Any], table: Any, approve: bool) -> dict[str, Any]:
    execution, wave = _field(event, "execution", _EXECUTION), _field(event, "wave", _WAVE)
    reason = event.get("reason", "")
    if not isinstance(reason, str) or len(reason) > _REASON_MAX:
        raise ApprovalRefused(f"reason: at most {_REASON_MAX} characters")
    action = "approve" if approve else "reject"
    who = caller_arn(event.get("proof"), caller_proof.binding(action, execution=execution, wave=wave))
    started = table.get_item(Key={"pk": f"start#{execution}"}).get("Item")
    if started is None:
        raise ApprovalRefused(f"{execution} was not started through the approval gate: it cannot be approved")
    if approve and who == started["requested_by"]:
        raise ApprovalRefused(f"{who} requested this rollout and cannot approve it")
    when = _now()
    key = {"pk": f"wave#{execution}#{wave}"}
    try:
        old = table.update_item(
            Key=key,
            UpdateExpression="SET #s = :answer, answered_by = :who, answered_at = :when, reason = :why "
            "REMOVE task_token",
            ConditionExpression="#s = :pending",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={
                ":answer": "approved" if approve else "rejected",
                ":who": who,
                ":when": when,
                ":why": reason,
                ":pending": "pending",
            },
            ReturnValues="ALL_OLD",
        )["Attributes"]
    except ClientError as error:
        if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
            raise
        item = table.get_item(Key=key).get("Item")
        if item is None:
            raise ApprovalRefused(f"no approval is pending for the {wave} wave of {execution}") from None
        raise ApprovalRefused(
            f"the {wave} wave was already {item['status']} by {item.get('answered_by')} at {item.get('answered_at')}"
        ) from None
    sfn = client("stepfunctions")
    try:
        if approve:
            sfn.send_task_success(
                taskToken=old["task_token"], output=json.dumps({"approved_by": who, "approved_at": when})
            )
        else:
            sfn.send_task_failure(taskToken=old["task_token"], error="Rejected", cause=f"rejected by {who}: {reason}")
    except ClientError as error:  # the wave timed out or the execution was stopped meanwhile
        raise ApprovalRefused(f"Step Functions refused the answer: {error.response['Error']['Code']}") from None
    logger.info("approval answered", extra={"execution": execution, "wave": wave, "by": who, "approved": approve})
    return {
        "execution": execution,
        "wave": wave,
        "status": "approved" if approve else "rejected",
        "by": who,
        "at": when,
    }


def handler(event: Any, context: LambdaContext) -> dict[str, Any]:
    """One action per invocation; a refusal raises (the Lambda error type names it)."""
    if not isinstance(event, dict):
        raise ApprovalRefused("event: is not a JSON object")
    table = boto3.resource("dynamodb").Table(os.environ["TABLE_NAME"])
    action = event.get("action")
    if action == "start":
        return start(event, table)
    if action == "ask":
        return ask(event, table)
    if action in ("approve", "reject"):
        return answer(event, table, approve=action == "approve")
    raise ApprovalRefused(f"action: {action!r} is not one of start, ask, approve, reject")
