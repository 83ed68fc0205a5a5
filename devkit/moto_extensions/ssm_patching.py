"""SSM patching and compliance APIs for moto, plus :func:`simulate_patch_run` for the demo's maintenance windows.

moto 5.2 has no notion of a managed instance, of patch states or of compliance items. Added here, with the shapes,
filters, limits and error codes of the SSM API reference:

* ``DescribeInstanceInformation``: the managed instances are the *running* EC2 instances of the account+region that
  have an instance profile (what the SSM agent needs to register). ``PingStatus`` is ``Online``. Filters
  (``InstanceInformationFilterList`` and ``Filters``, incl. ``tag:<key>``), ``MaxResults`` 5-50, paging.
* ``DescribeInstancePatchStates`` (``InstanceIds`` <= 50, ``MaxResults`` 10-100),
  ``DescribeInstancePatchStatesForPatchGroup`` (count filters with ``Equal|NotEqual|LessThan|GreaterThan``),
  ``DescribeInstancePatches`` (filters ``Classification|KBId|Severity|State``; an instance that is not managed
  gives ``InvalidInstanceId``). Only instances a patch run has reported on have a state, as on AWS.
* ``PutComplianceItems`` (``COMPLETE`` replaces the resource's items of that type, ``PARTIAL`` upserts),
  ``ListComplianceItems``, ``ListComplianceSummaries`` (counts of *resources*, by highest non-compliant severity),
  ``ListResourceComplianceSummaries`` (counts of *items* per resource and type).

State lives on moto's SSM backend of the account+region, so moto's reset clears it.
"""

from __future__ import annotations

import datetime
import fnmatch
import hashlib
import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from moto.core.responses import ActionResult, EmptyResult
from moto.ec2.models import ec2_backends
from moto.ssm.exceptions import SSMException, ValidationException
from moto.ssm.models import SimpleSystemManagerBackend, ssm_backends
from moto.ssm.responses import SimpleSystemManagerResponse

SEVERITIES = ("CRITICAL", "HIGH", "MEDIUM", "LOW", "INFORMATIONAL", "UNSPECIFIED")
PATCH_STATES = (
    "INSTALLED",
    "INSTALLED_OTHER",
    "INSTALLED_PENDING_REBOOT",
    "INSTALLED_REJECTED",
    "MISSING",
    "NOT_APPLICABLE",
    "FAILED",
    "AVAILABLE_SECURITY_UPDATE",
)
COUNT_KEYS = {
    "InstalledCount": "Installed",
    "InstalledOtherCount": "InstalledOther",
    "InstalledPendingRebootCount": "InstalledPendingReboot",
    "InstalledRejectedCount": "InstalledRejected",
    "MissingCount": "Missing",
    "FailedCount": "Failed",
    "UnreportedNotApplicableCount": "UnreportedNotApplicable",
    "NotApplicableCount": "NotApplicable",
}
COMPLIANCE_TYPE_PATTERN = re.compile(r"^([A-Za-z0-9_\-]\w+|Custom:[a-zA-Z0-9_\-]\w+)$")


class InvalidInstanceId(SSMException):
    code = "InvalidInstanceId"


class InvalidFilter(SSMException):
    code = "InvalidFilter"


class InvalidInstanceInformationFilterValue(SSMException):
    code = "InvalidInstanceInformationFilterValue"


class InvalidFilterKey(SSMException):
    code = "InvalidFilterKey"


class InvalidNextToken(SSMException):
    code = "InvalidNextToken"


class InvalidResourceType(SSMException):
    code = "InvalidResourceType"


class InvalidItemContentException(SSMException):
    code = "InvalidItemContentException"


class ItemSizeLimitExceededException(SSMException):
    code = "ItemSizeLimitExceededException"


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


# --------------------------------------------------------------------------------------------------------------
# State
# --------------------------------------------------------------------------------------------------------------


@dataclass
class PatchData:
    """What SSM knows about patching in one account+region."""

    #: instance id -> InstancePatchState (dict in the API's shape)
    states: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: instance id -> list of PatchComplianceData dicts
    patches: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    #: (resource type, resource id, compliance type) -> {"items": {id: item}, "summary": ExecutionSummary}
    compliance: dict[tuple[str, str, str], dict[str, Any]] = field(default_factory=dict)
    #: instance id -> patch catalog seeded by tests/demo (None: a deterministic default)
    catalog: dict[str, list[dict[str, Any]]] = field(default_factory=dict)


