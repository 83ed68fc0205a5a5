"""Patch exclusion lists: build an ``InstallOverrideList`` from an instance's missing patches minus a team's exclusions.

The "omit patches" need (seeds/002): a team must be able to say "not this KB / not kernel updates this month" without
editing the org-wide baseline. ``AWS-RunPatchBaseline`` accepts an ``InstallOverrideList``: an S3 (or https) URL of a
YAML file listing the patches to install, which replaces the baseline's choice::

    patches:
      - id: KB5034441                      # Windows: the KB id
        title: 2024-01 Security Update ...
      - id: openssl.x86_64                 # Linux: package.architecture (DescribeInstancePatches' KBId)
        title: openssl.x86_64:1:3.0.8-1.amzn2023

So this function reads what SSM says is ``Missing`` or ``Failed`` on the instance(s) (DescribeInstancePatches, paged),
drops what the team's exclusion list matches, writes the YAML to the hub's patch-lists bucket, and returns its S3 URI
for the runbook's ``InstallOverrideList`` parameter.

The object's name ends with a digest of what it holds (the list, the instances, the exclusion list's URI), and the
put is conditional (``If-None-Match: *``): the same list asked for again is the same object, S3 refuses the second
put and the function returns the same URI. So a retried or repeated call writes nothing and adds no version to the
(versioned) bucket (issue 18: run twice = run once); a changed list is a new object.

Exclusion list format (in S3; JSON, or plain text with one pattern per line and ``#`` comments; the Lambda runtime
has no YAML parser, and the function must not need a layer)::

    {"exclude": [                                  # or just a top-level JSON list
        "KB5034441",                               # a glob matched, case-insensitively, against id AND title
        "kernel*",
        {"id": "KB50*", "reason": "breaks the print spooler (ticket 1234)"},   # the id only
        {"title": "*Preview*"}                     # the title only
    ]}

Event: ``{"InstanceId": "i-..."}`` or ``{"InstanceIds": [...]}`` (the union of their patches), optional
``"ExclusionListUri": "s3://bucket/key"`` (overrides the environment's default).

Environment variables:

``PATCH_LISTS_BUCKET`` (required)
    the hub's patch-lists bucket.
``PATCH_LISTS_PREFIX``
    key prefix of the written lists. Default ``override-lists``.
``EXCLUSION_LIST_URI``
    default exclusion list (``s3://bucket/key``); empty means no exclusions. Default empty.
``PATCH_STATES``
    comma-separated patch states to include. Default ``Missing,Failed``.
``AWS_RETRY_MODE`` / ``AWS_MAX_ATTEMPTS``
    read by botocore itself; the program sets ``standard`` / ``10``.
``POWERTOOLS_SERVICE_NAME`` / ``POWERTOOLS_LOG_LEVEL``
    Logger. Defaults ``org-patching-override-list`` / ``INFO``.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import ClientError
from lambda_shared.clients import client

logger = Logger(service=os.environ.get("POWERTOOLS_SERVICE_NAME", "org-patching-override-list"))

# \Z: "$" also matches before a trailing newline, which SSM and S3 would then receive (found by tests/fuzz).
INSTANCE_ID = re.compile(r"^(i|mi)-[0-9a-f]{8,17}\Z")
S3_URI = re.compile(r"^s3://([^/]+)/(.+)\Z")
VALID_STATES = (
    "Installed",
    "InstalledOther",
    "InstalledPendingReboot",
    "InstalledRejected",
    "Missing",
    "NotApplicable",
    "Failed",
)


class BadRequest(ValueError):
    """The event, the configuration or the exclusion list is unusable; the message names the place and value."""


@dataclass(frozen=True)
class Rule:
    """One exclusion: a glob on the id, the title, or both."""

    pattern: str
    field: str  # "any" | "id" | "title"
    reason: str = ""

    def matches(self, patch: Mapping[str, str]) -> bool:
        fields = ("id", "title") if self.field == "any" else (self.field,)
        return any(fnmatch.fnmatchcase(patch.get(f, "").casefold(), self.pattern.casefold()) for f in fields)


# --------------------------------------------------------------------------------------------------------------
# Deciding (pure)
# --------------------------------------------------------------------------------------------------------------


def parse_exclusions(text: str, where: str) -> list[Rule]:
    """Rules from an exclusion list: JSON (object with ``exclude`` or a list) or one pattern per line."""
    stripped = text.strip()
    if not stripped:
        return []
    if stripped[0] in "[{":
        try:
            document: Any = json.loads(stripped)
        except json.JSONDecodeError as error:
            raise BadRequest(f"{where}: not valid JSON (line {error.lineno}: {error.msg})") from None
        except RecursionError:
            raise BadRequest(f"{where}: not valid JSON (nested too deeply)") from None
    else:
        document = [line.split("#", 1)[0].strip() for line in stripped.splitlines()]
        document = [line for line in document if line]
    if isinstance(document, Mapping):
        if set(document) - {"exclude"}:
            raise BadRequest(f"{where}: unknown keys {sorted(set(document) - {'exclude'})}; expected 'exclude'")
        document = document.get("exclude") or []
    if not isinstance(document, list):
        raise BadRequest(f'{where}: expected a list of patterns or {{"exclude": [...]}}')
    rules = []
    for n, entry in enumerate(document):
        if isinstance(entry, str) and entry.strip():
            rules.append(Rule(entry.strip(), "any"))
        elif (
            isinstance(entry, Mapping)
            and len(set(entry) & {"id", "title"}) == 1
            and set(entry) <= {"id", "title", "reason"}
        ):
            field = "id" if "id" in entry else "title"
            pattern = entry[field]
            if not isinstance(pattern, str) or not pattern.strip():
                raise BadRequest(f"{where}: entry {n}: {field} must be a non-empty string")
            rules.append(Rule(pattern.strip(), field, str(entry.get("reason", ""))))
        else:
            raise BadRequest(f"{where}: entry {n}: {entry!r} is not a pattern, {{id: ...}} or {{title: ...}}")
    return rules


def override_list(
    patches: Iterable[Mapping[str, str]], rules: list[Rule]
) -> tuple[list[dict[str, str]], dict[str, str]]:
    """(patches to install, {excluded id: why}); de-duplicated by id, sorted for stable files."""
    keep: dict[str, dict[str, str]] = {}
    excluded: dict[str, str] = {}
    for patch in patches:
        item = {"id": patch["id"], "title": patch.get("title", "")}
        rule = next((r for r in rules if r.matches(item)), None)
        if rule is not None:
            excluded[item["id"]] = f"{rule.field} matches {rule.pattern!r}" + (
                f" ({rule.reason})" if rule.reason else ""
            )
        else:
            keep.setdefault(item["id"], item)
    return [keep[k] for k in sorted(keep)], excluded


def render(patches: list[dict[str, str]]) -> str:
    """The InstallOverrideList YAML that AWS-RunPatchBaseline reads.

    Written by hand (no YAML library in the Lambda runtime): every scalar is a double-quoted YAML string, and a JSON
    string literal is exactly that, so ids and titles with quotes, colons or non-ASCII text stay intact.
    """
    if not patches:
        return "patches: []\n"
    lines = ["patches:"]
    for patch in patches:
        lines.append(f"  - id: {json.dumps(patch['id'])}")
        if patch.get("title"):
            lines.append(f"    title: {json.dumps(patch['title'])}")
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------------------------------------------
# Doing
# --------------------------------------------------------------------------------------------------------------


def parse_event(event: Any) -> tuple[list[str], str]:
    """(instance ids, exclusion list URI or '')."""
    if not isinstance(event, Mapping):
        raise BadRequest(f"event: expected a JSON object, got {type(event).__name__}")
    ids = event.get("InstanceIds")
    if ids is None:
        ids = [event["InstanceId"]] if "InstanceId" in event else []
    if not isinstance(ids, list) or not ids:
        raise BadRequest("event: InstanceId or InstanceIds (a non-empty list) is required")
    for instance_id in ids:
        if not isinstance(instance_id, str) or not INSTANCE_ID.match(instance_id):
            raise BadRequest(f"event.InstanceIds: {instance_id!r} is not an instance id")
    uri = event.get("ExclusionListUri", os.environ.get("EXCLUSION_LIST_URI", "")) or ""
    if uri and not S3_URI.match(str(uri)):
        raise BadRequest(f"ExclusionListUri: {uri!r} is not s3://bucket/key")
    return list(dict.fromkeys(ids)), str(uri)


def settings() -> tuple[str, str, list[str]]:
    """(bucket, prefix, states) from the environment."""
    bucket = os.environ.get("PATCH_LISTS_BUCKET", "").strip()
    if not bucket:
        raise BadRequest("PATCH_LISTS_BUCKET: not set (the hub's patch-lists bucket)")
    prefix = os.environ.get("PATCH_LISTS_PREFIX", "override-lists").strip("/")
    states = [s.strip() for s in os.environ.get("PATCH_STATES", "Missing,Failed").split(",") if s.strip()]
    bad = [s for s in states if s not in VALID_STATES]
    if bad or not states:
        raise BadRequest(f"PATCH_STATES: {bad or states} not in {', '.join(VALID_STATES)}")
    return bucket, prefix, states


def missing_patches(ssm: Any, instance_id: str, states: list[str]) -> list[dict[str, str]]:
    """DescribeInstancePatches filtered by state, every page."""
    out: list[dict[str, str]] = []
    paginator = ssm.get_paginator("describe_instance_patches")
    for page in paginator.paginate(
        InstanceId=instance_id, Filters=[{"Key": "State", "Values": states}], PaginationConfig={"PageSize": 100}
    ):
        out.extend({"id": p["KBId"], "title": p.get("Title", "")} for p in page.get("Patches", []))
    return out


def read_exclusions(s3: Any, uri: str) -> list[Rule]:
    if not uri:
        return []
    match = S3_URI.match(uri)
    assert match is not None  # checked by parse_event
    try:
        body = s3.get_object(Bucket=match.group(1), Key=match.group(2))["Body"].read()
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "")
        raise BadRequest(f"ExclusionListUri: cannot read {uri} ({code})") from None
    return parse_exclusions(body.decode("utf-8", errors="replace"), uri)


def account_id(context: Any) -> str:
    arn = getattr(context, "invoked_function_arn", "") or ""
    parts = arn.split(":")
    if len(parts) > 4 and parts[4].isdigit():
        return parts[4]
    return str(client("sts").get_caller_identity()["Account"])


def run(event: Any, context: Any) -> dict[str, Any]:
    """Validate everything first, then read, decide and write one object."""
    instance_ids, uri = parse_event(event)
    bucket, prefix, states = settings()
    ssm = client("ssm")
    s3 = client("s3")
    rules = read_exclusions(s3, uri)
    found: list[dict[str, str]] = []
    for instance_id in instance_ids:
        try:
            found.extend(missing_patches(ssm, instance_id, states))
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "")
            raise BadRequest(f"InstanceId {instance_id}: DescribeInstancePatches failed ({code})") from None
    patches, excluded = override_list(found, rules)
    account, region = account_id(context), ssm.meta.region_name
    name = instance_ids[0] if len(instance_ids) == 1 else f"{len(instance_ids)}-instances"
    body = render(patches).encode()
    metadata = {"instances": ",".join(instance_ids)[:1024], "exclusions": uri[:1024]}
    digest = hashlib.sha256(body + json.dumps(metadata, sort_keys=True).encode()).hexdigest()[:16]
    key = f"{prefix}/accountid={account}/region={region}/{name}-{digest}.yaml"
    try:
        s3.put_object(
            Bucket=bucket, Key=key, Body=body, ContentType="application/yaml", Metadata=metadata, IfNoneMatch="*"
        )
    except ClientError as error:
        # 412: this very list is there already; 409: the same list's put is in flight (S3 user guide, "Conditional
        # writes"). The key names its content, so either way the object is the one to return.
        if error.response.get("Error", {}).get("Code") not in ("PreconditionFailed", "ConditionalRequestConflict"):
            raise
    return {
        "InstallOverrideList": f"s3://{bucket}/{key}",
        "patchCount": len(patches),
        "excluded": excluded,
        "instances": instance_ids,
    }


@logger.inject_lambda_context
def handler(event: Any, context: LambdaContext) -> dict[str, Any]:
    """Lambda entry point: bad input raises ``BadRequest`` (the caller, a runbook step, must fail) after logging."""
    try:
        result = run(event, context)
    except BadRequest as error:
        logger.error("override list not built", extra={"reason": str(error)})
        raise
    logger.info("override list written", extra={"result": json.loads(json.dumps(result))})
    return result
