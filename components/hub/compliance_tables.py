"""Glue tables over the files SSM resource data sync writes, as pure data (no Pulumi import).

Why explicit tables instead of the seed's daily Glue crawler:

* the crawler runs once a day (``cron(0 8 * * ? *)``), so new accounts, regions and instances
  are invisible in Athena for up to 24 h, and every run rewrites the schema (the seed needs a
  Lambda to delete the ``resourcetype`` column the crawler adds to ``aws_instanceinformation``
  because it clashes with the partition key);
* with the schema written here and **partition projection**, Athena computes the partitions
  from the table properties: a file is queryable the moment the sync writes it, and nothing
  ever alters the schema.

Layout written by resource data sync (``SyncFormat=JsonSerDe``), one object per line::

    s3://<bucket>/<prefix>/<TypeName>/accountid=<id>/region=<region>/resourcetype=ManagedInstanceInventory/<instance-id>.json

Field names come from the SSM inventory schema (``GetInventorySchema``; "Metadata collected by
Inventory" in the SSM user guide) plus the three keys the sync adds to every line
(``resourceId``, ``captureTime``, ``schemaVersion``). Glue column names are lower case; the
OpenX JSON SerDe matches JSON keys case-insensitively (its default), so ``resourceId`` fills
``resourceid``. Every column is ``string``, which is what the seed's crawler inferred for
every column (counts included) and which reads any JSON scalar; queries cast counts and parse
timestamps themselves.

Partition projection decision (``accountid``):

* ``injected`` would need no list, but Athena then requires a static equality on
  ``accountid`` in every WHERE clause ("CONSTRAINT_VIOLATION ... must contain only static
  equality conditions"), which makes every org-wide query (compliance by account, SLA breach
  list) impossible. Rejected.
* ``integer`` over 12-digit ids would project 10^12 partitions. Rejected.
* ``enum`` with the organization's account ids (and the configured regions) works for
  org-wide queries and for filters. The list is the central stack's ``accounts`` (the hub
  does not discover accounts: it must be the union of the child stacks' accounts), so
  onboarding an account needs a ``pulumi up`` of the central stack too; until then that
  account's files are simply not read.
  Athena's guidance is to keep an enum to "a few dozen" values because the table metadata must
  stay under Glue's ~1 MB (gzip) limit: 1,000 account ids are ~13 kB, far below it, and
  projection only lists the prefixes that the query's predicates leave (empty prefixes cost a
  LIST each, no data scanned). ``resourcetype`` is an enum of the one value the sync writes.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from components.hub.instance_categories import expand_includes

#: The named Athena queries, one ``<QueryName>.sql`` per query, first line ``-- <description>``.
SQL_DIR = Path(__file__).parent / "sql"

#: Every value the sync writes in the ``resourcetype=`` path segment for EC2/hybrid nodes.
RESOURCE_TYPES: tuple[str, ...] = ("ManagedInstanceInventory",)

SERDE_LIBRARY = "org.openx.data.jsonserde.JsonSerDe"
INPUT_FORMAT = "org.apache.hadoop.mapred.TextInputFormat"
OUTPUT_FORMAT = "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat"
#: ``case.insensitive`` is the SerDe default, written out because the column names depend on
#: it; ``ignore.malformed.json`` keeps one truncated file (a sync in flight) from failing an
#: org-wide query: that line reads as NULLs instead.
SERDE_PARAMETERS: dict[str, str] = {"case.insensitive": "TRUE", "ignore.malformed.json": "TRUE"}

_ACCOUNT_ID = re.compile(r"^\d{12}$")
_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d+$")
_PREFIX = re.compile(r"^[A-Za-z0-9!_.*'()/-]*$")


@dataclass(frozen=True)
class Column:
    """One Glue column: ``name`` as Athena sees it, ``json_key`` as the sync writes it."""

    name: str
    json_key: str
    type: str = "string"
    comment: str = ""


@dataclass(frozen=True)
class ComplianceTable:
    """One resource data sync type (``AWS:ComplianceItem``...) as a Glue table."""

    name: str
    type_name: str
    columns: tuple[Column, ...]
    description: str

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(column.name for column in self.columns)

    @property
    def json_keys(self) -> tuple[str, ...]:
        return tuple(column.json_key for column in self.columns)


#: Partition keys, in path order. Names are the path segments' keys (``accountid=...``).
PARTITION_KEYS: tuple[Column, ...] = (
    Column("accountid", "accountid", comment="12-digit account id, from the S3 path"),
    Column("region", "region", comment="region of the managed node, from the S3 path"),
    Column("resourcetype", "resourcetype", comment="always ManagedInstanceInventory for EC2 and hybrid nodes"),
)

#: Keys the sync adds to every line of every type.
_SYNC_KEYS: tuple[Column, ...] = (
    Column("resourceid", "resourceId", comment="instance id (mi-... for hybrid nodes)"),
    Column("capturetime", "captureTime", comment="ISO-8601 UTC time the data was collected"),
    Column("schemaversion", "schemaVersion"),
)


def _columns(*keys: str) -> tuple[Column, ...]:
    return tuple(Column(key.lower(), key) for key in keys)


COMPLIANCE_ITEM = ComplianceTable(
    name="aws_complianceitem",
    type_name="AWS:ComplianceItem",
    description="One line per compliance item (for Patch: one per patch, installed or missing) per managed node",
    columns=(
        *_columns(
            "ComplianceType",
            "ExecutionId",
            "ExecutionType",
            "ExecutionTime",
            "Id",
            "Title",
            "Status",
            "Severity",
            "DocumentName",
            "DocumentVersion",
            "Classification",
            "PatchBaselineId",
            "PatchSeverity",
            "PatchState",
            "PatchGroup",
            "InstalledTime",
        ),
        *_SYNC_KEYS,
    ),
)

COMPLIANCE_SUMMARY = ComplianceTable(
    name="aws_compliancesummary",
    type_name="AWS:ComplianceSummary",
    description="One line per compliance type (Patch, Association, Custom:...) per managed node",
    columns=(
        *_columns(
            "ComplianceType",
            "PatchGroup",
            "PatchBaselineId",
            "Status",
            "OverallSeverity",
            "ExecutionId",
            "ExecutionType",
            "ExecutionTime",
            "CompliantCriticalCount",
            "CompliantHighCount",
            "CompliantMediumCount",
            "CompliantLowCount",
            "CompliantInformationalCount",
            "CompliantUnspecifiedCount",
            "NonCompliantCriticalCount",
            "NonCompliantHighCount",
            "NonCompliantMediumCount",
            "NonCompliantLowCount",
            "NonCompliantInformationalCount",
            "NonCompliantUnspecifiedCount",
        ),
        *_SYNC_KEYS,
    ),
)

#: ``ResourceType`` is also written by the sync in this type; it is deliberately NOT a column:
#: it has the partition key's name (the clash the seed's DeleteGlueColumn Lambda repaired after
#: every crawl). The SerDe ignores keys that are not columns.
INSTANCE_INFORMATION = ComplianceTable(
    name="aws_instanceinformation",
    type_name="AWS:InstanceInformation",
    description="One line per managed node: agent, platform, address and status (Active, Stopped, Terminated...)",
    columns=(
        *_columns(
            "AgentType",
            "AgentVersion",
            "ComputerName",
            "IamRole",
            "InstanceId",
            "InstanceStatus",
            "IpAddress",
            "PlatformName",
            "PlatformType",
            "PlatformVersion",
        ),
        *_SYNC_KEYS,
    ),
)

TAG = ComplianceTable(
    name="aws_tag",
    type_name="AWS:Tag",
    description="One line per tag per managed node (tags reach inventory through the agent's tag expansion)",
    columns=(*_columns("Key", "Value"), *_SYNC_KEYS),
)

TABLES: tuple[ComplianceTable, ...] = (COMPLIANCE_ITEM, COMPLIANCE_SUMMARY, INSTANCE_INFORMATION, TAG)
TABLES_BY_NAME: dict[str, ComplianceTable] = {table.name: table for table in TABLES}

#: JSON keys the sync writes that map to a partition key instead of a column, per type.
PARTITION_SHADOWED_KEYS: dict[str, tuple[str, ...]] = {INSTANCE_INFORMATION.type_name: ("ResourceType",)}


def get_table(table: ComplianceTable | str) -> ComplianceTable:
    """Accept a table or its Glue name (``aws_complianceitem``); unknown names fail with the list."""
    if isinstance(table, ComplianceTable):
        return table
    try:
        return TABLES_BY_NAME[table]
    except KeyError:
        raise ValueError(f"table {table!r} is not one of {', '.join(TABLES_BY_NAME)}") from None


def _clean_prefix(prefix: str) -> str:
    cleaned = prefix.strip("/")
    if not _PREFIX.match(cleaned):
        raise ValueError(f"prefix {prefix!r} has characters S3 keys from resource data sync never use")
    return cleaned


def table_location(table: ComplianceTable | str, bucket: str, prefix: str) -> str:
    """``s3://<bucket>/<prefix>/AWS:ComplianceItem/`` (no ``//`` when the prefix is empty)."""
    spec = get_table(table)
    if not bucket or "/" in bucket:
        raise ValueError(f"bucket {bucket!r} must be a bucket name (no s3://, no slash)")
    parts = [part for part in (_clean_prefix(prefix), spec.type_name) if part]
    return f"s3://{bucket}/{'/'.join(parts)}/"


