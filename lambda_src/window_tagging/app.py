"""Window tagging: the CloudFormation custom resource behind the Service Catalog "maintenance window" product.

When app team T launches the product for environment X, the product creates ``X_T_maintenance_window`` and this
resource moves T's instances of X (``patch_team=T``; unclaimed ones too while this is X's only window here) and,
with ``IncludeASG=Yes``, T's Auto Scaling groups of X onto that window; when the product is terminated it moves
them back to ``Default_maintenance_window`` (the seed's behaviour). Another team's resources are never selected,
and the tag contract would not move them to this window anyway (docs/teams.md).

Trust (issue: any caller could steer it): the event must come from a Service Catalog stack of this account and
Region, the answer goes only to CloudFormation's pre-signed S3 response URL of this Region (no SSRF), the window
(``WindowId``) must exist and carry the product's name, and the name is claimed once per account and Region
(``lambda_shared.window_claims``: a second window of the same name fails, even when two launches race).
A refused event gets no tagging; it is answered only when its ResponseURL is CloudFormation's.

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

Resource properties (from the product template): ``Environment`` (Dev|Test|Prod, any case), ``Team`` (the
``patch_team`` value), ``WindowId`` (the window the stack created), ``WindowName`` (must be
``<Environment>_<Team>_maintenance_window``), ``IncludeASG`` (``Yes``/``No``, default ``No``).

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
import re
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
from lambda_shared.custom_resource import origin_problem, response_url_problem
from lambda_shared.fleet import Fleet
from lambda_shared.observability import METRICS_NAMESPACE, failed_resources, function_account, record_outcome
from lambda_shared.tagging import ASG_KEY_PREFIX, Plan, Resource, apply, asg_resource, instance_resource, plan
from lambda_shared.window_claims import claim, release, window_name_of

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
    """One team's environment and its window, as the product's properties describe them."""

    environment: str
    team: str
    window: str
    include_asg: bool
    #: The window the stack created (``None`` only in a Delete of a window made by an older template).
    window_id: str | None = None


#: botocore ``ssm`` shape ``MaintenanceWindowId``.
WINDOW_ID_PATTERN = r"^mw-[0-9a-f]{17}$"


def parse_properties(properties: Any, where: str = "ResourceProperties", need_window_id: bool = True) -> Target:
    """Validate ``Environment``/``Team``/``WindowId``/``WindowName``/``IncludeASG``."""
    if not isinstance(properties, Mapping):
        raise InvalidRequest(f"{where}: missing or not an object")
    raw_env = properties.get("Environment")
    environment = canonical = tag_contract.canonical_environment(raw_env if isinstance(raw_env, str) else None)
    if canonical is None:
        raise InvalidRequest(f"{where}.Environment: {raw_env!r} is not one of {', '.join(tag_contract.ENVIRONMENTS)}")
    raw_team = properties.get("Team")
    team = tag_contract.canonical_team(raw_team if isinstance(raw_team, str) else None)
    if team is None or team != raw_team:
        raise InvalidRequest(f"{where}.Team: {raw_team!r} does not match {tag_contract.TEAM_NAME_PATTERN}")
    expected = tag_contract.team_window_name(canonical, team)
    window = properties.get("WindowName", expected)
    if window != expected:
        raise InvalidRequest(f"{where}.WindowName: {window!r} must be {expected!r} for Environment {environment}")
    window_id = properties.get("WindowId")
    malformed = not isinstance(window_id, str) or re.fullmatch(WINDOW_ID_PATTERN, window_id) is None
    if (window_id is not None or need_window_id) and malformed:
        raise InvalidRequest(f"{where}.WindowId: {window_id!r} is not a maintenance window id")
    include = properties.get("IncludeASG", "No")
    if not isinstance(include, str) or include.strip().casefold() not in ("yes", "no", "true", "false"):
        raise InvalidRequest(f"{where}.IncludeASG: {include!r} is not Yes or No")
    return Target(
        environment=canonical,
        team=team,
        window=expected,
        include_asg=include.strip().casefold() in ("yes", "true"),
        window_id=window_id,
    )


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


def belongs(tags: Mapping[str, str], environments: set[str], window: str, team: str) -> bool:
    """A resource concerns this product when it is of our environment and of our team (or of no team), or it
    points at our window. Another team's resource is never selected (docs/teams.md)."""
    if tags.get(tag_contract.MAINTENANCE_WINDOW_TAG) == window:
        return True
    if tag_contract.canonical_environment(tags.get(tag_contract.ENVIRONMENT_TAG)) not in environments:
        return False
    raw_team = tags.get(tag_contract.TEAM_TAG)
    return raw_team is None or not raw_team.strip() or tag_contract.canonical_team(raw_team) == team


def plan_moves(
    resources: Iterable[Resource], environments: set[str], windows: set[str], window: str, team: str
) -> Plan:
    """The shared plan over our team's resources of ``environments`` (or on ``window``), given the windows here."""
    return plan((r for r in resources if belongs(r.tags, environments, window, team)), windows)


# --------------------------------------------------------------------------------------------------------------
# Doing
# --------------------------------------------------------------------------------------------------------------


@dataclass
class Outcome:
    tagged: dict[str, dict[str, str]] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    errors: list[dict[str, Any]] = field(default_factory=list)


