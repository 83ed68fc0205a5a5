"""Pre-patch notices: before every maintenance window of the organization runs, its team hears what it will do.

The hub's periodic rule (``components/hub/pre_patch_notices.py``, ``notices.checkEveryMinutes``) invokes this
function. For every child account it assumes the account's reader role (``org-patching-notice-reader``: read-only,
trusting only this function's role) and, in every region of the central stack, reads the LIVE windows
(``DescribeMaintenanceWindows``: ``NextExecutionTime`` already counts the schedule, its time zone and offset, the
start and end dates and whether the window is enabled). So a team that moves its window is followed at the next
check, with no redeploy. A window of the tag contract (``Default``, ``<Env>``, ``<Env>_<team>``) whose next run
falls within the lead time gets one notice per team it patches:

* the window (name, id, account, region), its next run in UTC and in its ``ScheduleTimezone``;
* the operation and reboot option its patching tasks pass (``GetMaintenanceWindowTask``);
* the instances and ASGs it will patch: those tagged ``maintenance_window=<window>`` that the contract does not
  skip (exempt, ASG members, EKS/ECS capacity), instances only when the window has the standalone runbook's task
  and ASGs only when it has the ASG runbook's; counts always whole, ids capped at ``MAX_LISTED``.

A team window notifies its team. The default and environment windows notify each team by its resources'
``patch_team`` tag, unclaimed resources to ``DEFAULT_TEAM``. With ``TOPIC_PER=team`` a team with a topic gets
it on ``<prefix>-<team>``, any other on the default team's; with ``accountRegion`` every notice of an
account-region goes to ``<prefix>-<account>-<region>``. Every message carries ``team``, ``window``, ``account``
and ``region`` attributes, so a subscription can filter.

One notice per window execution and team: the key ``notice:<account>:<region>:<window id>:<team>:<next run>`` is
claimed with a conditional put in the hub's dedupe table before publishing (released when the publish fails).
A moved window has a new next run, so its team hears about the new time. An event that is not a scheduled event
(not an object, a ``time`` that is not an ISO-8601 time) is refused with one line; nothing is read or sent.

An account whose role cannot be assumed (not enrolled yet) or a region that fails is logged and skipped; the
others are still noticed, then the invocation fails, so the function's error alarm tells the platform team.

Environment: ``ACCOUNTS``, ``REGIONS`` (comma-separated), ``PARTITION``, ``READER_ROLE``, ``TOPIC_ARN_PREFIX``
(``arn:<partition>:sns:<region>:<hub>:org-patching-notices``), ``TOPIC_PER``, ``TEAMS`` (with a topic,
comma-separated), ``DEFAULT_TEAM``, ``LEAD_HOURS``, ``MAX_LISTED``, ``DEDUPE_TABLE``, ``DEDUPE_DAYS``,
``STANDALONE_RUNBOOK``, ``ASG_RUNBOOK``.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import boto3
import tag_contract
from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import BotoCoreError, ClientError
from lambda_shared.clients import client
from lambda_shared.fleet import DESCRIBE_ASGS_PAGE, DESCRIBE_INSTANCES_PAGE, LIVE_STATES
from lambda_shared.observability import METRICS_NAMESPACE

SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME", "org-patching-pre-patch-notices")
logger = Logger(service=SERVICE)
metrics = Metrics(namespace=METRICS_NAMESPACE, service=SERVICE)

#: SNS subjects are at most 100 characters.
SUBJECT_LIMIT = 100
#: The runbook parameters a notice reports (``components/spoke/regional_spoke.py`` and the product pass them).
OPERATION, REBOOT = "Operation", "RebootOption"


class NoticeError(RuntimeError):
    """Some account-regions could not be read: the others were noticed, the invocation still fails."""


class BadEvent(ValueError):
    """Not a scheduled event: the message names the field and the value (nothing is read or sent)."""


@dataclass(frozen=True)
class Settings:
    accounts: list[str]
    regions: list[str]
    partition: str
    reader_role: str
    topic_prefix: str
    topic_per: str
    teams: frozenset[str]
    default_team: str
    lead: timedelta
    max_listed: int
    table: str
    dedupe_days: int
    standalone_runbook: str
    asg_runbook: str

    @classmethod
    def from_environment(cls) -> Settings:
        def csv(name: str) -> list[str]:
            return [part.strip() for part in os.environ.get(name, "").split(",") if part.strip()]

        required = ("ACCOUNTS", "REGIONS", "READER_ROLE", "TOPIC_ARN_PREFIX", "DEDUPE_TABLE", "DEFAULT_TEAM")
        missing = [name for name in required if not os.environ.get(name)]
        if missing:
            raise RuntimeError(f"{', '.join(missing)} must be set")
        return cls(
            accounts=csv("ACCOUNTS"),
            regions=csv("REGIONS"),
            partition=os.environ.get("PARTITION", "aws"),
            reader_role=os.environ["READER_ROLE"],
            topic_prefix=os.environ["TOPIC_ARN_PREFIX"],
            topic_per=os.environ.get("TOPIC_PER", "team"),
            teams=frozenset(csv("TEAMS")),
            default_team=os.environ["DEFAULT_TEAM"],
            lead=timedelta(hours=int(os.environ.get("LEAD_HOURS", "24"))),
            max_listed=int(os.environ.get("MAX_LISTED", "25")),
            table=os.environ["DEDUPE_TABLE"],
            dedupe_days=int(os.environ.get("DEDUPE_DAYS", "14")),
            standalone_runbook=os.environ.get("STANDALONE_RUNBOOK", "OrgPatching-PatchInstances"),
            asg_runbook=os.environ.get("ASG_RUNBOOK", "OrgPatching-PatchAutoScalingGroups"),
        )


@dataclass
class Notice:
    """What one team hears about one run of one window."""

    account: str
    region: str
    window: str
    window_id: str
    team: str
    runs_at: datetime
    timezone: str
    schedule: str
    operation: str
    reboot: str
    instances: list[str] = field(default_factory=list)
    asgs: list[str] = field(default_factory=list)

    @property
    def dedupe_key(self) -> str:
        return f"notice:{self.account}:{self.region}:{self.window_id}:{self.team}:{self.runs_at:%Y-%m-%dT%H:%MZ}"

    def local_time(self) -> str:
        try:
            zone = ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            return f"(time zone {self.timezone!r} unknown)"
        return f"{self.runs_at.astimezone(zone):%Y-%m-%d %H:%M} {self.timezone}"

    def subject(self) -> str:
        return f"org-patching: {self.window} ({self.operation}) runs {self.runs_at:%Y-%m-%d %H:%M} UTC"[:SUBJECT_LIMIT]

    def message(self, now: datetime, max_listed: int) -> str:
        hours = (self.runs_at - now).total_seconds() / 3600
        return "\n".join(
            [
                f"{self.window} will patch {len(self.instances)} instance(s) and {len(self.asgs)} ASG(s) "
                f"of team {self.team} in {hours:.1f} h",
                f"window:    {self.window} ({self.window_id})",
                f"account:   {self.account}",
                f"region:    {self.region}",
                f"team:      {self.team}",
                f"runs at:   {self.runs_at:%Y-%m-%d %H:%M} UTC",
                f"local:     {self.local_time()}",
                f"schedule:  {self.schedule}",
                f"operation: {self.operation}",
                f"reboot:    {self.reboot}",
                f"instances: {_listed(self.instances, max_listed)}",
                f"ASGs:      {_listed(self.asgs, max_listed)}",
            ]
        )


def _listed(items: list[str], cap: int) -> str:
    shown = ", ".join(items[:cap])
    more = f" and {len(items) - cap} more" if len(items) > cap else ""
    return f"{len(items)}" + (f": {shown}{more}" if items else "")


def parse_time(value: str) -> datetime | None:
    """An ISO-8601 time as SSM and EventBridge write it (``2026-12-05T01:00Z``, with seconds or an offset)."""
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def window_team(name: str) -> str | None:
    """``Prod_payments_maintenance_window`` -> ``payments``; ``None`` for the default and environment windows."""
    if not tag_contract.is_window_name(name):
        return None
    middle = name[: -len(tag_contract.WINDOW_SUFFIX)].split("_", 1)
    return middle[1] if len(middle) == 2 else None


def _tags(resource: Mapping[str, Any]) -> dict[str, str]:
    return {str(t.get("Key")): str(t.get("Value", "")) for t in resource.get("Tags", [])}


class Location:
    """One child account-region, read through the reader role's session."""

    def __init__(self, session: Any, account: str, region: str, settings: Settings) -> None:
        self.account, self.region, self.settings = account, region, settings
        self.ssm = session.client("ssm", region_name=region)
        self.ec2 = session.client("ec2", region_name=region)
        self.autoscaling = session.client("autoscaling", region_name=region)

    def due_windows(self, now: datetime) -> Iterator[dict[str, Any]]:
        """The contract's enabled windows whose next run is after ``now`` and within the lead time."""
        for page in self.ssm.get_paginator("describe_maintenance_windows").paginate(
            Filters=[{"Key": "Enabled", "Values": ["true"]}]
        ):
            for window in page.get("WindowIdentities", []):
                runs_at = parse_time(str(window.get("NextExecutionTime", "")))
                if not tag_contract.is_window_name(str(window.get("Name", ""))) or runs_at is None:
                    continue
                if now < runs_at <= now + self.settings.lead:
                    yield {**window, "RunsAt": runs_at}

    def task_settings(self, window_id: str) -> tuple[set[str], str, str]:
        """The runbooks the window's tasks start, and the operation and reboot option they pass."""
        runbooks: set[str] = set()
        operations: list[str] = []
        reboots: list[str] = []
        for page in self.ssm.get_paginator("describe_maintenance_window_tasks").paginate(WindowId=window_id):
            for listed in page.get("Tasks", []):
                task = self.ssm.get_maintenance_window_task(WindowId=window_id, WindowTaskId=listed["WindowTaskId"])
                runbooks.add(str(task.get("TaskArn", "")).rsplit("/", 1)[-1])
                automation = task.get("TaskInvocationParameters", {}).get("Automation", {})
                parameters = automation.get("Parameters", {})
                operations += [v for v in parameters.get(OPERATION, []) if v not in operations]
                reboots += [v for v in parameters.get(REBOOT, []) if v not in reboots]
        return runbooks, "/".join(operations) or "unknown", "/".join(reboots) or "unknown"

    def resources(self, window: str, runbooks: set[str]) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
        """(id, patch_team) of the instances and ASGs the window's runbooks will select."""
        instances: list[tuple[str, str]] = []
        asgs: list[tuple[str, str]] = []
        selector = {"Name": f"tag:{tag_contract.MAINTENANCE_WINDOW_TAG}", "Values": [window]}
        if self.settings.standalone_runbook in runbooks:
            pages = self.ec2.get_paginator("describe_instances").paginate(
                Filters=[{"Name": "instance-state-name", "Values": list(LIVE_STATES)}, selector],
                PaginationConfig={"PageSize": DESCRIBE_INSTANCES_PAGE},
            )
            for page in pages:
                for reservation in page.get("Reservations", []):
                    for instance in reservation.get("Instances", []):
                        tags = _tags(instance)
                        if tag_contract.skip_reason(tags, "instance") is None:
                            instances.append((str(instance["InstanceId"]), tags.get(tag_contract.TEAM_TAG, "")))
        if self.settings.asg_runbook in runbooks:
            pages = self.autoscaling.get_paginator("describe_auto_scaling_groups").paginate(
                Filters=[{"Name": f"tag:{tag_contract.MAINTENANCE_WINDOW_TAG}", "Values": [window]}],
                PaginationConfig={"PageSize": DESCRIBE_ASGS_PAGE},
            )
            for page in pages:
                for group in page.get("AutoScalingGroups", []):
                    tags = _tags(group)
                    if tag_contract.skip_reason(tags, "asg") is None:
                        asgs.append((str(group["AutoScalingGroupName"]), tags.get(tag_contract.TEAM_TAG, "")))
        return sorted(instances), sorted(asgs)

    def notices(self, now: datetime) -> list[Notice]:
        found: list[Notice] = []
        for window in self.due_windows(now):
            found += self.window_notices(window)
        return found

    def window_notices(self, window: dict[str, Any]) -> list[Notice]:
        """One notice per team the window patches (a team window: its team, even with nothing to patch)."""
        name, window_id = str(window["Name"]), str(window["WindowId"])
        runbooks, operation, reboot = self.task_settings(window_id)
        instances, asgs = self.resources(name, runbooks)
        owner = window_team(name)
        by_team: dict[str, Notice] = {}
        claimed = [(owner, "", "")] if owner else []
        claimed += [(owner or self.team_of(claim), instance, "") for instance, claim in instances]
        claimed += [(owner or self.team_of(claim), "", asg) for asg, claim in asgs]
        for team, instance, asg in claimed:
            notice = by_team.get(team)
            if notice is None:
                notice = by_team[team] = Notice(
                    self.account,
                    self.region,
                    name,
                    window_id,
                    team,
                    window["RunsAt"],
                    str(window.get("ScheduleTimezone") or "UTC"),
                    str(window.get("Schedule", "")),
                    operation,
                    reboot,
                )
            if instance:
                notice.instances.append(instance)
            if asg:
                notice.asgs.append(asg)
        return list(by_team.values())

    def team_of(self, claim: str) -> str:
        """The team a resource's ``patch_team`` names, else the default team."""
        return tag_contract.canonical_team(claim) or self.settings.default_team