def patch_data(account: str, region: str) -> PatchData:
    """The patching state of one account+region (for tests, the demo and the other extension modules)."""
    return _data(ssm_backends[account][region])


def _data(backend: SimpleSystemManagerBackend) -> PatchData:
    return backend.__dict__.setdefault("_org_patching_patch_data", PatchData())  # type: ignore[no-any-return]


# --------------------------------------------------------------------------------------------------------------
# Managed instances (from moto's EC2)
# --------------------------------------------------------------------------------------------------------------


def managed_instances(account: str, region: str) -> list[dict[str, Any]]:
    """InstanceInformation items: running EC2 instances with an instance profile, as the SSM agent reports them."""
    ec2 = ec2_backends[account][region]
    associations = ec2.iam_instance_profile_associations
    items = []
    for reservation in ec2.reservations.values():
        # moto associates the profile with the FIRST instance of a RunInstances call only; AWS gives it to all.
        shared = next((associations[i.id] for i in reservation.instances if i.id in associations), None)
        for instance in reservation.instances:
            if instance.state != "running":
                continue
            association = associations.get(instance.id, shared)
            if association is None:
                continue
            items.append(_instance_information(instance, association))
    return items


def _instance_information(instance: Any, association: Any) -> dict[str, Any]:
    """One InstanceInformation item (``_tags`` is internal, for tag filters and the inventory sync)."""
    profile = association.iam_instance_profile
    roles = getattr(profile, "roles", []) or []
    windows = (instance.platform or "").lower() == "windows"
    tags = {t["key"]: t["value"] for t in instance.get_tags()}
    return {
        "InstanceId": instance.id,
        "PingStatus": "Online",
        "LastPingDateTime": _now(),
        "AgentVersion": "3.3.1142.0",
        "IsLatestVersion": True,
        "PlatformType": "Windows" if windows else "Linux",
        "PlatformName": "Microsoft Windows Server 2022 Datacenter" if windows else "Amazon Linux",
        "PlatformVersion": "10.0.20348" if windows else "2023",
        "ResourceType": "EC2Instance",
        "IamRole": roles[0].name if roles else profile.name,
        "IPAddress": instance.private_ip,
        "ComputerName": f"ip-{(instance.private_ip or '0.0.0.0').replace('.', '-')}.ec2.internal",
        "AssociationStatus": "Success",
        "SourceId": instance.id,
        "SourceType": "AWS::EC2::Instance",
        "_tags": tags,
    }


_INFO_FILTER_KEYS = {
    "InstanceIds": "InstanceId",
    "AgentVersion": "AgentVersion",
    "PingStatus": "PingStatus",
    "PlatformTypes": "PlatformType",
    "ResourceType": "ResourceType",
    "IamRole": "IamRole",
    "AssociationStatus": "AssociationStatus",
    "ActivationIds": "ActivationId",
}


def _info_matches(item: dict[str, Any], key: str, values: list[str]) -> bool:
    if key.startswith("tag:"):
        return item["_tags"].get(key[4:]) in values
    if key == "tag-key":
        return any(v in item["_tags"] for v in values)
    return str(item.get(_INFO_FILTER_KEYS[key], "")) in values


def _page(items: list[Any], token: str | None, max_results: int) -> tuple[list[Any], str | None]:
    try:
        start = int(token) if token else 0
    except ValueError:
        raise InvalidNextToken("The specified token isn't valid.") from None
    end = start + max_results
    return items[start:end], (str(end) if end < len(items) else None)


def _paged(
    self: SimpleSystemManagerResponse, key: str, items: list[Any], low: int, high: int, default: int
) -> ActionResult:
    """One page of ``items`` under ``key``, with MaxResults bounds and NextToken as the API has them."""
    max_results = _max_results(self._get_param("MaxResults"), low, high, default)
    page, token = _page(items, self._get_param("NextToken"), max_results)
    result: dict[str, Any] = {key: page}
    if token:
        result["NextToken"] = token
    return ActionResult(result)


def _max_results(value: Any, low: int, high: int, default: int) -> int:
    if value is None:
        return default
    number = int(value)
    if not low <= number <= high:
        raise ValidationException(
            f"1 validation error detected: Value '{number}' at 'maxResults' failed to satisfy constraint: "
            f"Member must have value between {low} and {high}"
        )
    return number


