"""Patch events into the compliance lake: one JSON object per event, under the partitions the
``patch_events`` Glue table projects, so Athena sees a run within minutes instead of a day.

Every child account-region forwards its patch events (Run Command of ``AWS-RunPatchBaseline``,
patch compliance changes, the patching runbooks' Automation executions, maintenance-window
tasks, failed custom resources) to the hub's bus (``components/spoke/event_forwarding.py``);
the hub's archive rule invokes this function with each event (``components/hub/patch_events.py``).

Layout (one line of JSON per object, the OpenX SerDe's format)::

    s3://<events bucket>/events/accountid=<id>/region=<region>/dt=<YYYY-MM-DD>/<event id>.json

The object key is the event's id: EventBridge delivers at least once, and a redelivered event
finds its own object there. The put is conditional (``If-None-Match: *``, S3 conditional writes):
S3 refuses the redelivery's put, so a duplicate never counts twice and never adds a version to the
(versioned) bucket: one delivery or two leave the same lake. An event
that is not an EventBridge event from an account of the organization's shape (no id, a
malformed account, region or time) is refused with one log line and nothing written: retrying
it would not make it valid.

The account and region are the path's partitions, not fields (Athena refuses a column named like a
partition key). Every row carries ``source = "events"``: the report tells rows from events apart from the
resource data sync's daily snapshot (which stays the complete picture).

Environment: ``EVENTS_BUCKET`` (required), ``EVENTS_PREFIX`` (default ``events``),
``POWERTOOLS_SERVICE_NAME``.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import ClientError
from lambda_shared.clients import client
from lambda_shared.observability import METRICS_NAMESPACE

SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME", "org-patching-patch-events")
logger = Logger(service=SERVICE)
metrics = Metrics(namespace=METRICS_NAMESPACE, service=SERVICE)

#: The value of the ``source`` column for every row this function writes (the sync's rows: ``snapshot``).
SOURCE = "events"
ACCOUNT_ID = re.compile(r"^\d{12}\Z", re.ASCII)
REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d\Z", re.ASCII)
#: EventBridge event ids are UUIDs; anything else would make an unsafe S3 key.
EVENT_ID = re.compile(r"^[A-Za-z0-9-]{1,64}\Z", re.ASCII)
#: S3's answers to a conditional put whose object exists (412) or is being written (409).
DUPLICATE_PUT = frozenset({"PreconditionFailed", "ConditionalRequestConflict"})


class BadEvent(ValueError):
    """Not an event this function can file; the message names the field and the value."""


@dataclass(frozen=True)
class EventRow:
    """One row of the ``patch_events`` table (columns: ``components/hub/patch_event_table.py``)."""

    fields: dict[str, str]
    key: str

    def body(self) -> bytes:
        return (json.dumps(self.fields, sort_keys=True, separators=(",", ":")) + "\n").encode()


def _text(detail: dict[str, Any], *keys: str) -> str:
    """The first of ``keys`` present in ``detail``, as text ('' when none)."""
    for key in keys:
        value = detail.get(key)
        if value is not None and value != "":
            return str(value)
    return ""


def _time(value: Any) -> datetime:
    if not isinstance(value, str):
        raise BadEvent(f"event time: {value!r} is not an ISO-8601 time")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        # OverflowError: a time at the ends of the calendar with an offset (year 1 at +05:00) has no UTC time
        return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    except (ValueError, OverflowError):
        raise BadEvent(f"event time: {value!r} is not an ISO-8601 time") from None


def row_of(event: Any, prefix: str = "events") -> EventRow:
    """The lake row of one EventBridge event (pure: no AWS call)."""
    if not isinstance(event, dict):
        raise BadEvent(f"event: expected an EventBridge event object, got {type(event).__name__}")
    event_id, account, region = event.get("id"), event.get("account"), event.get("region")
    if not isinstance(event_id, str) or not EVENT_ID.match(event_id):
        raise BadEvent(f"event id: {event_id!r} is not an EventBridge event id")
    if not isinstance(account, str) or not ACCOUNT_ID.match(account):
        raise BadEvent(f"event account: {account!r} is not a 12-digit account id")
    if not isinstance(region, str) or not REGION.match(region):
        raise BadEvent(f"event region: {region!r} is not a region")
    detail = event.get("detail")
    if not isinstance(detail, dict):
        raise BadEvent(f"event detail: expected an object, got {type(detail).__name__}")
    when = _time(event.get("time"))
    resources = event.get("resources") if isinstance(event.get("resources"), list) else []
    raw_status = detail.get("status-details")
    status_details: dict[str, Any] = raw_status if isinstance(raw_status, dict) else {}
    fields = {
        "id": event_id,
        "time": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "detail_type": str(event.get("detail-type", "")),
        "event_source": str(event.get("source", "")),
        # the instance, window or stack resource the event is about
        "resource_id": _text(detail, "instance-id", "resource-id", "window-id", "logical-resource-id")
        or (str(resources[0]) if resources else ""),
        "status": _text(detail, "status", "Status", "compliance-status") or _text(status_details, "status"),
        "document": _text(detail, "document-name", "Definition", "resource-type"),
        "execution_id": _text(detail, "command-id", "ExecutionId", "task-execution-id", "stack-id"),
        "compliance_type": _text(detail, "compliance-type"),
        # AWS's own example of this event spells the key "serverity"
        "severity": _text(detail, "severity", "serverity"),
        "reason": _text(detail, "ErrorMessage", "status-message") or _text(status_details, "status-reason"),
        "detail": json.dumps(detail, sort_keys=True, separators=(",", ":")),
        "source": SOURCE,
    }
    clean = prefix.strip("/")
    key = f"accountid={account}/region={region}/dt={when:%Y-%m-%d}/{event_id}.json"
    return EventRow(fields=fields, key=f"{clean}/{key}" if clean else key)


@metrics.log_metrics
@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    bucket = os.environ.get("EVENTS_BUCKET", "")
    if not bucket:
        raise RuntimeError("EVENTS_BUCKET is not set: the function cannot file events anywhere")
    try:
        row = row_of(event, os.environ.get("EVENTS_PREFIX", "events"))
    except BadEvent as error:
        logger.error(f"refused: {error}")
        metrics.add_metric(name="PatchEventsRefused", unit=MetricUnit.Count, value=1)
        return {"written": 0, "refused": str(error)}
    try:
        client("s3").put_object(
            Bucket=bucket, Key=row.key, Body=row.body(), ContentType="application/json", IfNoneMatch="*"
        )
    except ClientError as error:
        # 412: the object exists (a redelivery); 409: the same event's put is in flight (S3 user guide,
        # "Conditional writes"). Either way this event is filed: nothing to do.
        if error.response.get("Error", {}).get("Code") not in DUPLICATE_PUT:
            raise
        metrics.add_metric(name="PatchEventsDuplicated", unit=MetricUnit.Count, value=1)
        logger.info("already filed", extra={"key": row.key})
        return {"written": 0, "key": row.key, "duplicate": True}
    metrics.add_metric(name="PatchEventsWritten", unit=MetricUnit.Count, value=1)
    logger.info("filed", extra={"key": row.key, "detail_type": row.fields["detail_type"]})
    return {"written": 1, "key": row.key}
