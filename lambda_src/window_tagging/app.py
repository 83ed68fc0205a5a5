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

Environment variables (all optional):

``MAX_ATTEMPTS``
    botocore ``max_attempts``. Default ``10``.
``RETRY_MODE``
    ``standard`` or ``adaptive``. Default ``standard``.
``POWERTOOLS_SERVICE_NAME`` / ``POWERTOOLS_LOG_LEVEL``
    aws-lambda-powertools Logger. Defaults ``org-patching-window-tagging`` / ``INFO``.
"""

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import boto3
import tag_contract
from aws_lambda_powertools import Logger
from botocore.config import Config
from botocore.exceptions import ClientError

logger = Logger(service=os.environ.get("POWERTOOLS_SERVICE_NAME", "org-patching-window-tagging"))

CREATE_TAGS_MAX_IDS = 1000
LIVE_STATES = ("pending", "running", "stopping", "stopped")
ASG_KEY_PREFIX = "asg/"
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


def physical_id(event: Mapping[str, Any]) -> str:
    """Stable: the id CloudFormation already knows, or one derived from the stack and logical id on Create."""
    existing = event.get("PhysicalResourceId")
    if isinstance(existing, str) and existing:
        return existing
    stack = str(event.get("StackId", "stack")).split("/")
    stack_name = stack[1] if len(stack) > 1 else stack[0]
    return f"org-patching-window-tagging-{stack_name}-{event.get('LogicalResourceId', 'EC2Tagging')}"


# --------------------------------------------------------------------------------------------------------------
# Deciding (pure)
# --------------------------------------------------------------------------------------------------------------


@dataclass
class Moves:
    """Planned writes: instance batches by identical tag set, one write per ASG, skips with reasons."""

    instance_batches: dict[tuple[tuple[str, str], ...], list[str]] = field(default_factory=dict)
    asg_writes: dict[str, dict[str, str]] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)


def belongs(tags: Mapping[str, str], environments: set[str], window: str) -> bool:
    """A resource concerns this product when its environment is one of ours or it points at our window."""
    return (
        tag_contract.canonical_environment(tags.get(tag_contract.ENVIRONMENT_TAG)) in environments
        or tags.get(tag_contract.MAINTENANCE_WINDOW_TAG) == window
    )


def plan_moves(
    instances: Sequence[tuple[str, Mapping[str, str]]],
    asgs: Sequence[tuple[str, Mapping[str, str], frozenset[str]]],
    environments: set[str],
    windows: set[str],
    window: str,
) -> Moves:
    """Decide the writes for resources of ``environments`` (or on ``window``) given the windows that exist."""
    moves = Moves()
    for instance_id, tags in instances:
        if not belongs(tags, environments, window):
            continue
        decision = tag_contract.decide(tags, windows, "instance")
        if decision.skip:
            moves.skipped[instance_id] = decision.skip
            continue
        changes = decision.changes(tags)
        if changes:
            moves.instance_batches.setdefault(tuple(sorted(changes.items())), []).append(instance_id)
    for name, tags, unpropagated in asgs:
        if not belongs(tags, environments, window):
            continue
        decision = tag_contract.decide(tags, windows, "asg")
        if decision.skip:
            moves.skipped[f"{ASG_KEY_PREFIX}{name}"] = decision.skip
            continue
        changes = decision.changes(tags)
        changes.update({k: v for k, v in decision.desired.items() if k in unpropagated})
        if changes:
            moves.asg_writes[name] = dict(sorted(changes.items()))
    return moves


# --------------------------------------------------------------------------------------------------------------
# Doing
# --------------------------------------------------------------------------------------------------------------


def retry_config() -> Config:
    """botocore retries from the environment (standard mode, 10 attempts by default)."""
    mode = os.environ.get("RETRY_MODE", "standard").strip().lower()
    if mode not in ("standard", "adaptive"):
        raise ValueError(f"RETRY_MODE: {mode!r} is not 'standard' or 'adaptive'")
    raw = os.environ.get("MAX_ATTEMPTS", "10")
    if not raw.strip().isdigit() or int(raw) < 1:
        raise ValueError(f"MAX_ATTEMPTS: {raw!r} is not a positive integer")
    return Config(retries={"mode": mode, "max_attempts": int(raw)})  # type: ignore[typeddict-item]


class Aws:
    """EC2, Auto Scaling and SSM calls; every describe pages."""

    def __init__(self) -> None:
        config = retry_config()
        self.ec2 = boto3.client("ec2", config=config)
        self.autoscaling = boto3.client("autoscaling", config=config)
        self.ssm = boto3.client("ssm", config=config)
        self.region: str = self.ec2.meta.region_name

    def custom_windows(self) -> set[str]:
        wanted = [tag_contract.window_name(env) for env in tag_contract.ENVIRONMENTS]
        found: set[str] = set()
        for page in self.ssm.get_paginator("describe_maintenance_windows").paginate(
            Filters=[{"Key": "Name", "Values": wanted}]
        ):
            found.update(w["Name"] for w in page.get("WindowIdentities", []) if w.get("Name") in wanted)
        return found

    def instances(self) -> Iterator[tuple[str, dict[str, str]]]:
        """Every non-terminated instance that has an environment or window tag (both can concern us)."""
        paginator = self.ec2.get_paginator("describe_instances")
        for tag_key in (tag_contract.ENVIRONMENT_TAG, tag_contract.MAINTENANCE_WINDOW_TAG):
            for page in paginator.paginate(
                Filters=[
                    {"Name": "instance-state-name", "Values": list(LIVE_STATES)},
                    {"Name": "tag-key", "Values": [tag_key]},
                ],
                PaginationConfig={"PageSize": 1000},
            ):
                for reservation in page.get("Reservations", []):
                    for instance in reservation.get("Instances", []):
                        yield instance["InstanceId"], {t["Key"]: t.get("Value", "") for t in instance.get("Tags", [])}

    def asgs(self) -> Iterator[tuple[str, dict[str, str], frozenset[str]]]:
        for page in self.autoscaling.get_paginator("describe_auto_scaling_groups").paginate(
            PaginationConfig={"PageSize": 100}
        ):
            for group in page.get("AutoScalingGroups", []):
                tags = group.get("Tags", [])
                yield (
                    group["AutoScalingGroupName"],
                    {t["Key"]: t.get("Value", "") for t in tags},
                    frozenset(t["Key"] for t in tags if not t.get("PropagateAtLaunch", False)),
                )

    def tag_instances(self, ids: list[str], tags: Mapping[str, str]) -> None:
        self.ec2.create_tags(Resources=ids, Tags=[{"Key": k, "Value": v} for k, v in tags.items()])

    def tag_asg(self, name: str, tags: Mapping[str, str]) -> None:
        self.autoscaling.create_or_update_tags(
            Tags=[
                {
                    "ResourceId": name,
                    "ResourceType": "auto-scaling-group",
                    "Key": k,
                    "Value": v,
                    "PropagateAtLaunch": True,
                }
                for k, v in tags.items()
            ]
        )


@dataclass
class Outcome:
    tagged: dict[str, dict[str, str]] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    errors: list[dict[str, Any]] = field(default_factory=list)


def move(aws: Aws, environments: set[str], window: str, window_exists: bool, include_asg: bool) -> Outcome:
    """Read, decide, write. ``window_exists`` False on Delete: the product's window no longer counts."""
    windows = aws.custom_windows()
    windows = windows | {window} if window_exists else windows - {window}
    instances = list({i: t for i, t in aws.instances()}.items())
    asgs = list(aws.asgs()) if include_asg else []
    moves = plan_moves(instances, asgs, environments, windows, window)
    outcome = Outcome(skipped=dict(moves.skipped))
    for tag_set, ids in moves.instance_batches.items():
        tags = dict(tag_set)
        for start in range(0, len(ids), CREATE_TAGS_MAX_IDS):
            batch = sorted(ids)[start : start + CREATE_TAGS_MAX_IDS]
            try:
                aws.tag_instances(batch, tags)
            except ClientError as error:
                outcome.errors.append(_error(aws, "ec2:CreateTags", batch, error))
                continue
            outcome.tagged.update(dict.fromkeys(batch, tags))
    for name, tags in sorted(moves.asg_writes.items()):
        try:
            aws.tag_asg(name, tags)
        except ClientError as error:
            outcome.errors.append(_error(aws, "autoscaling:CreateOrUpdateTags", [name], error))
            continue
        outcome.tagged[f"{ASG_KEY_PREFIX}{name}"] = tags
    return outcome


