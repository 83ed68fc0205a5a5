"""Tag remediation: keep every EC2 instance and Auto Scaling group of one account+region on the tag contract.

Triggered by EventBridge in the account and region it runs in:

* ``Config Rules Compliance Change`` (source ``aws.config``) for ``AWS::EC2::Instance`` or
  ``AWS::AutoScaling::AutoScalingGroup`` (Config names an ASG by its ARN or its name): reconcile that one resource;
* ``Scheduled Event`` (source ``aws.events``): reconcile every instance and ASG (the sweep also catches what Config
  never reports, e.g. an ``environment`` tag changed on an already-compliant instance);
* ``org-patching Sweep Resume`` (source ``org-patching.tag-remediation``, sent by this function to itself): go on
  with a sweep that stopped at a page boundary when its invocation ran short of time (``lambda_shared.sweep_pages``).

An exempt resource (``install_patch=no``) that still carries ``Patch Group``/``maintenance_window`` has them
deleted (``untagged`` in the result): the windows and emergency waves target those tags, so the exemption holds
at patch time only once they are gone.

Why it is built this way:

* Deciding is pure and shared with window tagging (``lambda_shared.tagging.plan``): the tag contract says what each
  resource must carry, identical tag sets share one ``CreateTags`` call, and a resource that already carries the
  contract's tags is never written, so a second run makes zero writes.
* Doing is the shared runtime (``lambda_shared.fleet.Fleet``, ``lambda_shared.tagging.apply``): every describe pages,
  clients retry throttling as the environment says, and one failure (AccessDenied, a throttle that outlasted the
  retries) is reported with its account, region and resource ids in ``errors`` and never stops the rest of the run.
* The sweep also runs the profile check (``lambda_shared.instance_profiles``): instances the contract patches that
  SSM does not manage come back under ``unmanaged`` (the ``patchctl report --unmanaged`` format), and the repairs
  ``patching.instanceProfiles`` allows are made (``profiles``); the unmanaged ones also go into the hub's lake
  (``lambda_shared.unmanaged_findings``, ``unmanagedLake`` in the result), where ``patchctl report`` reads them.
* Powertools: the Logger carries the Lambda context, the event is an ``EventBridgeEvent``, and the Metrics count
  the resources tagged, skipped and failed.

Environment variables (all optional):

``AWS_RETRY_MODE`` / ``AWS_MAX_ATTEMPTS``
    read by botocore itself; the program sets ``standard`` / ``10`` (total attempts per call, first one included).
``DRY_RUN``
    ``true`` to compute and report the changes without writing. Default ``false``.
``PROFILE_CHECK`` / ``PATCHING_INSTANCE_PROFILE`` / ``APP_PROFILES``
    the profile check and its repairs (``lambda_shared.instance_profiles``).
``UNMANAGED_LAKE_*``
    where the profile check's findings are written (``lambda_shared.unmanaged_findings``).
``POWERTOOLS_SERVICE_NAME`` / ``POWERTOOLS_LOG_LEVEL``
    read by aws-lambda-powertools' Logger and Metrics. Defaults ``org-patching-tag-remediation`` / ``INFO``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.utilities.data_classes import EventBridgeEvent, event_source
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import ClientError
from lambda_shared.fleet import Fleet
from lambda_shared.instance_profiles import ProfileDoctor, Settings
from lambda_shared.observability import METRICS_NAMESPACE, failed_resources, function_account, record_outcome
from lambda_shared.sweep_pages import (
    MAX_INVOCATIONS,
    RESUME_DETAIL_TYPE,
    RESUME_SOURCE,
    BadResume,
    Resume,
    instance_pages,
    invoke_next,
    out_of_time,
    parse_resume,
    resume_event,
)
from lambda_shared.tagging import (
    ASG_KEY_PREFIX,
    AWS_CALL_ERRORS,
    Plan,
    Resource,
    apply,
    asg_resource,
    error_entry,
    instance_resource,
    plan,
    remove,
)
from lambda_shared.unmanaged_findings import publish

SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME", "org-patching-tag-remediation")
logger = Logger(service=SERVICE)
metrics = Metrics(namespace=METRICS_NAMESPACE, service=SERVICE)

CONFIG_DETAIL_TYPE = "Config Rules Compliance Change"
INSTANCE_ID_PATTERN = re.compile(r"^i-[0-9a-f]{8,17}\Z")
REGION_PATTERN = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d+\Z", re.ASCII)  # \Z: "$" accepts a trailing newline
SCHEDULED_DETAIL_TYPE = "Scheduled Event"
EC2_INSTANCE = "AWS::EC2::Instance"
AUTOSCALING_GROUP = "AWS::AutoScaling::AutoScalingGroup"


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
    #: A sweep that goes on where an earlier invocation stopped (``None``: from the first page).
    resume: Resume | None = None


def asg_name_from_resource_id(resource_id: str) -> str:
    """Config reports an ASG as its ARN (``...:autoScalingGroupName/<name>``) or just its name."""
    if resource_id.startswith("arn:"):
        marker = "autoScalingGroupName/"
        if marker not in resource_id:
            raise MalformedEvent(f"detail.resourceId: {resource_id!r} is not an Auto Scaling group ARN")
        return resource_id.split(marker, 1)[1]
    return resource_id


def parse_event(event: EventBridgeEvent) -> Request:
    """Turn an EventBridge event into a :class:`Request`, or raise :class:`MalformedEvent` saying why.

    The typed accessors read keys that must be there; what may be missing or wrong is checked first.
    """
    if not isinstance(event.raw_event, Mapping):
        raise MalformedEvent(f"event: expected a JSON object, got {type(event.raw_event).__name__}")
    detail_type = event.detail_type if "detail-type" in event else None
    if detail_type == SCHEDULED_DETAIL_TYPE:
        # One function per account sweeps every region: each schedule target names its region.
        region = event.region if "region" in event else None
        if region is not None and not (isinstance(region, str) and REGION_PATTERN.match(region)):
            raise MalformedEvent(f"region: {region!r} is not a region name")
        return Request(scope="sweep", region=region)
    if detail_type == RESUME_DETAIL_TYPE:
        return parse_resume_event(event)
    if detail_type != CONFIG_DETAIL_TYPE:
        expected = f"expected {CONFIG_DETAIL_TYPE!r} or {SCHEDULED_DETAIL_TYPE!r}"
        raise MalformedEvent(f"detail-type: {detail_type!r} is not handled ({expected})")
    detail = event.detail if "detail" in event else None
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


def parse_resume_event(event: EventBridgeEvent) -> Request:
    """A resume this function sent itself: its source, its region and where to start, all checked."""
    source = event.get("source")
    if source != RESUME_SOURCE:
        raise MalformedEvent(f"source: {source!r} does not send {RESUME_DETAIL_TYPE!r} (expected {RESUME_SOURCE!r})")
    region = event.get("region")
    if not (isinstance(region, str) and REGION_PATTERN.match(region)):
        raise MalformedEvent(f"region: {region!r} is not a region name")
    try:
        resume = parse_resume(event.get("detail"))
    except BadResume as error:
        raise MalformedEvent(str(error)) from None
    return Request(scope="sweep", region=region, resume=resume)


# --------------------------------------------------------------------------------------------------------------
# Reading, deciding and writing (the shared runtime)
# --------------------------------------------------------------------------------------------------------------


def account_of(event: EventBridgeEvent, context: Any = None) -> str:
    """The account this run works in, for error messages: the function's, else the event's, else ``unknown``."""
    own = function_account(context)
    if own:
        return own
    if isinstance(event.raw_event, Mapping):
        detail = event.get("detail")
        if isinstance(detail, Mapping) and isinstance(detail.get("awsAccountId"), str):
            return str(detail["awsAccountId"])
        if isinstance(event.get("account"), str):
            return str(event["account"])
    return os.environ.get("AWS_ACCOUNT_ID", "unknown")


def foreign_account(event: EventBridgeEvent, context: Any) -> str | None:
    """Why a Config event about ANOTHER account is skipped (forwarded through a central bus), or ``None``."""
    own = function_account(context)
    detail = event.get("detail") if isinstance(event.raw_event, Mapping) else None
    other = detail.get("awsAccountId") if isinstance(detail, Mapping) else None
    if own and isinstance(other, str) and other != own:
        return f"not this account: the resource is in {other}, this function runs in {own}"
    return None


def collect(
    aws: Fleet, request: Request, raw: list[Mapping[str, Any]] | None = None
) -> tuple[list[Resource], dict[str, str]]:
    """Read the resources a request covers; ids that no longer exist come back as skips. ``raw`` receives the
    instances as EC2 describes them (the profile check reads their profile and state)."""
    missing: dict[str, str] = {}
    resources: list[Resource] = []
    if request.scope in ("sweep", "instance"):
        ids = [request.resource_id] if request.scope == "instance" and request.resource_id else None
        try:
            described = list(aws.instances(ids))
            resources.extend(instance_resource(i) for i in described)
            if raw is not None:
                raw.extend(described)
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
        "untagged": {},
        "skipped": dict(skipped),
        "errors": errors,
        "notes": dict(notes or {}),
        "unchanged": unchanged,
        "dryRun": dry_run,
    }


def run(event: EventBridgeEvent, context: Any = None) -> dict[str, Any]:
    """Parse, read, decide, write. Raises :class:`MalformedEvent` (no AWS call made) for an unusable event."""
    request = parse_event(event)
    account = account_of(event, context)
    dry_run = os.environ.get("DRY_RUN", "false").strip().lower() in ("1", "true", "yes")
    skip = request.skip or (foreign_account(event, context) if request.scope != "sweep" else None)
    if skip:
        return summary({}, {str(request.resource_id): skip}, [])
    aws = Fleet(request.region)
    if request.scope == "sweep":
        return sweep(aws, request, account, dry_run, context)
    try:
        windows = aws.custom_windows()
        resources, missing = collect(aws, request)
    except AWS_CALL_ERRORS as error:  # a service error, or botocore's own (unknown region, unreachable endpoint)
        ids = [request.resource_id] if request.resource_id else []
        return summary({}, {}, [error_entry(account, aws.region, "describe", ids, error)])
    the_plan = plan(resources, windows)
    tagged, errors = apply(aws, the_plan, account, dry_run)
    untagged, removal_errors = remove(aws, the_plan, account, dry_run)
    result = summary(
        tagged,
        {**missing, **the_plan.skipped},
        errors + removal_errors,
        the_plan.notes,
        len(the_plan.unchanged),
        dry_run,
    )
    result["untagged"] = {key: list(keys) for key, keys in untagged.items()}
    return result


def write_plan(aws: Fleet, the_plan: Plan, account: str, dry_run: bool, result: dict[str, Any]) -> None:
    """Make one plan's writes and add what happened to ``result`` (a :func:`summary` being filled)."""
    tagged, errors = apply(aws, the_plan, account, dry_run)
    untagged, removal_errors = remove(aws, the_plan, account, dry_run)
    result["tagged"].update(tagged)
    result["untagged"].update({key: list(keys) for key, keys in untagged.items()})
    result["skipped"].update(the_plan.skipped)
    result["notes"].update(the_plan.notes)
    result["unchanged"] += len(the_plan.unchanged)
    result["errors"].extend(errors + removal_errors)