def describe_instance_information(self: SimpleSystemManagerResponse) -> ActionResult:
    items = managed_instances(self.current_account, self.region)
    for f in self._get_param("InstanceInformationFilterList") or []:
        key, values = f.get("key"), f.get("valueSet") or []
        if key not in _INFO_FILTER_KEYS:
            raise InvalidFilterKey(f"The filter key {key} is not valid.")
        if not values:
            raise InvalidInstanceInformationFilterValue(f"The filter value set for {key} must not be empty.")
        items = [i for i in items if _info_matches(i, key, values)]
    for f in self._get_param("Filters") or []:
        key, values = f.get("Key", ""), f.get("Values") or []
        if not (key in _INFO_FILTER_KEYS or key.startswith("tag:") or key == "tag-key"):
            raise InvalidFilterKey(f"The filter key {key} is not valid.")
        items = [i for i in items if _info_matches(i, key, values)]
    max_results = _max_results(self._get_param("MaxResults"), 5, 50, 50)
    page, token = _page(items, self._get_param("NextToken"), max_results)
    result: dict[str, Any] = {
        "InstanceInformationList": [{k: v for k, v in i.items() if not k.startswith("_")} for i in page]
    }
    if token:
        result["NextToken"] = token
    return ActionResult(result)


# --------------------------------------------------------------------------------------------------------------
# Patch states and patches
# --------------------------------------------------------------------------------------------------------------


def describe_instance_patch_states(self: SimpleSystemManagerResponse) -> ActionResult:
    ids = self._get_param("InstanceIds") or []
    if not ids:
        raise ValidationException(
            "1 validation error detected: Value null at 'instanceIds' failed to satisfy constraint"
        )
    if len(ids) > 50:
        raise ValidationException(
            "1 validation error detected: Value at 'instanceIds' failed to satisfy constraint: "
            "Member must have length less than or equal to 50"
        )
    data = _data(self.ssm_backend)
    states = [data.states[i] for i in ids if i in data.states]
    return _paged(self, "InstancePatchStates", states, 10, 100, 50)


_OPS = {
    "Equal": lambda a, b: a == b,
    "NotEqual": lambda a, b: a != b,
    "LessThan": lambda a, b: a < b,
    "GreaterThan": lambda a, b: a > b,
}


def describe_instance_patch_states_for_patch_group(self: SimpleSystemManagerResponse) -> ActionResult:
    group = self._get_param("PatchGroup")
    if not group:
        raise ValidationException(
            "1 validation error detected: Value null at 'patchGroup' failed to satisfy constraint"
        )
    states = [s for s in _data(self.ssm_backend).states.values() if s.get("PatchGroup") == group]
    for f in self._get_param("Filters") or []:
        key, values, op = f.get("Key"), f.get("Values") or [], f.get("Type")
        if key not in COUNT_KEYS or op not in _OPS or len(values) != 1:
            raise InvalidFilter(f"Filter {key} {op} {values} is not valid.")
        try:
            wanted = int(values[0])
        except ValueError:
            raise InvalidFilter(f"Filter value {values[0]} for {key} is not a number.") from None
        states = [s for s in states if _OPS[op](int(s.get(key, 0)), wanted)]
    return _paged(self, "InstancePatchStates", states, 10, 100, 50)


_PATCH_FILTERS = {"Classification": "Classification", "KBId": "KBId", "Severity": "Severity", "State": "State"}


def describe_instance_patches(self: SimpleSystemManagerResponse) -> ActionResult:
    instance_id = self._get_param("InstanceId")
    data = _data(self.ssm_backend)
    managed = {i["InstanceId"] for i in managed_instances(self.current_account, self.region)}
    if instance_id not in data.patches and instance_id not in managed:
        raise InvalidInstanceId("The following supplied instance ids are not valid: " + str(instance_id))
    patches = list(data.patches.get(instance_id, []))
    for f in self._get_param("Filters") or []:
        key, values = f.get("Key"), f.get("Values") or []
        if key not in _PATCH_FILTERS:
            raise InvalidFilter(f"The filter key {key} is not valid; valid keys: {', '.join(_PATCH_FILTERS)}")
        patches = [p for p in patches if str(p.get(_PATCH_FILTERS[key])) in values]
    return _paged(self, "Patches", patches, 10, 100, 50)