def topic_for(notice: Notice, settings: Settings) -> str:
    if settings.topic_per == "accountRegion":
        return f"{settings.topic_prefix}-{notice.account}-{notice.region}"
    team = notice.team if notice.team in settings.teams else settings.default_team
    return f"{settings.topic_prefix}-{team}"


def _claim(settings: Settings, key: str) -> bool:
    """Record the notice's key once; False when it was already sent."""
    try:
        client("dynamodb").put_item(
            TableName=settings.table,
            Item={"pk": {"S": key}, "expires": {"N": str(int(time.time()) + settings.dedupe_days * 86400)}},
            ConditionExpression="attribute_not_exists(pk)",
        )
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
            return False
        raise
    return True


def send(notice: Notice, settings: Settings, now: datetime) -> bool:
    """Publish ``notice`` once (False: it was sent before)."""
    if not _claim(settings, notice.dedupe_key):
        return False
    attributes = {
        name: {"DataType": "String", "StringValue": value}
        for name, value in (
            ("team", notice.team),
            ("window", notice.window),
            ("account", notice.account),
            ("region", notice.region),
        )
    }
    try:
        client("sns").publish(
            TopicArn=topic_for(notice, settings),
            Subject=notice.subject(),
            Message=notice.message(now, settings.max_listed),
            MessageAttributes=attributes,
        )
    except Exception:
        client("dynamodb").delete_item(TableName=settings.table, Key={"pk": {"S": notice.dedupe_key}})
        raise
    return True


