"""The sweep's unmanaged instances, written into the hub's compliance lake (issue 15.4: the report reads them there).

The profile check (``instance_profiles.py``) finds the instances the tag contract patches that SSM does not
manage. Those instances are in no resource data sync file, so the report can only count them if something
writes them where it reads: each sweep of an account-region puts ONE JSON-lines object into the hub's inventory
bucket (the bucket resource data sync writes to), partitioned like the rest of the lake::

    s3://<inventory bucket>/unmanaged/accountid=<id>/region=<region>/dt=<YYYY-MM-DD>/findings.jsonl

* Line 1 is the sweep itself: ``{"sweep": true, "sweptAt", "checked", "unmanagedCount"}`` (no ``resourceid``), so
  an account-region with nothing unmanaged still says it was checked, and the report takes each
  account-region's latest day (``components/hub/unmanaged_table.py``) even when that day found none.
* Every other line is one unmanaged instance in the ``patchctl report --unmanaged`` format (``accountid``,
  ``region``, ``resourceid``, ``reason``, ``tags``) plus ``sweptAt``.
* The key depends only on the account, the region, the UTC day and, for a sweep paged across invocations, the
  invocation (``findings-<k>.jsonl`` for k > 1: each invocation checks its own pages): a second sweep of the
  same day overwrites the first (re-runs are idempotent; the bucket's versioning keeps the earlier one). Limit: a
  same-day re-sweep that needs fewer invocations leaves the earlier sweep's last objects in that day until the
  next day's partition replaces it.

Why the write can never fail the sweep: the tags are the function's job; a refused or throttled PUT is one
``errors`` entry (the handler logs every entry) and the previous day's object stays what the report reads.
An incomplete check (SSM's managed instances or an instance profile could not be read) writes nothing: an object
that lists too few instances would under-count, so that day is reported as an error instead.

What the writer may do (``components/spoke/unmanaged_findings.py``; the hub's bucket and key policies in
``components/hub/unmanaged_table.py``): ``s3:PutObject`` under ``unmanaged/accountid=<its own account>/`` only,
with the hub's key named in the request (``SSEKMSKeyId``), and ``kms:GenerateDataKey`` on that key through S3
for that bucket only.

Environment variables (set by the program from the hub's outputs; all absent: the lake is not configured and
nothing is written):

``UNMANAGED_LAKE_BUCKET`` / ``UNMANAGED_LAKE_PREFIX``
    the hub's inventory bucket and the prefix (``unmanaged``).
``UNMANAGED_LAKE_KEY_ARN``
    the hub's compliance key: named in every PUT (the bucket policy refuses any other).
``UNMANAGED_LAKE_REGION`` / ``UNMANAGED_LAKE_OWNER``
    the bucket's region (the hub's home region) and owner (the hub account: ``ExpectedBucketOwner``).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from .clients import client
from .tagging import AWS_CALL_ERRORS, error_entry

#: The object's name inside its partition (one per account-region and day).
OBJECT_NAME = "findings.jsonl"
#: Actions whose failure leaves the listing incomplete (``ProfileDoctor.examine``): nothing is written then.
INCOMPLETE_ACTIONS = ("ssm:DescribeInstanceInformation", "iam:GetInstanceProfile")
WRITE_ACTION = "s3:PutObject"

_ACCOUNT = re.compile(r"^\d{12}\Z")
_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d+\Z", re.ASCII)
#: S3 bucket names (S3 User Guide, "Bucket naming rules": 3-63 lowercase letters, digits, dots, hyphens).
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]\Z")
_KEY_ARN = re.compile(r"^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key/[A-Za-z0-9-]+\Z")
_PREFIX = re.compile(r"^[A-Za-z0-9_-]+(/[A-Za-z0-9_-]+)*\Z")


class BadDestination(ValueError):
    """The environment names the lake wrongly; the message names the variable and the value."""


@dataclass(frozen=True)
class Destination:
    """Where the findings go: the hub's inventory bucket, its prefix, key, region and owner."""

    bucket: str
    prefix: str
    key_arn: str
    region: str
    owner: str

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Destination | None:
        """``None`` when no variable is set (the lake is not configured); :class:`BadDestination` when one is
        missing or malformed, so a typo is reported instead of writing somewhere else."""
        values = os.environ if env is None else env
        names = {
            "bucket": "UNMANAGED_LAKE_BUCKET",
            "prefix": "UNMANAGED_LAKE_PREFIX",
            "key_arn": "UNMANAGED_LAKE_KEY_ARN",
            "region": "UNMANAGED_LAKE_REGION",
            "owner": "UNMANAGED_LAKE_OWNER",
        }
        read = {field_name: values.get(variable, "").strip() for field_name, variable in names.items()}
        if not any(read.values()):
            return None
        read["prefix"] = read["prefix"].strip("/")
        checks = {"bucket": _BUCKET, "prefix": _PREFIX, "key_arn": _KEY_ARN, "region": _REGION, "owner": _ACCOUNT}
        for field_name, pattern in checks.items():
            if not pattern.match(read[field_name]):
                raise BadDestination(f"{names[field_name]}: {read[field_name]!r} is not valid")
        return cls(**read)

    def key(self, account: str, region: str, day: str, invocation: int = 1) -> str:
        """``<prefix>/accountid=<account>/region=<region>/dt=<day>/findings.jsonl``; a sweep paged across
        invocations (``sweep_pages``) checks each invocation's pages only, so invocation k > 1 writes
        ``findings-<k>.jsonl`` next to it and the day's partition holds the whole sweep (the named query reads every
        object of an account-region's latest day)."""
        name = OBJECT_NAME if invocation == 1 else f"findings-{invocation}.jsonl"
        return f"{self.prefix}/accountid={account}/region={region}/dt={day}/{name}"


