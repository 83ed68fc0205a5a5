"""The ``patch_events`` Glue table and its named query, as pure data (no Pulumi import).

The hub's patch-events function (``lambda_src/patch_events``) writes one JSON line per event::

    s3://<events bucket>/events/accountid=<id>/region=<region>/dt=<YYYY-MM-DD>/<event id>.json

Partition projection: ``accountid`` and ``region`` are enums of the organization's accounts and
regions (the reasons are in ``compliance_tables.py``); ``dt`` is a date projected from the first
day events can exist to ``NOW``, so today's partition is queryable the moment its first object
lands. ``source`` is always ``events``: the report tells these rows from the resource data
sync's daily snapshot.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .compliance_tables import projected_json_table

#: Columns, in the order the function's rows carry them (``lambda_src/patch_events/app.py``). The account
#: and region are the partition keys only (a column may not share a partition key's name).
COLUMNS: tuple[tuple[str, str], ...] = (
    ("id", "EventBridge event id (the object's name: a redelivered event overwrites itself)"),
    ("time", "ISO-8601 UTC time of the event"),
    ("detail_type", "EventBridge detail-type"),
    ("event_source", "EventBridge source (aws.ssm, aws.cloudformation)"),
    ("resource_id", "instance, window or custom resource the event is about"),
    ("status", "status the event reports (Success, Failed, non_compliant...)"),
    ("document", "SSM document or runbook, or the custom resource's type"),
    ("execution_id", "command id, automation execution id, window task execution id or stack id"),
    ("compliance_type", "Patch for patch compliance changes"),
    ("severity", "compliance severity"),
    ("reason", "error message or status reason, when the event has one"),
    ("detail", "the event's whole detail, as JSON"),
    ("source", "always 'events' (the daily resource data sync's rows are the snapshot)"),
)
PARTITIONS: tuple[tuple[str, str], ...] = (
    ("accountid", "12-digit account id, from the S3 path"),
    ("region", "region of the event, from the S3 path"),
    ("dt", "UTC day of the event, YYYY-MM-DD, from the S3 path"),
)
#: The first day the date projection lists (events before it cannot exist: the feature is newer).
FIRST_DAY = "2026-01-01"

NAMED_QUERY_NAME = "PatchEventsLastDay"
NAMED_QUERY_DESCRIPTION = "Patch events of the last 24 hours from every account and region (source = events)"


def named_query_sql(database: str, table: str) -> str:
    """Runs, compliance changes and failures of the last day, newest first (Athena SQL)."""
    return (
        f"-- {NAMED_QUERY_DESCRIPTION}\n"
        "SELECT time, accountid, region, detail_type, resource_id, status, document, execution_id, reason, source\n"
        f'FROM "{database}"."{table}"\n'
        "WHERE dt >= date_format(current_date - interval '1' day, '%Y-%m-%d')\n"
        "ORDER BY time DESC\n"
    )


def table_args(
    table: str, database: str, bucket: str, prefix: str, accounts: Sequence[str], regions: Sequence[str]
) -> dict[str, Any]:
    """Keyword arguments of ``aws.glue.CatalogTable`` for the events table (plain dicts)."""
    location = f"s3://{bucket}/{prefix.strip('/')}/"
    description = "org-patching: patch events forwarded from every account and region, minutes after they happen"
    columns = [{"name": name, "type": "string", "comment": comment} for name, comment in COLUMNS]
    return projected_json_table(
        table, database, description, location, FIRST_DAY, accounts, regions, PARTITIONS, columns
    )