#: The account this function runs in (from its ARN), for error entries; set by the handler.
_ACCOUNT = {"id": "unknown"}


def _error(aws: Aws, action: str, ids: list[str], error: ClientError) -> dict[str, Any]:
    return {
        "account": _ACCOUNT["id"],
        "region": aws.region,
        "action": action,
        "resources": ids,
        "code": error.response.get("Error", {}).get("Code", "Unknown"),
        "message": str(error),
    }


def send_response(
    event: Mapping[str, Any], status: str, reason: str, physical: str, data: Mapping[str, Any]
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


def process(event: Mapping[str, Any]) -> tuple[str, str, dict[str, Any]]:
    """(status, reason, data) for one custom resource event. Raises :class:`InvalidRequest` for bad input."""
    request_type = event.get("RequestType")
    if request_type not in ("Create", "Update", "Delete"):
        raise InvalidRequest(f"RequestType: {request_type!r} is not Create, Update or Delete")
    if request_type == "Delete":
        try:
            target = parse_properties(event.get("ResourceProperties"))
        except InvalidRequest as error:
            # Its Create failed on the same input: nothing was tagged, nothing to undo.
            return "SUCCESS", f"nothing to undo ({error})", {}
        # ASGs always: with IncludeASG=No the tag-remediation sweep may still have moved them onto this window.
        outcome = move(Aws(), {target.environment}, target.window, window_exists=False, include_asg=True)
        return "SUCCESS", _reason(outcome, f"moved back to {tag_contract.DEFAULT_WINDOW}"), _data(target, outcome)
    target = parse_properties(event.get("ResourceProperties"))
    aws = Aws()
    outcome = Outcome()
    if request_type == "Update" and isinstance(event.get("OldResourceProperties"), Mapping):
        try:
            old = parse_properties(event["OldResourceProperties"], "OldResourceProperties")
        except InvalidRequest:
            old = None
        if old is not None and old.window != target.window:
            previous = move(aws, {old.environment}, old.window, window_exists=False, include_asg=old.include_asg)
            outcome.tagged.update(previous.tagged)
            outcome.errors.extend(previous.errors)
    current = move(aws, {target.environment}, target.window, window_exists=True, include_asg=target.include_asg)
    outcome.tagged.update(current.tagged)
    outcome.skipped.update(current.skipped)
    outcome.errors.extend(current.errors)
    status = "FAILED" if outcome.errors else "SUCCESS"
    return status, _reason(outcome, f"moved to {target.window}"), _data(target, outcome)


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


def handler(event: Any, context: Any) -> dict[str, Any]:
    """Lambda entry point: whatever happens, CloudFormation gets an answer."""
    event = event if isinstance(event, Mapping) else {}
    parts = str(getattr(context, "invoked_function_arn", "") or "").split(":")
    _ACCOUNT["id"] = parts[4] if len(parts) > 4 and parts[4].isdigit() else os.environ.get("AWS_ACCOUNT_ID", "unknown")
    physical = physical_id(event)
    try:
        status, reason, data = process(event)
    except InvalidRequest as error:
        status, reason, data = "FAILED", f"invalid request: {error}", {}
    except Exception as error:
        logger.exception("window tagging failed")
        status, reason, data = "FAILED", f"{type(error).__name__}: {error}", {}
    logger.info("window tagging result", extra={"status": status, "reason": reason, "data": data})
    return send_response(event, status, reason, physical, data)