# --------------------------------------------------------------------------------------------------------------
# Compliance
# --------------------------------------------------------------------------------------------------------------


def store_compliance(
    backend: SimpleSystemManagerBackend,
    resource_id: str,
    resource_type: str,
    compliance_type: str,
    items: Iterable[dict[str, Any]],
    summary: dict[str, Any],
    upload_type: str = "COMPLETE",
) -> None:
    """PutComplianceItems semantics, shared by the API and :func:`simulate_patch_run`."""
    if resource_type != "ManagedInstance":
        raise InvalidResourceType(f"ResourceType {resource_type} is not supported; use ManagedInstance")
    if not COMPLIANCE_TYPE_PATTERN.match(compliance_type or ""):
        raise ValidationException(f"ComplianceType {compliance_type!r} does not match the required pattern")
    if upload_type not in ("COMPLETE", "PARTIAL"):
        raise ValidationException(f"UploadType {upload_type} is not COMPLETE or PARTIAL")
    items = list(items)
    if len(items) > 10000:
        raise ItemSizeLimitExceededException("Items can contain at most 10000 entries")
    for item in items:
        if item.get("Severity") not in SEVERITIES:
            raise InvalidItemContentException(
                f"Severity {item.get('Severity')!r} is not one of {', '.join(SEVERITIES)}"
            )
        if item.get("Status") not in ("COMPLIANT", "NON_COMPLIANT"):
            raise InvalidItemContentException(f"Status {item.get('Status')!r} is not COMPLIANT or NON_COMPLIANT")
    if "ExecutionTime" not in summary:
        raise ValidationException("ExecutionSummary.ExecutionTime is required")
    key = (resource_type, resource_id, compliance_type)
    data = _data(backend)
    entry = data.compliance.get(key)
    if entry is None or upload_type == "COMPLETE":
        entry = {"items": {}}
        data.compliance[key] = entry
    entry["summary"] = summary
    for n, item in enumerate(items):
        item_id = item.get("Id") or f"{compliance_type}-{n}"
        entry["items"][item_id] = {**item, "Id": item_id}


def put_compliance_items(self: SimpleSystemManagerResponse) -> ActionResult:
    summary = dict(self._get_param("ExecutionSummary") or {})
    if isinstance(summary.get("ExecutionTime"), int | float):
        summary["ExecutionTime"] = datetime.datetime.fromtimestamp(summary["ExecutionTime"], datetime.UTC)
    store_compliance(
        self.ssm_backend,
        self._get_param("ResourceId"),
        self._get_param("ResourceType"),
        self._get_param("ComplianceType"),
        self._get_param("Items") or [],
        summary,
        self._get_param("UploadType") or "COMPLETE",
    )
    return EmptyResult()


def compliance_items(backend: SimpleSystemManagerBackend) -> list[dict[str, Any]]:
    """Every ComplianceItem of one account+region, in the API's shape."""
    out = []
    for (resource_type, resource_id, compliance_type), entry in sorted(_data(backend).compliance.items()):
        for item in entry["items"].values():
            out.append(
                {
                    "ComplianceType": compliance_type,
                    "ResourceType": resource_type,
                    "ResourceId": resource_id,
                    "Id": item["Id"],
                    "Title": item.get("Title", ""),
                    "Status": item["Status"],
                    "Severity": item["Severity"],
                    "ExecutionSummary": entry["summary"],
                    "Details": item.get("Details", {}),
                }
            )
    return out


_COMPLIANCE_FILTER_KEYS = {
    "ComplianceType": "ComplianceType",
    "Status": "Status",
    "Severity": "Severity",
    "Id": "Id",
    "Title": "Title",
    "ResourceId": "ResourceId",
    "ResourceType": "ResourceType",
}


def _filter_compliance(rows: list[dict[str, Any]], filters: list[dict[str, Any]]) -> list[dict[str, Any]]:
    for f in filters:
        key, values, op = f.get("Key"), f.get("Values") or [], f.get("Type") or "EQUAL"
        if key not in _COMPLIANCE_FILTER_KEYS:
            raise InvalidFilter(f"The filter key {key} is not valid.")
        field_name = _COMPLIANCE_FILTER_KEYS[key]
        if op == "EQUAL":
            rows = [r for r in rows if str(r.get(field_name)) in values]
        elif op == "NOT_EQUAL":
            rows = [r for r in rows if str(r.get(field_name)) not in values]
        elif op == "BEGIN_WITH":
            rows = [r for r in rows if any(str(r.get(field_name, "")).startswith(v) for v in values)]
        else:
            raise InvalidFilter(f"Filter type {op} is not supported for {key}")
    return rows