def sweep(aws: Fleet, request: Request, account: str, dry_run: bool, context: Any) -> dict[str, Any]:
    """The sweep of one account-region, or its next invocation: page by page, each page written before the next
    is read; short of time after a page, it starts its next invocation there (``lambda_shared.sweep_pages``).
    The Auto Scaling groups follow the last page; the profile check covers this invocation's pages.

    ``result["paging"]``: this invocation's number in the chain, the pages it did, the token it started at and
    the one the next invocation starts at (``None``: the sweep is complete or stopped on an error)."""
    invocation = request.resume.invocation if request.resume else 1
    start = request.resume.next_token if request.resume else None
    result = summary({}, {}, [], dry_run=dry_run)
    paging: dict[str, Any] = {"invocation": invocation, "pages": 0, "startedAt": start, "resumeFrom": None}
    result["paging"] = paging
    patched: list[Mapping[str, Any]] = []
    try:
        windows = aws.custom_windows()
        for instances, next_token in instance_pages(aws.ec2, start):
            the_plan = plan((instance_resource(i) for i in instances), windows)
            write_plan(aws, the_plan, account, dry_run, result)
            patched.extend(i for i in instances if i["InstanceId"] not in the_plan.skipped)
            paging["pages"] += 1
            if next_token is not None and out_of_time(context):
                paging["resumeFrom"] = next_token
                break
        if paging["resumeFrom"] is None:
            write_plan(aws, plan((asg_resource(g) for g in aws.asgs()), windows), account, dry_run, result)
    except AWS_CALL_ERRORS as error:  # the page a token names, or a service error: reported, the chain ends
        result["errors"].append(error_entry(account, aws.region, "describe", [], error))
        paging["resumeFrom"] = None
    settings = Settings.from_env()
    if settings.check and paging["pages"]:
        # The profile check (lambda_shared.instance_profiles): the instances the contract patches, read once.
        findings = ProfileDoctor(aws.ec2, aws.ssm, account, aws.region, settings).examine(patched, dry_run)
        result["unmanaged"] = findings.unmanaged
        result["profiles"] = {"attached": findings.attached, "policyAttached": findings.policy_attached}
        result["errors"].extend(findings.errors)
        # Into the hub's lake, where patchctl report reads them (lambda_shared.unmanaged_findings); never fatal.
        lake = publish(
            findings.unmanaged, findings.errors, account, aws.region, len(patched), dry_run, invocation=invocation
        )
        result["unmanagedLake"] = lake.location
        result["errors"].extend(lake.errors)
    if paging["resumeFrom"] is not None:
        resume_next(context, account, aws.region, Resume(paging["resumeFrom"], invocation + 1), result)
    return result