def reader_session(settings: Settings, account: str) -> Any:
    role = f"arn:{settings.partition}:iam::{account}:role/{settings.reader_role}"
    credentials = client("sts").assume_role(RoleArn=role, RoleSessionName="org-patching-pre-patch-notices")[
        "Credentials"
    ]
    return boto3.Session(
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
    )


def event_time(event: Any, lead: timedelta = timedelta(0)) -> datetime:
    """The scheduled event's ``time`` (the run it stands for); the clock for an event without one (a run by hand,
    ``{}``). Anything else is a :class:`BadEvent`: a malformed time must not notice the windows of another moment."""
    if not isinstance(event, dict):
        raise BadEvent(f"event: expected a scheduled event object, got {type(event).__name__}")
    if "time" not in event:
        return datetime.now(UTC)
    stamp = event["time"]
    parsed = parse_time(stamp) if isinstance(stamp, str) else None
    if parsed is None:
        raise BadEvent(f"event time: {stamp!r} is not an ISO-8601 time")
    try:
        parsed.astimezone(UTC) + lead  # the lead time must end in the calendar (year 9999 has no next day)
    except OverflowError:
        raise BadEvent(f"event time: {stamp!r} is out of range") from None
    return parsed


@metrics.log_metrics
@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    settings = Settings.from_environment()
    try:
        now = event_time(event, settings.lead)
    except BadEvent as error:
        logger.error(f"refused: {error}")
        metrics.add_metric(name="PrePatchNoticesRefused", unit=MetricUnit.Count, value=1)
        return {"sent": [], "duplicates": 0, "refused": str(error)}
    sent: list[str] = []
    duplicates = 0
    failed: list[str] = []
    for account in settings.accounts:
        try:
            session = reader_session(settings, account)
        except (ClientError, BotoCoreError) as error:
            logger.error("reader role not assumed", extra={"account": account, "error": str(error)})
            failed.append(f"{account}: {error}")
            continue
        for region in settings.regions:
            try:
                notices = Location(session, account, region, settings).notices(now)
            except (ClientError, BotoCoreError) as error:
                logger.error("windows not read", extra={"account": account, "region": region, "error": str(error)})
                failed.append(f"{account}/{region}: {error}")
                continue
            for notice in notices:
                if send(notice, settings, now):
                    sent.append(notice.dedupe_key)
                else:
                    duplicates += 1
    metrics.add_metric(name="PrePatchNoticesSent", unit=MetricUnit.Count, value=len(sent))
    metrics.add_metric(name="PrePatchNoticesDeduplicated", unit=MetricUnit.Count, value=duplicates)
    logger.info("checked", extra={"sent": len(sent), "duplicates": duplicates, "failed": len(failed)})
    if failed:
        raise NoticeError(f"{len(failed)} account-region(s) not read: {'; '.join(failed)}")
    return {"sent": sent, "duplicates": duplicates, "at": now.strftime("%Y-%m-%dT%H:%M:%SZ")}
