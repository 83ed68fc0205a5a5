"""The lake's unmanaged instances: the hub's Glue table, named query and the policies that let sweeps write them.

Every child account's tag sweep writes, per account-region and day, one JSON-lines object
(``lambda_src/lambda_shared/unmanaged_findings.py``) into the hub's inventory bucket::

    s3://<inventory bucket>/unmanaged/accountid=<id>/region=<region>/dt=<YYYY-MM-DD>/findings.jsonl

Its first line is the sweep itself (``sweep``, ``sweptAt``, ``checked``, ``unmanagedCount``: no ``resourceid``),
then one line per instance the tag contract patches that SSM does not manage (``resourceid``, ``reason``,
``tags``, ``sweptAt``).

* **Table** ``unmanaged_instances``: partition projection like the patch-events table (``accountid`` and
  ``region`` enums of the organization's accounts and regions, ``dt`` a date up to ``NOW``), so a sweep's object
  is queryable the moment it lands.
* **Named query** ``LatestUnmanagedInstances``: each account-region's latest sweep of the last
  :data:`FRESH_DAYS` days (the filter also bounds the partitions Athena lists), minus the instances that are in
  SSM inventory by now (the sweep attached a profile and the agent registered since: they are counted by the
  inventory's own categories, never twice). The sweep's own line comes through with an empty ``resourceid``: it
  says which account-regions were checked even when they found nothing. ``patchctl report`` runs this very text,
  on Athena and on DuckDB (``patchctl/report/lake_unmanaged.py``).
* **Who may write**: principals of the organization only (``aws:PrincipalOrgID``), only the tag-remediation role
  (``aws:PrincipalArn``), only under ``accountid=${aws:PrincipalAccount}`` (its own account's prefix: account A
  cannot write B's findings) and only with the hub's key named; the key policy lets that role generate a data
  key only through S3 in the hub's region for this bucket (S3 Bucket Keys: the encryption context is the
  bucket's ARN).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pulumi

from .. import naming
from ..policy_documents import Statement, allow
from .compliance_tables import projected_json_table

#: Columns, as the sweep's lines carry them (the OpenX SerDe matches ``sweptAt`` to ``sweptat``). The account and
#: region are the partition keys only (a column may not share a partition key's name).
COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("resourceid", "string", "instance id; empty on the sweep's own line"),
    ("reason", "string", "why SSM does not manage it, and the repair made"),
    ("tags", "map<string,string>", "the instance's tags when swept"),
    ("sweptat", "string", "ISO-8601 UTC time of the sweep"),
    ("sweep", "boolean", "true on the sweep's own line"),
    ("checked", "int", "sweep line: instances the profile check examined"),
    ("unmanagedcount", "int", "sweep line: instances it found unmanaged"),
)
PARTITIONS: tuple[tuple[str, str], ...] = (
    ("accountid", "12-digit account id, from the S3 path"),
    ("region", "region swept, from the S3 path"),
    ("dt", "UTC day of the sweep, YYYY-MM-DD, from the S3 path"),
)
#: The first day the date projection lists (no sweep wrote findings before this feature).
FIRST_DAY = "2026-01-01"
#: A sweep older than this is not read: the account-region stopped sweeping (left the organization, function
#: removed), and its last findings would otherwise be counted for a year.
FRESH_DAYS = 7

NAMED_QUERY_NAME = "LatestUnmanagedInstances"
NAMED_QUERY_DESCRIPTION = (
    "Instances SSM does not manage, from each account-region's latest tag sweep (last 7 days), minus those in "
    "SSM inventory since; the sweep's own line has no resourceid"
)
#: Every named query's SQL, as the hub deploys it and the report runs it (tables unqualified: the query runs in the
#: hub's database on Athena and on DuckDB's views of the same names).
NAMED_QUERY_SQL = f"""-- {NAMED_QUERY_DESCRIPTION}
WITH recent AS (
    SELECT accountid, region, dt, resourceid, reason, sweptat
    FROM {naming.UNMANAGED_TABLE}
    WHERE dt >= date_format(current_date - interval '{FRESH_DAYS}' day, '%Y-%m-%d')
),
latest AS (
    SELECT accountid, region, max(dt) AS dt
    FROM recent
    GROUP BY accountid, region
)
SELECT r.accountid, r.region, r.dt, r.sweptat, r.resourceid, r.reason
FROM recent r
JOIN latest l ON r.accountid = l.accountid AND r.region = l.region AND r.dt = l.dt
WHERE r.resourceid IS NULL
   OR NOT EXISTS (SELECT 1 FROM aws_instanceinformation i WHERE i.resourceid = r.resourceid)
ORDER BY r.accountid, r.region, r.resourceid
"""


def table_args(database: str, bucket: str, accounts: Sequence[str], regions: Sequence[str]) -> dict[str, Any]:
    """Keyword arguments of ``aws.glue.CatalogTable`` for the unmanaged-instances table (plain dicts)."""
    location = f"s3://{bucket}/{naming.UNMANAGED_PREFIX}/"
    description = "org-patching: instances SSM does not manage, written by every account-region's tag sweep"
    columns = [{"name": name, "type": kind, "comment": comment} for name, kind, comment in COLUMNS]
    return projected_json_table(
        naming.UNMANAGED_TABLE, database, description, location, FIRST_DAY, accounts, regions, PARTITIONS, columns
    )


def _writer_arn(partition: str) -> str:
    """The tag-remediation role of any account (the organization condition narrows it to ours)."""
    return f"arn:{partition}:iam::*:role/{naming.TAG_REMEDIATION_ROLE}"


def bucket_statements(
    bucket_arn: pulumi.Input[str], org_id: str, key_arn: pulumi.Input[str], partition: str
) -> list[Statement]:
    """The inventory bucket's statement for the sweeps: their own account's prefix only, the hub's key only."""
    return [
        allow(
            ["s3:PutObject"],
            pulumi.Output.concat(bucket_arn, f"/{naming.UNMANAGED_PREFIX}/accountid=${{aws:PrincipalAccount}}/*"),
            sid="TagSweepsWriteOwnUnmanagedFindings",
            principal={"AWS": "*"},
            conditions={
                "StringEquals": {
                    "aws:PrincipalOrgID": org_id,
                    "s3:x-amz-server-side-encryption-aws-kms-key-id": key_arn,
                },
                "ArnLike": {"aws:PrincipalArn": _writer_arn(partition)},
            },
        )
    ]


def key_statement(bucket_arn: pulumi.Input[str], org_id: str, region: str, partition: str) -> Statement:
    """The compliance key's statement for the sweeps: a data key through S3 in the hub's region, for the
    inventory bucket only (with S3 Bucket Keys the encryption context is the bucket's ARN), nothing else."""
    return {
        "Sid": "TagSweepsEncryptUnmanagedFindings",
        "Effect": "Allow",
        "Principal": {"AWS": "*"},
        "Action": ["kms:GenerateDataKey"],
        "Resource": "*",
        "Condition": {
            "StringEquals": {
                "aws:PrincipalOrgID": org_id,
                "kms:ViaService": f"s3.{region}.amazonaws.com",
                "kms:EncryptionContext:aws:s3:arn": bucket_arn,
            },
            "ArnLike": {"aws:PrincipalArn": _writer_arn(partition)},
        },
    }