def resume_next(context: Any, account: str, region: str, resume: Resume, result: dict[str, Any]) -> None:
    """Start the next invocation at ``resume``, or report in ``errors`` why the sweep stops here."""
    if resume.invocation > MAX_INVOCATIONS:
        result["errors"].append(
            {
                "account": account,
                "region": region,
                "action": "lambda:InvokeFunction",
                "resources": [],
                "code": "SweepChainTooLong",
                "message": f"sweep stopped after {MAX_INVOCATIONS} invocations; the next page is {resume.next_token}",
            }
        )
        return
    try:
        invoke_next(context, resume_event(account, region, resume))
    except (*AWS_CALL_ERRORS, ValueError) as error:
        result["errors"].append(error_entry(account, region, "lambda:InvokeFunction", [], error))


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


@metrics.log_metrics
@logger.inject_lambda_context
@event_source(data_class=EventBridgeEvent)
def handler(event: EventBridgeEvent, context: LambdaContext) -> dict[str, Any]:
    """Lambda entry point.

    A malformed or foreign event is skipped with the reason under ``skipped["event"]`` and logged as an error,
    before any AWS call: raising would only make EventBridge retry an event that can never succeed.
    """
    try:
        result = run(event, context)
    except MalformedEvent as error:
        logger.error("malformed event skipped", extra={"reason": str(error)})
        result = summary({}, {EVENT_KEY: f"malformed event: {error}"}, [])
    else:
        logger.info("tag remediation summary", extra={"summary": loggable(result)})
        if result["errors"]:
            logger.error("tag remediation errors", extra={"errors": result["errors"]})
    record_outcome(
        metrics,
        tagged=len(result["tagged"]),
        skipped=len(result["skipped"]),
        failed=failed_resources(result["errors"]),
    )
    return result