def storage_location_template(table: ComplianceTable | str, bucket: str, prefix: str) -> str:
    """The projected partition location, in path order of :data:`PARTITION_KEYS`."""
    base = table_location(table, bucket, prefix)
    return base + "/".join(f"{key.name}=${{{key.name}}}" for key in PARTITION_KEYS) + "/"


def _checked(values: Sequence[str], pattern: re.Pattern[str], what: str) -> list[str]:
    if isinstance(values, str):
        raise ValueError(f"{what}: expected a list, got the string {values!r}")
    unique = sorted(set(values))
    if not unique:
        raise ValueError(f"{what}: at least one value is needed (an empty enum projects no partition)")
    for value in unique:
        if not pattern.match(value):
            raise ValueError(f"{what}: {value!r} is not valid")
    return unique


def glue_table_parameters(
    table: ComplianceTable | str,
    bucket: str,
    prefix: str,
    accounts: Sequence[str],
    regions: Sequence[str],
) -> dict[str, str]:
    """The Glue table ``parameters`` (partition projection) for one table.

    ``accounts``: every account id whose nodes sync to the bucket (the org's accounts);
    ``regions``: every region they sync from. Both are sorted and de-duplicated so the
    rendered table does not change (no replacement, no diff) when config order changes.
    """
    spec = get_table(table)
    account_values = _checked(accounts, _ACCOUNT_ID, "accounts")
    region_values = _checked(regions, _REGION, "regions")
    return {
        "EXTERNAL": "TRUE",
        "classification": "json",
        "projection.enabled": "true",
        "projection.accountid.type": "enum",
        "projection.accountid.values": ",".join(account_values),
        "projection.region.type": "enum",
        "projection.region.values": ",".join(region_values),
        "projection.resourcetype.type": "enum",
        "projection.resourcetype.values": ",".join(RESOURCE_TYPES),
        "storage.location.template": storage_location_template(spec, bucket, prefix),
    }


