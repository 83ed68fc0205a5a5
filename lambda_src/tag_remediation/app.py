"""Tag remediation: keep every EC2 instance and Auto Scaling group of one account+region on the tag contract.

Triggered by EventBridge in the account and region it runs in:

* ``Config Rules Compliance Change`` (source ``aws.config``) for ``AWS::EC2::Instance`` or
  ``AWS::AutoScaling::AutoScalingGroup`` (Config names an ASG by its ARN or its name): reconcile that one resource;
* ``Scheduled Event`` (source ``aws.events``): reconcile every instance and ASG (the sweep also catches what Config
  never reports, e.g. an ``environment`` tag changed on an already-compliant instance).

Why it is built this way:

* Deciding is pure (:func:`plan`): the tag contract (``tag_contract.decide``) says what each resource must carry and
  the plan groups the missing tags so that all instances needing the same tags are fixed by ONE ``CreateTags`` call
  (up to 1,000 ids per call, the documented limit). A resource that already carries the contract's tags is never
  written, so a second run makes zero writes.
* Doing is a thin boto3 adapter (:class:`Aws`): every describe pages, clients use botocore's standard (or adaptive)
  retry mode so throttling at fleet scale is retried instead of dropping resources.
* One failure (AccessDenied, a throttle that outlasted the retries) is reported with its account, region and
  resource ids in ``errors`` and never stops the rest of the run.

Environment variables (all optional):

``MAX_ATTEMPTS``
    botocore ``max_attempts`` (total attempts per call, first one included). Default ``10``.
``RETRY_MODE``
    botocore retry mode, ``standard`` or ``adaptive``. Default ``standard``.
``DRY_RUN``
    ``true`` to compute and report the changes without writing. Default ``false``.
``POWERTOOLS_SERVICE_NAME`` / ``POWERTOOLS_LOG_LEVEL``
    read by aws-lambda-powertools' Logger. Defaults ``org-patching-tag-remediation`` / ``INFO``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import boto3
import tag_contract
from aws_lambda_powertools import Logger
from botocore.config import Config
from botocore.exceptions import ClientError

logger = Logger(service=os.environ.get("POWERTOOLS_SERVICE_NAME", "org-patching-tag-remediation"))

CONFIG_DETAIL_TYPE = "Config Rules Compliance Change"
INSTANCE_ID_PATTERN = re.compile(r"^i-[0-9a-f]{8,17}\Z")
REGION_PATTERN = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d+\Z", re.ASCII)  # \Z: "$" accepts a trailing newline
SCHEDULED_DETAIL_TYPE = "Scheduled Event"
EC2_INSTANCE = "AWS::EC2::Instance"
AUTOSCALING_GROUP = "AWS::AutoScaling::AutoScalingGroup"
#: CreateTags accepts up to 1,000 resource ids per call (EC2 API reference, CreateTags "Constraints").
CREATE_TAGS_MAX_IDS = 1000
#: DescribeInstances page size (its documented maximum); ASG pages are at most 100.
DESCRIBE_INSTANCES_PAGE = 1000
DESCRIBE_ASGS_PAGE = 100
#: Instances in these states can still be patched later (stopped ones too: seed bug 11 left them stale).
LIVE_STATES = ("pending", "running", "stopping", "stopped")
#: ASG results are keyed ``asg/<name>`` so they never collide with instance ids in one summary.
ASG_KEY_PREFIX = "asg/"
ACCESS_ERRORS = ("AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "UnauthorizedAccess")


class MalformedEvent(ValueError):
    """The event is not one this function handles; the message names the field and the value."""


# --------------------------------------------------------------------------------------------------------------
# Parsing: event -> typed request
# --------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Request:
    """What one invocation must reconcile: everything (sweep) or one resource."""

    scope: Literal["sweep", "instance", "asg"]
    resource_id: str | None = None
    region: str | None = None
    #: A reason to do nothing at all (e.g. the resource was deleted); reported as a skip.
    skip: str | None = None


def asg_name_from_resource_id(resource_id: str) -> str:
    """Config reports an ASG as its ARN (``...:autoScalingGroupName/<name>``) or just its name."""
    if resource_id.startswith("arn:"):
        marker = "autoScalingGroupName/"
        if marker not in resource_id:
            raise MalformedEvent(f"detail.resourceId: {resource_id!r} is not an Auto Scaling group ARN")
        return resource_id.split(marker, 1)[1]
    return resource_id


def parse_event(event: Any) -> Request:
    """Turn an EventBridge event into a :class:`Request`, or raise :class:`MalformedEvent` saying why."""
    if not isinstance(event, Mapping):
        raise MalformedEvent(f"event: expected a JSON object, got {type(event).__name__}")
    detail_type = event.get("detail-type")
    if detail_type == SCHEDULED_DETAIL_TYPE:
        # One function per account sweeps every region: each schedule target names its region.
        region = event.get("region")
        if region is not None and not (isinstance(region, str) and REGION_PATTERN.match(region)):
            raise MalformedEvent(f"region: {region!r} is not a region name")
        return Request(scope="sweep", region=region)
    if detail_type != CONFIG_DETAIL_TYPE:
        expected = f"expected {CONFIG_DETAIL_TYPE!r} or {SCHEDULED_DETAIL_TYPE!r}"
        raise MalformedEvent(f"detail-type: {detail_type!r} is not handled ({expected})")
    detail = event.get("detail")
    if not isinstance(detail, Mapping):
        raise MalformedEvent("detail: missing or not an object in a Config compliance event")
    resource_type = detail.get("resourceType")
    resource_id = detail.get("resourceId")
    if not isinstance(resource_id, str) or not resource_id.strip():
        raise MalformedEvent(f"detail.resourceId: missing or empty ({resource_id!r})")
    region = detail.get("awsRegion") or event.get("region")
    if region is not None and not (isinstance(region, str) and REGION_PATTERN.match(region)):
        raise MalformedEvent(f"detail.awsRegion: {region!r} is not a region name")
    new_result = detail.get("newEvaluationResult")
    compliance = new_result.get("complianceType") if isinstance(new_result, Mapping) else None
    if resource_type == EC2_INSTANCE:
        scope: Literal["instance", "asg"] = "instance"
        name = resource_id.strip()
        if not INSTANCE_ID_PATTERN.match(name):  # e.g. control characters: never sent to EC2 (found by tests/fuzz)
            raise MalformedEvent(f"detail.resourceId: {resource_id!r} is not an instance id")
    elif resource_type == AUTOSCALING_GROUP:
        scope = "asg"
        name = asg_name_from_resource_id(resource_id.strip())
    else:
        raise MalformedEvent(
            f"detail.resourceType: {resource_type!r} is not handled (expected {EC2_INSTANCE} or {AUTOSCALING_GROUP})"
        )
    if compliance == "NOT_APPLICABLE":
        # Config reports NOT_APPLICABLE when the resource was deleted or left the rule's scope.
        return Request(scope=scope, resource_id=name, region=region, skip="not applicable: Config says NOT_APPLICABLE")
    return Request(scope=scope, resource_id=name, region=region)


# --------------------------------------------------------------------------------------------------------------
# Deciding (pure)
# --------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Resource:
    """An instance or an ASG as the contract sees it: an id, a kind and its tags."""

    key: str
    kind: tag_contract.ResourceKind
    tags: Mapping[str, str]
    #: ASG only: tag keys whose PropagateAtLaunch is false (the contract wants them propagated to new members).
    unpropagated: frozenset[str] = frozenset()
    #: Instance only: a reason it cannot be patched at all (e.g. terminated).
    state_skip: str | None = None


TagSet = tuple[tuple[str, str], ...]


@dataclass
class Plan:
    """The writes one run must make, grouped so that identical tag sets share one call."""

    instance_batches: dict[TagSet, list[str]] = field(default_factory=dict)
    asg_writes: dict[str, dict[str, str]] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)
    unchanged: list[str] = field(default_factory=list)


def plan(resources: Iterable[Resource], custom_windows: Iterable[str]) -> Plan:
    """Decide, for every resource, the tags to write (nothing when already correct) or why it is skipped."""
    windows = frozenset(custom_windows)
    result = Plan()
    for resource in resources:
        if resource.state_skip:
            result.skipped[resource.key] = resource.state_skip
            continue
        decision = tag_contract.decide(resource.tags, windows, resource.kind)
        if decision.skip:
            result.skipped[resource.key] = decision.skip
            continue
        if decision.note:
            result.notes[resource.key] = decision.note
        changes = decision.changes(resource.tags)
        if resource.kind == "asg":
            # A correct value that does not propagate still has to be rewritten (with PropagateAtLaunch=True).
            changes.update({k: v for k, v in decision.desired.items() if k in resource.unpropagated})
        if not changes:
            result.unchanged.append(resource.key)
        elif resource.kind == "asg":
            result.asg_writes[resource.key.removeprefix(ASG_KEY_PREFIX)] = dict(sorted(changes.items()))
        else:
            result.instance_batches.setdefault(tuple(sorted(changes.items())), []).append(resource.key)
    return result


def chunks(items: list[str], size: int) -> Iterator[list[str]]:
    """``items`` in consecutive slices of at most ``size``."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