def list_compliance_items(self: SimpleSystemManagerResponse) -> ActionResult:
    rows = compliance_items(self.ssm_backend)
    ids = self._get_param("ResourceIds") or []
    types = self._get_param("ResourceTypes") or []
    if ids:
        rows = [r for r in rows if r["ResourceId"] in ids]
    if types:
        rows = [r for r in rows if r["ResourceType"] in types]
    rows = _filter_compliance(rows, self._get_param("Filters") or [])
    return _paged(self, "ComplianceItems", rows, 1, 50, 10)


def _severity_summary(severities: Iterable[str]) -> dict[str, int]:
    counts = dict.fromkeys(("Critical", "High", "Medium", "Low", "Informational", "Unspecified"), 0)
    for severity in severities:
        counts[severity.capitalize()] += 1
    return {f"{k}Count": v for k, v in counts.items()}


def resource_summaries(backend: SimpleSystemManagerBackend) -> list[dict[str, Any]]:
    """ResourceComplianceSummaryItems: per resource and compliance type, item counts by severity."""
    out = []
    for (resource_type, resource_id, compliance_type), entry in sorted(_data(backend).compliance.items()):
        items = list(entry["items"].values())
        bad = [i["Severity"] for i in items if i["Status"] == "NON_COMPLIANT"]
        good = [i["Severity"] for i in items if i["Status"] == "COMPLIANT"]
        overall = next((s for s in SEVERITIES if s in bad), "UNSPECIFIED")
        out.append(
            {
                "ComplianceType": compliance_type,
                "ResourceType": resource_type,
                "ResourceId": resource_id,
                "Status": "NON_COMPLIANT" if bad else "COMPLIANT",
                "OverallSeverity": overall,
                "ExecutionSummary": entry["summary"],
                "CompliantSummary": {"CompliantCount": len(good), "SeveritySummary": _severity_summary(good)},
                "NonCompliantSummary": {"NonCompliantCount": len(bad), "SeveritySummary": _severity_summary(bad)},
            }
        )
    return out


def list_resource_compliance_summaries(self: SimpleSystemManagerResponse) -> ActionResult:
    rows = _filter_compliance(resource_summaries(self.ssm_backend), self._get_param("Filters") or [])
    return _paged(self, "ResourceComplianceSummaryItems", rows, 1, 50, 10)


def list_compliance_summaries(self: SimpleSystemManagerResponse) -> ActionResult:
    """Per compliance type, counts of RESOURCES; a non-compliant resource counts under its highest severity."""
    rows = _filter_compliance(resource_summaries(self.ssm_backend), self._get_param("Filters") or [])
    by_type: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        by_type.setdefault(row["ComplianceType"], []).append(row)
    summaries = []
    for compliance_type, resources in sorted(by_type.items()):
        good = [r for r in resources if r["Status"] == "COMPLIANT"]
        bad = [r for r in resources if r["Status"] == "NON_COMPLIANT"]
        summaries.append(
            {
                "ComplianceType": compliance_type,
                "CompliantSummary": {
                    "CompliantCount": len(good),
                    "SeveritySummary": _severity_summary(r["OverallSeverity"] for r in good),
                },
                "NonCompliantSummary": {
                    "NonCompliantCount": len(bad),
                    "SeveritySummary": _severity_summary(r["OverallSeverity"] for r in bad),
                },
            }
        )
    return _paged(self, "ComplianceSummaryItems", summaries, 1, 50, 10)


# --------------------------------------------------------------------------------------------------------------
# Simulating patch runs (what AWS-RunPatchBaseline would report)
# --------------------------------------------------------------------------------------------------------------


