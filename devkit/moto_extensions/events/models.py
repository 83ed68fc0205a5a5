"""EventBridge rule delivery as AWS documents it, where moto 5 differs.

moto re-puts an event sent to another account's bus as a NEW event of the receiving account
(new id, ``account``/``region`` of the receiver, a Unix ``time``), never checks the receiving
bus's policy, and has no Lambda targets. AWS:

* An event a rule sends to an event bus in another account or Region keeps its ``id``,
  ``account``, ``region``, ``time``, ``source``, ``detail-type``, ``resources`` and ``detail``
  ("Sending and receiving events between AWS accounts in Amazon EventBridge", EventBridge User
  Guide: the receiving account's rules see the sender's account in the event).
* The receiving bus accepts it only when its resource policy allows ``events:PutEvents`` for the
  sending account, directly or through ``aws:PrincipalOrgID``; and when the grant is through the
  organization, the target needs a ``RoleArn`` (PutTargets API reference, ``Target.RoleArn``:
  "If you're setting an event bus in another account as the target and that account granted
  permission to your account through an organization instead of directly by the account ID, you
  must specify a RoleArn"). A refused delivery is dropped here (AWS retries it until the retry
  policy ends, then dead-letters it) and recorded in :data:`REFUSED` for tests.
* Event ``time`` is an ISO-8601 UTC timestamp (the event structure reference, "time").
* A Lambda target is invoked asynchronously (``Invoke`` with ``InvocationType=Event``): a handler
  error is retried twice by Lambda, then the event goes to the function's dead-letter queue
  ("Asynchronous invocation", Lambda Developer Guide). Here the three attempts run in-process,
  one after another, through the extension's Lambda (``devkit.moto_extensions.awslambda``).
"""

from __future__ import annotations

import copy
import json
import threading
from datetime import UTC, datetime
from typing import Any

from moto.utilities.utils import get_partition

_LOCK = threading.RLock()
#: Deliveries a bus policy refused: (sender account, receiving bus ARN, reason). Tests read it.
REFUSED: list[tuple[str, str, str]] = []
#: Lambda's attempts of an asynchronous invocation: the first and two retries.
ASYNC_ATTEMPTS = 3