def instance_resource(instance: Mapping[str, Any]) -> Resource:
    """An EC2 DescribeInstances item as a contract resource."""
    tags = {t["Key"]: t.get("Value", "") for t in instance.get("Tags", [])}
    state = instance.get("State", {}).get("Name")
    state_skip = f"instance is {state}" if state not in LIVE_STATES else None
    return Resource(key=instance["InstanceId"], kind="instance", tags=tags, state_skip=state_skip)


def asg_resource(group: Mapping[str, Any]) -> Resource:
    """An Auto Scaling DescribeAutoScalingGroups item as a contract resource."""
    tags = {t["Key"]: t.get("Value", "") for t in group.get("Tags", [])}
    unpropagated = frozenset(t["Key"] for t in group.get("Tags", []) if not t.get("PropagateAtLaunch", False))
    state_skip = "Auto Scaling group is being deleted" if group.get("Status") == "Delete in progress" else None
    return Resource(
        key=f"{ASG_KEY_PREFIX}{group['AutoScalingGroupName']}",
        kind="asg",
        tags=tags,
        unpropagated=unpropagated,
        state_skip=state_skip,
    )


# --------------------------------------------------------------------------------------------------------------
# Doing (thin boto3 adapter)
# --------------------------------------------------------------------------------------------------------------


