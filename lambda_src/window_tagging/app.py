"""Window tagging: the CloudFormation custom resource behind the Service Catalog "maintenance window" product.

When an app team launches the product for environment X, the product creates ``X_maintenance_window`` and this
resource moves X's instances (and, with ``IncludeASG=Yes``, X's Auto Scaling groups) onto that window; when the
product is terminated it moves them back to ``Default_maintenance_window`` (the seed's behaviour).

What it fixes compared with the seed's ``maintenance_window_tagging``:

* every instance state except terminated (stopped instances kept pointing at a deleted window: seed bug 11) and
  every page of DescribeInstances / DescribeAutoScalingGroups (seed bug 14: ``MaxResults=1000``, no token);
* ``environment`` is read case-insensitively through the tag contract, exempt and managed resources (exemption
  tag, ASG members, EKS, ECS: prefix rules, never substrings) are never touched, ``environment`` is never written;
* the same contract decides the tags: the resource gets ``tag_contract.decide(tags, windows)`` where ``windows`` are
  the custom windows of this account+region, plus the product's window on Create/Update and minus it on Delete;
* CloudFormation is ALWAYS answered (PUT to ``ResponseURL``), also on errors and bad input, so no stack hangs for
  an hour. Create/Update fail when a write failed (the team sees it); Delete reports SUCCESS with the error count in
  ``Data`` (a stack must always be deletable, and the tag-remediation sweep moves stragglers off a deleted window);
* the physical resource id is stable: created once from the stack and logical id, echoed on Update and Delete.

Resource properties (from the product template): ``Environment`` (Dev|Test|Prod, any case), ``WindowName``
(must be ``<Environment>_maintenance_window``), ``IncludeASG`` (``Yes``/``No``, default ``No``).

Reading, deciding and writing are the shared runtime's (``lambda_shared``: the same plan and writes as the
tag-remediation function); this module selects what concerns the product and answers CloudFormation. Powertools:
the Logger carries the Lambda context, the event is a ``CloudFormationCustomResourceEvent``, and the Metrics count
the resources tagged, skipped and failed.

Environment variables (all optional):

``AWS_RETRY_MODE`` / ``AWS_MAX_ATTEMPTS``
    read by botocore itself; the program sets ``standard`` / ``10``.
``POWERTOOLS_SERVICE_NAME`` / ``POWERTOOLS_LOG_LEVEL``
    aws-lambda-powertools Logger and Metrics. Defaults ``org-patching-window-tagging`` / ``INFO``.
"""

from __future__ import annotations

import dataclasses
import json
import os
import time
import urllib.error
import urllib.request
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import tag_contract
from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.utilities.data_classes import CloudFormationCustomResourceEvent, event_source
from aws_lambda_powertools.utilities.typing import LambdaContext
from lambda_shared.fleet import Fleet
from lambda_shared.observability import METRICS_NAMESPACE, failed_resources, function_account, record_outcome
from lambda_shared.tagging import ASG_KEY_PREFIX, Plan, Resource, apply, asg_resource, instance_resource, plan

SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME", "org-patching-window-tagging")
logger = Logger(service=SERVICE)
metrics = Metrics(namespace=METRICS_NAMESPACE, service=SERVICE)

#: CloudFormation rejects responses over 4,096 bytes; the reason is cut well below that.
MAX_REASON = 1000
SEND_ATTEMPTS = 3
#: Seconds between attempts to reach CloudFormation (times the attempt number).
SEND_RETRY_DELAY = 1.0


class InvalidRequest(ValueError):
    """The custom resource event or its properties are unusable; the message names the field and the value."""


# --------------------------------------------------------------------------------------------------------------
# Parsing
# --------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """One environment and its window, as the product's properties describe them."""

    environment: str
    window: str
    include_asg: bool


def parse_properties(properties: Any, where: str = "ResourceProperties") -> Target:
    """Validate ``Environment``/``WindowName``/``IncludeASG``."""
    if not isinstance(properties, Mapping):
        raise InvalidRequest(f"{where}: missing or not an object")
    raw_env = properties.get("Environment")
    environment = canonical = tag_contract.canonical_environment(raw_env if isinstance(raw_env, str) else None)
    if canonical is None:
        raise InvalidRequest(f"{where}.Environment: {raw_env!r} is not one of {', '.join(tag_contract.ENVIRONMENTS)}")
    expected = tag_contract.window_name(canonical)
    window = properties.get("WindowName", expected)
    if window != expected:
        raise InvalidRequest(f"{where}.WindowName: {window!r} must be {expected!r} for Environment {environment}")
    include = properties.get("IncludeASG", "No")
    if not isinstance(include, str) or include.strip().casefold() not in ("yes", "no", "true", "false"):
        raise InvalidRequest(f"{where}.IncludeASG: {include!r} is not Yes or No")
    return Target(environment=canonical, window=expected, include_asg=include.strip().casefold() in ("yes", "true"))