def default_catalog(instance_id: str, platform: str = "Linux") -> list[dict[str, Any]]:
    """A deterministic set of applicable patches for an instance (3 to 6, mixed severities)."""
    digest = hashlib.sha256(instance_id.encode()).digest()
    count = 3 + digest[0] % 4
    patches = []
    for n in range(count):
        severity = ("Critical", "Important", "Medium", "Low")[digest[n + 1] % 4]
        if platform == "Windows":
            kb = f"KB50{digest[n + 5] % 90 + 10:02d}{n}{digest[n + 9] % 10}"
            title = f"{datetime.date.today():%Y-%m} Cumulative Update ({kb})"
            classification = "SecurityUpdates" if severity in ("Critical", "Important") else "Updates"
        else:
            # Linux: KBId is package.arch, Title package.arch:epoch:version-release (as SSM reports them)
            package = ("kernel", "openssl", "glibc", "curl", "python3", "systemd", "sudo")[n % 7]
            kb = f"{package}.x86_64"
            title = f"{kb}:0:{digest[n + 5] % 9 + 1}.{n}.{digest[n + 9] % 50}-1.amzn2023"
            classification = "Security" if severity in ("Critical", "Important") else "Bugfix"
        patches.append({"KBId": kb, "Title": title, "Classification": classification, "Severity": severity})
    return patches


def seed_patches(account: str, region: str, instance_id: str, patches: list[dict[str, Any]]) -> None:
    """Set the patches applicable to an instance (each: KBId, Title, Classification, Severity; optional State)."""
    patch_data(account, region).catalog[instance_id] = [dict(p) for p in patches]


_COMPLIANCE_SEVERITY = {"Critical": "CRITICAL", "Important": "HIGH", "Medium": "MEDIUM", "Low": "LOW"}


def _override_allows(patch: dict[str, Any], override: list[str] | None) -> bool:
    if override is None:
        return True
    return any(fnmatch.fnmatchcase(patch["KBId"], o) or fnmatch.fnmatchcase(patch["Title"], o) for o in override)