def catalog_table_args(
    table: ComplianceTable | str,
    database: str,
    bucket: str,
    prefix: str,
    accounts: Sequence[str],
    regions: Sequence[str],
) -> dict[str, Any]:
    """Keyword arguments for ``aws.glue.CatalogTable`` (plain dicts, snake_case, as pulumi-aws accepts).

    The caller adds ``opts`` (provider, parent) and, if wanted, ``catalog_id``.
    """
    spec = get_table(table)
    return {
        "name": spec.name,
        "database_name": database,
        "description": spec.description,
        "table_type": "EXTERNAL_TABLE",
        "parameters": glue_table_parameters(spec, bucket, prefix, accounts, regions),
        "partition_keys": [{"name": key.name, "type": key.type, "comment": key.comment} for key in PARTITION_KEYS],
        "storage_descriptor": {
            "location": table_location(spec, bucket, prefix),
            "input_format": INPUT_FORMAT,
            "output_format": OUTPUT_FORMAT,
            "ser_de_info": {
                "name": f"{spec.name}-json",
                "serialization_library": SERDE_LIBRARY,
                "parameters": dict(SERDE_PARAMETERS),
            },
            "columns": [
                {"name": column.name, "type": column.type, **({"comment": column.comment} if column.comment else {})}
                for column in spec.columns
            ],
        },
    }