def retry_config() -> Config:
    """botocore retries from the environment (standard mode, 10 attempts by default)."""
    mode = os.environ.get("RETRY_MODE", "standard").strip().lower()
    if mode not in ("standard", "adaptive"):
        raise ValueError(f"RETRY_MODE: {mode!r} is not 'standard' or 'adaptive'")
    raw = os.environ.get("MAX_ATTEMPTS", "10")
    try:
        attempts = int(raw)
    except ValueError:
        raise ValueError(f"MAX_ATTEMPTS: {raw!r} is not an integer") from None
    if attempts < 1:
        raise ValueError(f"MAX_ATTEMPTS: {attempts} must be at least 1")
    return Config(retries={"mode": mode, "max_attempts": attempts})  # type: ignore[typeddict-item]


class Aws:
    """The few EC2, Auto Scaling and SSM calls this function makes; every describe pages."""

    def __init__(self, region: str | None = None) -> None:
        config = retry_config()
        self.ec2 = boto3.client("ec2", region_name=region, config=config)
        self.autoscaling = boto3.client("autoscaling", region_name=region, config=config)
        self.ssm = boto3.client("ssm", region_name=region, config=config)
        self.region: str = self.ec2.meta.region_name

    def custom_windows(self) -> set[str]:
        """Names of the environment windows (``Dev/Test/Prod_maintenance_window``) that exist here."""
        wanted = [tag_contract.window_name(env) for env in tag_contract.ENVIRONMENTS]
        found: set[str] = set()
        paginator = self.ssm.get_paginator("describe_maintenance_windows")
        for page in paginator.paginate(Filters=[{"Key": "Name", "Values": wanted}]):
            found.update(w["Name"] for w in page.get("WindowIdentities", []) if w.get("Name") in wanted)
        return found

    def instances(self, instance_ids: list[str] | None = None) -> Iterator[Mapping[str, Any]]:
        """Instances in a live state (all of them) or the given ids (any state, so the caller can say why)."""
        paginator = self.ec2.get_paginator("describe_instances")
        if instance_ids:
            pages = paginator.paginate(InstanceIds=instance_ids)
        else:
            pages = paginator.paginate(
                Filters=[{"Name": "instance-state-name", "Values": list(LIVE_STATES)}],
                PaginationConfig={"PageSize": DESCRIBE_INSTANCES_PAGE},
            )
        for page in pages:
            for reservation in page.get("Reservations", []):
                yield from reservation.get("Instances", [])

    def asgs(self, names: list[str] | None = None) -> Iterator[Mapping[str, Any]]:
        """All Auto Scaling groups, or the named ones."""
        paginator = self.autoscaling.get_paginator("describe_auto_scaling_groups")
        kwargs: dict[str, Any] = {"PaginationConfig": {"PageSize": DESCRIBE_ASGS_PAGE}}
        if names:
            kwargs["AutoScalingGroupNames"] = names
        for page in paginator.paginate(**kwargs):
            yield from page.get("AutoScalingGroups", [])

    def tag_instances(self, instance_ids: list[str], tags: Mapping[str, str]) -> None:
        """One CreateTags call for up to 1,000 instances that need the same tags."""
        self.ec2.create_tags(Resources=instance_ids, Tags=[{"Key": k, "Value": v} for k, v in tags.items()])

    def tag_asg(self, name: str, tags: Mapping[str, str]) -> None:
        """CreateOrUpdateTags for one group (the API documents one group per call), propagated at launch."""
        self.autoscaling.create_or_update_tags(
            Tags=[
                {
                    "ResourceId": name,
                    "ResourceType": "auto-scaling-group",
                    "Key": key,
                    "Value": value,
                    "PropagateAtLaunch": True,
                }
                for key, value in tags.items()
            ]
        )