def physical_id(event: CloudFormationCustomResourceEvent) -> str:
    """Stable: the id CloudFormation already knows, or one derived from the stack and logical id on Create."""
    existing = event.physical_resource_id
    if isinstance(existing, str) and existing:
        return existing
    stack = str(event.get("StackId", "stack")).split("/")
    stack_name = stack[1] if len(stack) > 1 else stack[0]
    return f"org-patching-window-tagging-{stack_name}-{event.get('LogicalResourceId', 'EC2Tagging')}"


# --------------------------------------------------------------------------------------------------------------
# Deciding (pure)
# --------------------------------------------------------------------------------------------------------------


def belongs(tags: Mapping[str, str], environments: set[str], window: str) -> bool:
    """A resource concerns this product when its environment is one of ours or it points at our window."""
    return (
        tag_contract.canonical_environment(tags.get(tag_contract.ENVIRONMENT_TAG)) in environments
        or tags.get(tag_contract.MAINTENANCE_WINDOW_TAG) == window
    )


def plan_moves(resources: Iterable[Resource], environments: set[str], windows: set[str], window: str) -> Plan:
    """The shared plan over the resources of ``environments`` (or on ``window``), given the windows that exist."""
    return plan((r for r in resources if belongs(r.tags, environments, window)), windows)


# --------------------------------------------------------------------------------------------------------------
# Doing
# --------------------------------------------------------------------------------------------------------------


@dataclass
class Outcome:
    tagged: dict[str, dict[str, str]] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    errors: list[dict[str, Any]] = field(default_factory=list)


def move(
    aws: Fleet, account: str, environments: set[str], window: str, window_exists: bool, include_asg: bool
) -> Outcome:
    """Read, decide, write. ``window_exists`` False on Delete: the product's window no longer counts."""
    windows = aws.custom_windows()
    windows = windows | {window} if window_exists else windows - {window}
    # Both tags can concern us: an instance of our environment, or one still on our window.
    instances = {
        instance["InstanceId"]: instance
        for key in (tag_contract.ENVIRONMENT_TAG, tag_contract.MAINTENANCE_WINDOW_TAG)
        for instance in aws.instances(filters=[{"Name": "tag-key", "Values": [key]}])
    }
    resources = [instance_resource(instance) for instance in instances.values()]
    if include_asg:
        # Window tagging has always written to every group of the environment, a group being deleted too.
        resources += [dataclasses.replace(asg_resource(group), state_skip=None) for group in aws.asgs()]
    moves = plan_moves(resources, environments, windows, window)
    tagged, errors = apply(aws, moves, account)
    return Outcome(tagged=tagged, skipped=dict(moves.skipped), errors=errors)


def send_response(
    event: CloudFormationCustomResourceEvent, status: str, reason: str, physical: str, data: Mapping[str, Any]
) -> dict[str, Any]:
    """PUT the result to CloudFormation's pre-signed ResponseURL (a few attempts; urllib, no extra dependency)."""
    body = {
        "Status": status,
        # ASCII first: JSON escapes each non-ASCII character into 6 bytes, and the body must stay under 4,096.
        "Reason": reason.encode("ascii", "backslashreplace").decode("ascii")[:MAX_REASON],
        "PhysicalResourceId": physical,
        "StackId": event.get("StackId", ""),
        "RequestId": event.get("RequestId", ""),
        "LogicalResourceId": event.get("LogicalResourceId", ""),
        "NoEcho": False,
        "Data": dict(data),
    }
    payload = json.dumps(body).encode()
    url = event.get("ResponseURL")
    if not isinstance(url, str) or not url.startswith(("https://", "http://")):
        logger.error("no usable ResponseURL: CloudFormation cannot be answered", extra={"response": body})
        return body
    request = urllib.request.Request(
        url, data=payload, method="PUT", headers={"Content-Type": "", "Content-Length": str(len(payload))}
    )
    for attempt in range(1, SEND_ATTEMPTS + 1):
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                logger.info("answered CloudFormation", extra={"status": status, "http": response.status})
                return body
        except (urllib.error.URLError, OSError) as error:
            logger.warning("could not answer CloudFormation", extra={"attempt": attempt, "error": str(error)})
            if attempt < SEND_ATTEMPTS:
                time.sleep(SEND_RETRY_DELAY * attempt)
    logger.error("gave up answering CloudFormation", extra={"response": body})
    return body