def move(aws: Fleet, account: str, target: Target, window_exists: bool, include_asg: bool) -> Outcome:
    """Read, decide, write. ``window_exists`` False on Delete: the product's window (by id) no longer counts."""
    environments, window, team = {target.environment}, target.window, target.team
    found = aws.windows()
    if window_exists:
        windows = set(found.values()) | {window}
    elif target.window_id is not None:
        # By id: another window of the same name (if one exists) still counts.
        windows = {name for window_id, name in found.items() if window_id != target.window_id}
    else:
        windows = set(found.values()) - {window}
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
    moves = plan_moves(resources, environments, windows, window, team)
    tagged, errors = apply(aws, moves, account)
    return Outcome(tagged=tagged, skipped=dict(moves.skipped), errors=errors)


def send_response(
    event: CloudFormationCustomResourceEvent,
    status: str,
    reason: str,
    physical: str,
    data: Mapping[str, Any],
    region: str,
) -> dict[str, Any]:
    """PUT the result to CloudFormation's pre-signed ResponseURL (a few attempts; urllib, no extra dependency).

    Only a URL :func:`response_url_problem` accepts is opened: never another host (no SSRF)."""
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
    problem = response_url_problem(url, region)
    if problem is not None:
        logger.error("not answering: " + problem, extra={"response": body})
        return body
    request = urllib.request.Request(
        str(url), data=payload, method="PUT", headers={"Content-Type": "", "Content-Length": str(len(payload))}
    )
    for attempt in range(1, SEND_ATTEMPTS + 1):
        try:
            # urllib never follows a redirect of a PUT (HTTPRedirectHandler), so no other host is reached.
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


def process(event: CloudFormationCustomResourceEvent, account: str, region: str) -> Answer:
    """The answer to one custom resource event. Raises :class:`InvalidRequest` for bad or untrusted input."""
    request_type = event.get("RequestType")
    if request_type not in ("Create", "Update", "Delete"):
        raise InvalidRequest(f"RequestType: {request_type!r} is not Create, Update or Delete")
    problem = origin_problem(event.get("StackId"), account, region)
    if problem is not None:
        raise InvalidRequest(problem)
    if request_type == "Delete":
        try:
            target = parse_properties(event.get("ResourceProperties"), need_window_id=False)
        except InvalidRequest as error:
            # Its Create failed on the same input: nothing was tagged, nothing to undo.
            return Answer("SUCCESS", f"nothing to undo ({error})", {})
        aws = Fleet()
        if target.window_id is not None and not _owns(aws, target):
            # A Create that lost the name: the other window's instances are not ours to move back.
            return Answer("SUCCESS", f"nothing to undo (window {target.window_id} never held {target.window})", {})
        # ASGs always: with IncludeASG=No the tag-remediation sweep may still have moved them onto this window.
        outcome = move(aws, account, target, window_exists=False, include_asg=True)
        if target.window_id is not None:
            release(aws.ssm, target.window, target.window_id)
        reason = _reason(outcome, f"moved back to {tag_contract.DEFAULT_WINDOW}")
        return Answer("SUCCESS", reason, _data(target, outcome), outcome)
    target = parse_properties(event.get("ResourceProperties"))
    aws = Fleet()
    assert target.window_id is not None  # parse_properties requires it on Create and Update
    actual = window_name_of(aws.ssm, target.window_id)
    if actual != target.window:
        found = "does not exist" if actual is None else f"is named {actual!r}"
        raise InvalidRequest(f"WindowId: window {target.window_id} {found}, not {target.window!r}")
    holder = claim(aws.ssm, target.window, target.window_id)
    if holder is not None:
        raise InvalidRequest(f"a window named {target.window!r} exists already here ({holder}): one per name")
    outcome = Outcome()
    if request_type == "Update":
        try:
            old: Target | None = parse_properties(
                event.old_resource_properties, "OldResourceProperties", need_window_id=False
            )
        except InvalidRequest:
            old = None
        if old is not None and old.window != target.window:
            previous = move(aws, account, old, window_exists=False, include_asg=old.include_asg)
            if old.window_id is not None:
                release(aws.ssm, old.window, old.window_id)
            outcome.tagged.update(previous.tagged)
            outcome.errors.extend(previous.errors)
    current = move(aws, account, target, window_exists=True, include_asg=target.include_asg)
    outcome.tagged.update(current.tagged)
    outcome.skipped.update(current.skipped)
    outcome.errors.extend(current.errors)
    status = "FAILED" if outcome.errors else "SUCCESS"
    return Answer(status, _reason(outcome, f"moved to {target.window}"), _data(target, outcome), outcome)


def _owns(aws: Fleet, target: Target) -> bool:
    """Whether ``target``'s window holds its name (or nobody does: a claim lost with a failed create)."""
    from lambda_shared.window_claims import claim_name

    try:
        holder = aws.ssm.get_parameter(Name=claim_name(target.window))["Parameter"]["Value"]
    except aws.ssm.exceptions.ParameterNotFound:
        return True
    return bool(holder == target.window_id)


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
        "Team": target.team,
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
    region = function_region(context) or os.environ.get("AWS_REGION", "unknown")
    physical = physical_id(event)
    try:
        answer = process(event, account, region)
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
    return send_response(event, answer.status, answer.reason, physical, answer.data, region)


def function_region(context: Any) -> str | None:
    """The Region this function runs in, from its ARN (no API call); ``None`` without a Lambda context."""
    parts = str(getattr(context, "invoked_function_arn", "") or "").split(":")
    return parts[3] if len(parts) > 4 and parts[3] else None