def error_entry(account: str, region: str, action: str, ids: list[str], error: Exception) -> dict[str, Any]:
    """An ``errors`` item: where it happened, on what, and AWS's code and message."""
    code = error.response.get("Error", {}).get("Code", "Unknown") if isinstance(error, ClientError) else "Error"
    return {
        "account": account,
        "region": region,
        "action": action,
        "resources": ids,
        "code": code,
        "message": str(error),
    }


def function_account(context: Any) -> str | None:
    """The account this function runs in, from its ARN (no API call); ``None`` outside Lambda."""
    parts = str(getattr(context, "invoked_function_arn", "") or "").split(":")
    return parts[4] if len(parts) > 4 and parts[4].isdigit() else None


def account_of(event: Any, context: Any = None) -> str:
    """The account this run works in, for error messages: the function's, else the event's, else ``unknown``."""
    own = function_account(context)
    if own:
        return own
    if isinstance(event, Mapping):
        detail = event.get("detail")
        if isinstance(detail, Mapping) and isinstance(detail.get("awsAccountId"), str):
            return str(detail["awsAccountId"])
        if isinstance(event.get("account"), str):
            return str(event["account"])
    return os.environ.get("AWS_ACCOUNT_ID", "unknown")


def foreign_account(event: Any, context: Any) -> str | None:
    """Why a Config event about ANOTHER account is skipped (forwarded through a central bus), or ``None``."""
    own = function_account(context)
    detail = event.get("detail") if isinstance(event, Mapping) else None
    other = detail.get("awsAccountId") if isinstance(detail, Mapping) else None
    if own and isinstance(other, str) and other != own:
        return f"not this account: the resource is in {other}, this function runs in {own}"
    return None


def collect(aws: Aws, request: Request) -> tuple[list[Resource], dict[str, str]]:
    """Read the resources a request covers; ids that no longer exist come back as skips."""
    missing: dict[str, str] = {}
    resources: list[Resource] = []
    if request.scope in ("sweep", "instance"):
        ids = [request.resource_id] if request.scope == "instance" and request.resource_id else None
        try:
            resources.extend(instance_resource(i) for i in aws.instances(ids))
        except ClientError as error:
            if ids and error.response.get("Error", {}).get("Code") in (
                "InvalidInstanceID.NotFound",
                "InvalidInstanceID.Malformed",
            ):
                missing[ids[0]] = f"not found: {error.response['Error']['Code']} (deleted before this run?)"
            else:
                raise
        if ids and not resources and ids[0] not in missing:
            missing[ids[0]] = "not found (deleted before this run?)"
    if request.scope in ("sweep", "asg"):
        names = [request.resource_id] if request.scope == "asg" and request.resource_id else None
        resources.extend(asg_resource(g) for g in aws.asgs(names))
        if names and not any(r.key == f"{ASG_KEY_PREFIX}{names[0]}" for r in resources):
            missing[f"{ASG_KEY_PREFIX}{names[0]}"] = "not found (deleted before this run?)"
    return resources, missing