def simulate_patch_run(
    account: str,
    region: str,
    instance_ids: Iterable[str] | None = None,
    operation: str = "Scan",
    *,
    reboot_option: str = "RebootIfNeeded",
    install_override_list: list[str] | None = None,
    fail: Iterable[str] = (),
    baseline_id: str | None = None,
    snapshot_id: str | None = None,
    when: datetime.datetime | None = None,
) -> dict[str, dict[str, Any]]:
    """Record what an ``AWS-RunPatchBaseline`` run reports, for managed instances (all, or ``instance_ids``).

    ``Scan`` marks not-yet-installed patches ``Missing``. ``Install`` installs the missing ones (only those matched by
    ``install_override_list`` ids/title globs when given), except KB ids in ``fail`` which become ``Failed``. With
    ``NoReboot`` installed patches are ``InstalledPendingReboot``. Patch states, per-patch data and ``Patch``
    compliance items are written exactly as SSM would, so the compliance APIs and the inventory sync see them.
    Returns the new InstancePatchState per instance.
    """
    if operation not in ("Scan", "Install"):
        raise ValueError(f"operation: {operation!r} is not Scan or Install")
    if reboot_option not in ("RebootIfNeeded", "NoReboot"):
        raise ValueError(f"reboot_option: {reboot_option!r} is not RebootIfNeeded or NoReboot")
    backend = ssm_backends[account][region]
    data = _data(backend)
    managed = {i["InstanceId"]: i for i in managed_instances(account, region)}
    wanted = list(instance_ids) if instance_ids is not None else sorted(managed)
    failed_ids = set(fail)
    start = when or _now()
    end = start + datetime.timedelta(minutes=7)
    snapshot = snapshot_id or str(uuid.uuid4())
    results = {}
    for instance_id in wanted:
        info = managed.get(instance_id)
        if info is None:
            raise ValueError(f"{instance_id} is not a managed instance in {account}/{region} (running + profile)")
        previous = {p["KBId"]: p for p in data.patches.get(instance_id, [])}
        catalog = data.catalog.get(instance_id) or default_catalog(instance_id, info["PlatformType"])
        patches = []
        for patch in catalog:
            state = previous.get(patch["KBId"], {}).get("State") or patch.get("State") or "Missing"
            installed_time = previous.get(patch["KBId"], {}).get("InstalledTime")
            if (
                operation == "Install"
                and state in ("Missing", "Failed")
                and _override_allows(patch, install_override_list)
            ):
                if patch["KBId"] in failed_ids:
                    state = "Failed"
                else:
                    state = "InstalledPendingReboot" if reboot_option == "NoReboot" else "Installed"
                    installed_time = end
            elif state == "InstalledPendingReboot" and operation == "Install" and reboot_option == "RebootIfNeeded":
                state = "Installed"
            entry = {
                "Title": patch["Title"],
                "KBId": patch["KBId"],
                "Classification": patch["Classification"],
                "Severity": patch["Severity"],
                "State": state,
                "InstalledTime": installed_time or datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC),
            }
            if patch.get("CVEIds"):
                entry["CVEIds"] = patch["CVEIds"]
            patches.append(entry)
        data.patches[instance_id] = patches
        counts = {name: sum(1 for p in patches if p["State"] == name) for name in COUNT_KEYS.values()}
        tags = info["_tags"]
        state_item: dict[str, Any] = {
            "InstanceId": instance_id,
            "PatchGroup": tags.get("Patch Group", ""),
            "BaselineId": baseline_id or "pb-0123456789abcdef0",
            "SnapshotId": snapshot,
            "OwnerInformation": "",
            **{key: counts[name] for key, name in COUNT_KEYS.items()},
            "AvailableSecurityUpdateCount": 0,
            "OperationStartTime": start,
            "OperationEndTime": end,
            "Operation": operation,
            "RebootOption": reboot_option,
            "CriticalNonCompliantCount": sum(
                1 for p in patches if p["State"] in ("Missing", "Failed") and p["Severity"] == "Critical"
            ),
            "SecurityNonCompliantCount": sum(
                1
                for p in patches
                if p["State"] in ("Missing", "Failed") and p["Classification"] in ("Security", "SecurityUpdates")
            ),
            "OtherNonCompliantCount": sum(
                1
                for p in patches
                if p["State"] in ("Missing", "Failed") and p["Classification"] not in ("Security", "SecurityUpdates")
            ),
        }
        if install_override_list is not None:
            state_item["InstallOverrideList"] = "s3://override/list.yaml"
        if reboot_option == "NoReboot" and operation == "Install":
            state_item["LastNoRebootInstallOperationTime"] = end
        data.states[instance_id] = state_item
        store_compliance(
            backend,
            instance_id,
            "ManagedInstance",
            "Patch",
            [
                {
                    "Id": p["KBId"],
                    "Title": p["Title"],
                    "Severity": _COMPLIANCE_SEVERITY.get(p["Severity"], "UNSPECIFIED"),
                    "Status": "NON_COMPLIANT" if p["State"] in ("Missing", "Failed") else "COMPLIANT",
                    "Details": {
                        "Classification": p["Classification"],
                        "PatchSeverity": p["Severity"],
                        "PatchState": p["State"],
                        "InstalledTime": "" if p["State"] in ("Missing", "Failed") else p["InstalledTime"].isoformat(),
                    },
                }
                for p in patches
            ],
            {"ExecutionTime": end, "ExecutionId": snapshot, "ExecutionType": "Command"},
        )
        results[instance_id] = state_item
    return results


def simulate_window_run(
    account: str,
    region: str,
    window: str,
    operation: str = "Install",
    *,
    tag_key: str = "maintenance_window",
    reboot_option: str = "RebootIfNeeded",
    install_override_list: list[str] | None = None,
    fail: Iterable[str] = (),
) -> dict[str, dict[str, Any]]:
    """What a maintenance window's standalone task reports: :func:`simulate_patch_run` on the managed instances
    tagged ``<tag_key>=<window>`` in the account+region (the demo calls this when a window "fires")."""
    targets = [i["InstanceId"] for i in managed_instances(account, region) if i["_tags"].get(tag_key) == window]
    return simulate_patch_run(
        account,
        region,
        targets,
        operation,
        reboot_option=reboot_option,
        install_override_list=install_override_list,
        fail=fail,
    )


def install() -> None:
    """Add the patching and compliance operations to moto's SSM responses (idempotent)."""
    for name, function in {
        "describe_instance_information": describe_instance_information,
        "describe_instance_patch_states": describe_instance_patch_states,
        "describe_instance_patch_states_for_patch_group": describe_instance_patch_states_for_patch_group,
        "describe_instance_patches": describe_instance_patches,
        "put_compliance_items": put_compliance_items,
        "list_compliance_items": list_compliance_items,
        "list_compliance_summaries": list_compliance_summaries,
        "list_resource_compliance_summaries": list_resource_compliance_summaries,
    }.items():
        setattr(SimpleSystemManagerResponse, name, function)