def _iso_time(value: Any) -> str:
    if isinstance(value, int | float):
        return datetime.fromtimestamp(float(value), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return str(value)


def organization_of(account: str) -> str | None:
    """The organization id ``account`` belongs to in the emulator (management or member), else ``None``."""
    from moto.organizations.models import organizations_backends

    entry = organizations_backends.master_accounts.get(account)
    if entry:
        management, partition = entry
        org = organizations_backends[management][partition].org
        return str(org.id) if org else None
    backend = organizations_backends[account]["aws"]
    return str(backend.org.id) if backend.org else None


def _grant(policy: str | None, sender: str, bus_arn: str) -> str | None:
    """How the bus policy lets ``sender`` put events: ``account``, ``organization`` or ``None``."""
    if not policy:
        return None
    org = organization_of(sender)
    for statement in json.loads(policy).get("Statement", []):
        actions = statement.get("Action", [])
        actions = [actions] if isinstance(actions, str) else actions
        resources = statement.get("Resource", [])
        resources = [resources] if isinstance(resources, str) else resources
        if statement.get("Effect") != "Allow" or not ({"events:PutEvents", "events:*"} & set(actions)):
            continue
        if resources and bus_arn not in resources:
            continue
        principal = statement.get("Principal")
        if isinstance(principal, dict):
            named = principal.get("AWS", [])
            named = [named] if isinstance(named, str) else named
            if sender in named or f"arn:{get_partition('us-east-1')}:iam::{sender}:root" in named:
                return "account"
        if principal == "*":
            condition = statement.get("Condition", {}).get("StringEquals", {})
            if "aws:PrincipalOrgID" in condition and org is not None and condition["aws:PrincipalOrgID"] == org:
                return "organization"
    return None


def deliver_to_bus(rule: Any, target: dict[str, Any], event: dict[str, Any]) -> None:
    """Put the original event on the target bus (another account and/or Region) and run its rules."""
    from moto.events.models import events_backends
    from moto.utilities.arns import parse_arn

    arn = parse_arn(target["Arn"])
    sender = str(rule.account_id)
    backend = events_backends[arn.account][arn.region]
    try:
        bus = backend.describe_event_bus(arn.resource_id)
    except Exception as error:  # the target bus does not exist: AWS fails the delivery
        REFUSED.append((sender, target["Arn"], f"no bus: {error}"))
        return
    if arn.account != sender:
        grant = _grant(bus.policy, sender, bus.arn)
        if grant is None:
            REFUSED.append((sender, bus.arn, "the bus policy does not allow the sending account"))
            return
        if grant == "organization" and not target.get("RoleArn"):
            REFUSED.append((sender, bus.arn, "an organization grant needs the target's RoleArn"))
            return
    for receiving in list(bus.rules.values()):
        if getattr(receiving, "state", "ENABLED") == "ENABLED":
            receiving.send_to_targets(copy.deepcopy(event))  # type: ignore[arg-type]  # moto's TypedDict


def invoke_function(target: dict[str, Any], event: dict[str, Any]) -> None:
    """Lambda's asynchronous invocation: three attempts, then the function's dead-letter queue."""
    from moto.awslambda.models import lambda_backends
    from moto.sqs.models import sqs_backends
    from moto.utilities.arns import parse_arn

    arn = parse_arn(target["Arn"])
    name = arn.resource_id.split(":")[0]
    function = lambda_backends[arn.account][arn.region].get_function(name)
    payload = json.dumps(event)
    for _ in range(ASYNC_ATTEMPTS):
        _, failed, _ = function._invoke_lambda(payload)
        if not failed:
            return
    # moto drops CreateFunction's DeadLetterConfig; the applier's moto_gaps keeps it under this name
    dead_letters = (getattr(function, "devkit_dead_letter_config", None) or {}).get("TargetArn")
    if dead_letters:
        queue = parse_arn(dead_letters)
        sqs_backends[queue.account][queue.region].send_message(queue_name=queue.resource_id, message_body=payload)


def send_to_targets(self: Any, original_event: dict[str, Any], transform_input: bool = True) -> None:
    """Replacement for ``moto.events.models.Rule.send_to_targets``: buses and functions as AWS
    delivers to them; every other target type through moto's own code."""
    from moto.utilities.arns import parse_arn

    if not self.event_pattern.matches_event(original_event):
        return
    event = dict(original_event)
    event["time"] = _iso_time(event.get("time"))
    handled, others = [], []
    for target in self.targets:
        arn = parse_arn(target["Arn"])
        if arn.service == "events" and arn.resource_type == "event-bus":
            handled.append(("bus", target))
        elif arn.service == "lambda":
            handled.append(("lambda", target))
        else:
            others.append(target)
    with _LOCK:
        for kind, target in handled:
            sent = copy.deepcopy(event)
            if target.get("Input"):
                sent = json.loads(target["Input"])
            if kind == "bus":
                deliver_to_bus(self, target, sent)
            else:
                invoke_function(target, sent)
        if others:
            # moto's own targets format a Unix time and need its ingestion time
            moto_event = dict(original_event)
            if isinstance(moto_event.get("time"), str):
                moto_event["time"] = datetime.fromisoformat(str(moto_event["time"]).replace("Z", "+00:00")).timestamp()
            moto_event.setdefault("ingestion-time", datetime.now(UTC).timestamp())
            saved = self.targets
            self.targets = others
            try:
                _ORIGINAL(self, moto_event, transform_input)
            finally:
                self.targets = saved


def emit(
    account: str, region: str, source: str, detail_type: str, detail: dict[str, Any], resources: list[str] | None = None
) -> dict[str, Any]:
    """An AWS service's event on ``account``'s default bus in ``region`` (what SSM, CloudFormation or
    Step Functions send; PutEvents refuses ``aws.*`` sources from callers). Returns the event."""
    import uuid

    from moto.events.models import events_backends

    event = {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": detail_type,
        "source": source,
        "account": account,
        "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": region,
        "resources": list(resources or []),
        "detail": detail,
    }
    bus = events_backends[account][region].describe_event_bus("default")
    for rule in list(bus.rules.values()):
        if getattr(rule, "state", "ENABLED") == "ENABLED":
            rule.send_to_targets(copy.deepcopy(event))  # type: ignore[arg-type]  # moto's TypedDict
    return event


_ORIGINAL: Any = None


def install() -> None:
    global _ORIGINAL
    from moto.events.models import Rule

    if _ORIGINAL is None:
        _ORIGINAL = Rule.send_to_targets
        Rule.send_to_targets = send_to_targets  # type: ignore[method-assign,assignment]