@dataclass(frozen=True)
class NamedQuery:
    """One ``aws.athena.NamedQuery``: the file name is the name, the first line the description."""

    name: str
    description: str
    sql: str


def named_queries(sql_dir: Path = SQL_DIR) -> tuple[NamedQuery, ...]:
    """Every ``*.sql`` in ``sql_dir``, sorted by name.

    Fails when a file does not start with ``-- <description>``: Athena requires a description
    of 1..1024 characters, and a query nobody can identify in the console is no use.
    """
    found = []
    for path in sorted(sql_dir.glob("*.sql")):
        text = path.read_text(encoding="utf-8")
        first, _, _ = text.partition("\n")
        description = first[2:].strip() if first.startswith("--") else ""
        if not description or len(description) > 1024:
            raise ValueError(f"{path}: line 1 must be '-- <description>' (1..1024 characters)")
        # "-- @include <block>" lines take the tag contract's rendered CTEs (components/hub/instance_categories.py).
        sql = expand_includes(text.strip(), str(path)) + "\n"
        found.append(NamedQuery(name=path.stem, description=description, sql=sql))
    return tuple(found)


def projected_json_table(
    name: str,
    database: str,
    description: str,
    location: str,
    first_day: str,
    accounts: Sequence[str],
    regions: Sequence[str],
    partitions: Sequence[tuple[str, str]],
    columns: list[dict[str, str]],
) -> dict[str, Any]:
    """Keyword arguments of ``aws.glue.CatalogTable`` (plain dicts) for a JSON-lines table under ``location``,
    partitioned ``accountid=/region=/dt=`` and found by partition projection (account and Region enums, ``dt`` a
    day from ``first_day`` to ``NOW``): the lake's tables written by the child accounts share this shape."""
    account_values = _checked(accounts, _ACCOUNT_ID, "accounts")
    region_values = _checked(regions, _REGION, "regions")
    return {
        "name": name,
        "database_name": database,
        "description": description,
        "table_type": "EXTERNAL_TABLE",
        "parameters": {
            "EXTERNAL": "TRUE",
            "classification": "json",
            "projection.enabled": "true",
            "projection.accountid.type": "enum",
            "projection.accountid.values": ",".join(account_values),
            "projection.region.type": "enum",
            "projection.region.values": ",".join(region_values),
            "projection.dt.type": "date",
            "projection.dt.format": "yyyy-MM-dd",
            "projection.dt.range": f"{first_day},NOW",
            "projection.dt.interval": "1",
            "projection.dt.interval.unit": "DAYS",
            "storage.location.template": location + "accountid=${accountid}/region=${region}/dt=${dt}/",
        },
        "partition_keys": [{"name": key, "type": "string", "comment": comment} for key, comment in partitions],
        "storage_descriptor": {
            "location": location,
            "input_format": INPUT_FORMAT,
            "output_format": OUTPUT_FORMAT,
            "ser_de_info": {
                "name": f"{name}-json",
                "serialization_library": SERDE_LIBRARY,
                "parameters": dict(SERDE_PARAMETERS),
            },
            "columns": columns,
        },
    }