@dataclass(frozen=True)
class Answer:
    """What CloudFormation is told, and the outcome behind it (for the metrics)."""

    status: str
    reason: str
    data: dict[str, Any]
    outcome: Outcome = field(default_factory=Outcome)


def process(event: CloudFormationCustomResourceEvent, account: str) -> Answer:
    """The answer to one custom resource event. Raises :class:`InvalidRequest` for bad input."""
    request_type = event.get("RequestType")
    if request_type not in ("Create", "Update", "Delete"):
        raise InvalidRequest(f"RequestType: {request_type!r} is not Create, Update or Delete")
    if request_type == "Delete":
        try:
            target = parse_properties(event.get("ResourceProperties"))
        except InvalidRequest as error:
            # Its Create failed on the same input: nothing was tagged, nothing to undo.
            return Answer("SUCCESS", f"nothing to undo ({error})", {})
        # ASGs always: with IncludeASG=No the tag-remediation sweep may still have moved them onto this window.
        outcome = move(Fleet(), account, {target.environment}, target.window, window_exists=False, include_asg=True)
        reason = _reason(outcome, f"moved back to {tag_contract.DEFAULT_WINDOW}")
        return Answer("SUCCESS", reason, _data(target, outcome), outcome)
    target = parse_properties(event.get("ResourceProperties"))
    aws = Fleet()
    outcome = Outcome()
    if request_type == "Update":
        try:
            old: Target | None = parse_properties(event.old_resource_properties, "OldResourceProperties")
        except InvalidRequest:
            old = None
        if old is not None and old.window != target.window:
            previous = move(
                aws, account, {old.environment}, old.window, window_exists=False, include_asg=old.include_asg
            )
            outcome.tagged.update(previous.tagged)
            outcome.errors.extend(previous.errors)
    current = move(
        aws, account, {target.environment}, target.window, window_exists=True, include_asg=target.include_asg
    )
    outcome.tagged.update(current.tagged)
    outcome.skipped.update(current.skipped)
    outcome.errors.extend(current.errors)
    status = "FAILED" if outcome.errors else "SUCCESS"
    return Answer(status, _reason(outcome, f"moved to {target.window}"), _data(target, outcome), outcome)


def _reason(outcome: Outcome, what: str) -> str:
    text = f"{what}: {len(outcome.tagged)} tagged, {len(outcome.skipped)} skipped, {len(outcome.errors)} errors"
    if outcome.errors:
        first = outcome.errors[0]
        text += f"; first error: {first['action']} {first['code']} in {first['account']}/{first['region']}"
    return text


def _data(target: Target, outcome: Outcome) -> dict[str, Any]:
    """Small on purpose: the whole response must stay under 4,096 bytes."""
    return {
        "Environment": target.environment,
        "WindowName": target.window,
        "InstancesTagged": sum(1 for k in outcome.tagged if not k.startswith(ASG_KEY_PREFIX)),
        "AsgsTagged": sum(1 for k in outcome.tagged if k.startswith(ASG_KEY_PREFIX)),
        "Skipped": len(outcome.skipped),
        "Errors": len(outcome.errors),
        "TaggingStatus": "FAILED" if outcome.errors else "SUCCESS",
    }


@metrics.log_metrics
@logger.inject_lambda_context
@event_source(data_class=CloudFormationCustomResourceEvent)
def handler(event: CloudFormationCustomResourceEvent, context: LambdaContext) -> dict[str, Any]:
    """Lambda entry point: whatever happens, CloudFormation gets an answer."""
    if not isinstance(event.raw_event, Mapping):
        event = CloudFormationCustomResourceEvent({})
    account = function_account(context) or os.environ.get("AWS_ACCOUNT_ID", "unknown")
    physical = physical_id(event)
    try:
        answer = process(event, account)
    except InvalidRequest as error:
        answer = Answer("FAILED", f"invalid request: {error}", {})
    except Exception as error:
        logger.exception("window tagging failed")
        answer = Answer("FAILED", f"{type(error).__name__}: {error}", {})
    outcome = answer.outcome
    record_outcome(
        metrics, tagged=len(outcome.tagged), skipped=len(outcome.skipped), failed=failed_resources(outcome.errors)
    )
    logger.info("window tagging result", extra={"status": answer.status, "reason": answer.reason, "data": answer.data})
    return send_response(event, answer.status, answer.reason, physical, answer.data)