def apply(aws: Aws, the_plan: Plan, account: str, dry_run: bool) -> tuple[dict[str, dict[str, str]], list[Any]]:
    """Make the planned writes; one failed batch is reported and the others still run."""
    tagged: dict[str, dict[str, str]] = {}
    errors: list[Any] = []
    for tag_set, ids in the_plan.instance_batches.items():
        tags = dict(tag_set)
        for batch in chunks(sorted(ids), CREATE_TAGS_MAX_IDS):
            try:
                if not dry_run:
                    aws.tag_instances(batch, tags)
            except ClientError as error:
                errors.append(error_entry(account, aws.region, "ec2:CreateTags", batch, error))
                continue
            tagged.update({instance_id: tags for instance_id in batch})
    for name, tags in sorted(the_plan.asg_writes.items()):
        try:
            if not dry_run:
                aws.tag_asg(name, tags)
        except ClientError as error:
            errors.append(error_entry(account, aws.region, "autoscaling:CreateOrUpdateTags", [name], error))
            continue
        tagged[f"{ASG_KEY_PREFIX}{name}"] = tags
    return tagged, errors


def summary(
    tagged: Mapping[str, Mapping[str, str]],
    skipped: Mapping[str, str],
    errors: list[Any],
    notes: Mapping[str, str] | None = None,
    unchanged: int = 0,
    dry_run: bool = False,
) -> dict[str, Any]:
    """The JSON result: the three contract keys, plus the Default fallback notes and counts for dashboards."""
    return {
        "tagged": {k: dict(v) for k, v in tagged.items()},
        "skipped": dict(skipped),
        "errors": errors,
        "notes": dict(notes or {}),
        "unchanged": unchanged,
        "dryRun": dry_run,
    }


def run(event: Any, context: Any = None, aws_factory: type[Aws] = Aws) -> dict[str, Any]:
    """Parse, read, decide, write. Raises :class:`MalformedEvent` (no AWS call made) for an unusable event."""
    request = parse_event(event)
    account = account_of(event, context)
    dry_run = os.environ.get("DRY_RUN", "false").strip().lower() in ("1", "true", "yes")
    skip = request.skip or (foreign_account(event, context) if request.scope != "sweep" else None)
    if skip:
        return summary({}, {str(request.resource_id): skip}, [])
    aws = aws_factory(request.region)
    try:
        windows = aws.custom_windows()
        resources, missing = collect(aws, request)
    except ClientError as error:
        ids = [request.resource_id] if request.resource_id else []
        return summary({}, {}, [error_entry(account, aws.region, "describe", ids, error)])
    the_plan = plan(resources, windows)
    tagged, errors = apply(aws, the_plan, account, dry_run)
    return summary(tagged, {**missing, **the_plan.skipped}, errors, the_plan.notes, len(the_plan.unchanged), dry_run)


#: Items of each map kept in the log line: a 5,000-instance sweep must stay far below CloudWatch's 256 KB event.
LOG_SAMPLE = 50


def loggable(result: Mapping[str, Any]) -> dict[str, Any]:
    """The summary as logged: counts plus the first ``LOG_SAMPLE`` items of each map (the return value is whole)."""
    out: dict[str, Any] = {}
    for key, value in result.items():
        if isinstance(value, Mapping):
            out[f"{key}Count"] = len(value)
            out[key] = dict(list(value.items())[:LOG_SAMPLE])
        elif isinstance(value, list):
            out[f"{key}Count"] = len(value)
            out[key] = value[:LOG_SAMPLE]
        else:
            out[key] = value
    return out


#: Key of the ``skipped`` entry that explains why a whole event was ignored.
EVENT_KEY = "event"


def handler(event: Any, context: Any) -> dict[str, Any]:
    """Lambda entry point.

    A malformed or foreign event is skipped with the reason under ``skipped["event"]`` and logged as an error,
    before any AWS call: raising would only make EventBridge retry an event that can never succeed.
    """
    request_id = getattr(context, "aws_request_id", None)
    if request_id:
        logger.append_keys(request_id=request_id)
    try:
        result = run(event, context)
    except MalformedEvent as error:
        logger.error("malformed event skipped", extra={"reason": str(error)})
        return summary({}, {EVENT_KEY: f"malformed event: {error}"}, [])
    logger.info("tag remediation summary", extra={"summary": loggable(result)})
    if result["errors"]:
        logger.error("tag remediation errors", extra={"errors": result["errors"]})
    return result