def body(unmanaged: Sequence[Mapping[str, Any]], checked: int, swept_at: str) -> bytes:
    """The object: the sweep's line, then one line per unmanaged instance (the ``--unmanaged`` format)."""
    sweep = {"sweep": True, "sweptAt": swept_at, "checked": checked, "unmanagedCount": len(unmanaged)}
    lines = [json.dumps(sweep, separators=(",", ":"))]
    lines += [json.dumps({**entry, "sweptAt": swept_at}, separators=(",", ":"), sort_keys=True) for entry in unmanaged]
    return ("\n".join(lines) + "\n").encode("utf-8")


@dataclass
class Published:
    """What :func:`publish` did: the object written (``s3://`` URI, ``None``: nothing) and any error entries."""

    location: str | None = None
    errors: list[dict[str, Any]] = field(default_factory=list)


def publish(
    unmanaged: Sequence[Mapping[str, Any]],
    check_errors: Sequence[Mapping[str, Any]],
    account: str,
    region: str,
    checked: int,
    dry_run: bool = False,
    now: datetime | None = None,
    env: Mapping[str, str] | None = None,
    invocation: int = 1,
) -> Published:
    """Write one sweep's findings to the lake; never raises for AWS or configuration problems.

    ``unmanaged``/``check_errors``: the profile check's ``Findings``; ``checked``: how many instances it examined.
    """
    try:
        destination = Destination.from_env(env)
    except BadDestination as error:
        return Published(errors=[error_entry(account, region, WRITE_ACTION, [], error)])
    if destination is None or dry_run:
        return Published()
    incomplete = sorted({str(e.get("action")) for e in check_errors if e.get("action") in INCOMPLETE_ACTIONS})
    if incomplete:
        why = RuntimeError(f"unmanaged findings not written: the check was incomplete ({', '.join(incomplete)} failed)")
        return Published(errors=[error_entry(account, region, WRITE_ACTION, [], why)])
    if not _ACCOUNT.match(account) or not _REGION.match(region):
        why = RuntimeError(f"unmanaged findings not written: account {account!r} / region {region!r} not known")
        return Published(errors=[error_entry(account, region, WRITE_ACTION, [], why)])
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    key = destination.key(account, region, moment.strftime("%Y-%m-%d"), invocation)
    try:
        client("s3", destination.region).put_object(
            Bucket=destination.bucket,
            Key=key,
            Body=body(unmanaged, checked, moment.strftime("%Y-%m-%dT%H:%M:%SZ")),
            ContentType="application/x-ndjson",
            ExpectedBucketOwner=destination.owner,
            # The bucket policy admits this write only with the hub's key named; the Bucket Key keeps the
            # encryption context the bucket's ARN (the key policy's condition).
            ServerSideEncryption="aws:kms",
            SSEKMSKeyId=destination.key_arn,
            BucketKeyEnabled=True,
        )
    except AWS_CALL_ERRORS as error:
        return Published(
            errors=[error_entry(account, region, WRITE_ACTION, [f"s3://{destination.bucket}/{key}"], error)]
        )
    return Published(location=f"s3://{destination.bucket}/{key}")
