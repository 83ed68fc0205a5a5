"""SSM resource data sync and State Manager associations for moto.

moto 5.2 implements neither. The spokes create a resource data sync (inventory -> the hub's bucket) and an
inventory association, and the compliance lake reads what the sync writes, so the emulator needs:

* ``CreateResourceDataSync`` / ``ListResourceDataSync`` / ``DeleteResourceDataSync`` with the API reference's
  validation (``SyncToDestination`` needs an ``S3Destination`` with ``SyncFormat=JsonSerDe``; a duplicate name is
  ``ResourceDataSyncAlreadyExistsException``; an unknown one ``ResourceDataSyncNotFoundException``; at most 5 syncs
  per account+region, ``ResourceDataSyncCountExceededException``).
* :func:`run_resource_data_sync`: what AWS does in the background. It writes one object per managed node and type,
  one JSON object per line, to the real layout::

      <prefix>/<TypeName>/accountid=<id>/region=<region>/resourcetype=ManagedInstanceInventory/<instance-id>.json

  for ``AWS:ComplianceItem``, ``AWS:ComplianceSummary``, ``AWS:InstanceInformation`` and ``AWS:Tag``. Keys are the
  inventory schema's (the ones ``components/hub/compliance_tables.py`` declares as Glue columns) plus
  ``resourceId``/``captureTime``/``schemaVersion``; every value is a JSON string, as the sync writes them. The
  destination bucket may belong to another account (the hub), as with a real org-wide sync.
* ``CreateAssociation`` / ``ListAssociations`` / ``DescribeAssociation`` / ``DeleteAssociation`` (stored; the
  inventory association's schedule is validated like AWS does: ``rate(...)`` or ``cron(...)``).

State lives on moto's SSM backend of the account+region, so moto's reset clears it.
"""

from __future__ import annotations

import datetime
import json
import re
import uuid
from dataclasses import dataclass, field
from typing import Any

from moto.core.responses import ActionResult, EmptyResult
from moto.ec2.models import ec2_backends
from moto.s3.models import s3_backends
from moto.ssm.exceptions import InvalidDocument, SSMException, ValidationException
from moto.ssm.models import SimpleSystemManagerBackend, ssm_backends
from moto.ssm.responses import SimpleSystemManagerResponse

from devkit.moto_extensions import ssm_patching

MAX_SYNCS = 5
RESOURCE_TYPE_SEGMENT = "ManagedInstanceInventory"
SCHEMA_VERSION = "1.0"
_SCHEDULE = re.compile(r"^(rate\(\d+ (minute|minutes|hour|hours|day|days)\)|cron\(.+\)|at\(.+\))$")


class ResourceDataSyncAlreadyExistsException(SSMException):
    code = "ResourceDataSyncAlreadyExistsException"


class ResourceDataSyncNotFoundException(SSMException):
    code = "ResourceDataSyncNotFoundException"


class ResourceDataSyncCountExceededException(SSMException):
    code = "ResourceDataSyncCountExceededException"


class ResourceDataSyncInvalidConfigurationException(SSMException):
    code = "ResourceDataSyncInvalidConfigurationException"


class AssociationDoesNotExist(SSMException):
    code = "AssociationDoesNotExist"


class AssociationAlreadyExists(SSMException):
    code = "AssociationAlreadyExists"


class InvalidSchedule(SSMException):
    code = "InvalidSchedule"


class InvalidTarget(SSMException):
    code = "InvalidTarget"


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


@dataclass
class InventoryData:
    syncs: dict[str, dict[str, Any]] = field(default_factory=dict)
    associations: dict[str, dict[str, Any]] = field(default_factory=dict)


def _data(backend: SimpleSystemManagerBackend) -> InventoryData:
    return backend.__dict__.setdefault("_org_patching_inventory", InventoryData())  # type: ignore[no-any-return]


def inventory_data(account: str, region: str) -> InventoryData:
    """Syncs and associations of one account+region (for tests and the demo)."""
    return _data(ssm_backends[account][region])


# --------------------------------------------------------------------------------------------------------------
# Resource data sync
# --------------------------------------------------------------------------------------------------------------


def create_resource_data_sync(self: SimpleSystemManagerResponse) -> ActionResult:
    name = self._get_param("SyncName")
    sync_type = self._get_param("SyncType") or "SyncToDestination"
    destination = self._get_param("S3Destination")
    data = _data(self.ssm_backend)
    if not name or not re.match(r"^[a-zA-Z0-9_\-.]{1,64}$", name):
        raise ValidationException(f"SyncName {name!r} must match [a-zA-Z0-9_\\-.]{{1,64}}")
    if name in data.syncs:
        raise ResourceDataSyncAlreadyExistsException(f"Sync {name} already exists.")
    if len(data.syncs) >= MAX_SYNCS:
        raise ResourceDataSyncCountExceededException(f"You can't create more than {MAX_SYNCS} resource data syncs.")
    if sync_type not in ("SyncToDestination", "SyncFromSource"):
        raise ResourceDataSyncInvalidConfigurationException(f"SyncType {sync_type} is not valid.")
    if sync_type == "SyncToDestination":
        if not destination or not destination.get("BucketName") or not destination.get("Region"):
            raise ResourceDataSyncInvalidConfigurationException(
                "S3Destination with BucketName, SyncFormat and Region is required for SyncToDestination."
            )
        if destination.get("SyncFormat") != "JsonSerDe":
            raise ResourceDataSyncInvalidConfigurationException(
                f"SyncFormat {destination.get('SyncFormat')!r} is not valid; the only value is JsonSerDe."
            )
    elif not self._get_param("SyncSource"):
        raise ResourceDataSyncInvalidConfigurationException("SyncSource is required for SyncFromSource.")
    now = _now()
    item: dict[str, Any] = {
        "SyncName": name,
        "SyncType": sync_type,
        "SyncCreatedTime": now,
        "SyncLastModifiedTime": now,
        "LastStatus": "InProgress",
    }
    if destination:
        item["S3Destination"] = dict(destination)
    if self._get_param("SyncSource"):
        item["SyncSource"] = self._get_param("SyncSource")
    data.syncs[name] = item
    return EmptyResult()


def list_resource_data_sync(self: SimpleSystemManagerResponse) -> ActionResult:
    sync_type = self._get_param("SyncType")
    items = [s for s in _data(self.ssm_backend).syncs.values() if not sync_type or s["SyncType"] == sync_type]
    max_results = int(self._get_param("MaxResults") or 50)
    if not 1 <= max_results <= 50:
        raise ValidationException(f"MaxResults {max_results} must be between 1 and 50")
    token = self._get_param("NextToken")
    start = int(token) if token else 0
    result: dict[str, Any] = {"ResourceDataSyncItems": items[start : start + max_results]}
    if start + max_results < len(items):
        result["NextToken"] = str(start + max_results)
    return ActionResult(result)


def delete_resource_data_sync(self: SimpleSystemManagerResponse) -> ActionResult:
    name = self._get_param("SyncName")
    data = _data(self.ssm_backend)
    sync = data.syncs.get(name)
    sync_type = self._get_param("SyncType")
    if sync is None or (sync_type and sync["SyncType"] != sync_type):
        raise ResourceDataSyncNotFoundException(f"Sync {name} does not exist.")
    del data.syncs[name]
    return EmptyResult()


def _string(value: Any) -> str:
    if isinstance(value, datetime.datetime):
        return value.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return "" if value is None else str(value)


def _line(fields: dict[str, Any], resource_id: str, capture: str) -> str:
    payload = {k: _string(v) for k, v in fields.items()}
    payload.update({"resourceId": resource_id, "captureTime": capture, "schemaVersion": SCHEMA_VERSION})
    return json.dumps(payload, separators=(",", ":"))


_STATUS = {"running": "Active", "pending": "Active", "stopped": "Stopped", "stopping": "Stopping"}
_STATUS.update({"terminated": "Terminated", "shutting-down": "ShuttingDown"})


def inventory_lines(
    account: str, region: str, when: datetime.datetime | None = None
) -> dict[str, dict[str, list[str]]]:
    """``{type name: {instance id: [json line, ...]}}`` for every node SSM knows in the account+region."""
    capture = _string(when or _now())
    patch = ssm_patching.patch_data(account, region)
    ec2 = ec2_backends[account][region]
    managed = {i["InstanceId"]: i for i in ssm_patching.managed_instances(account, region)}
    reported = {resource_id for (_, resource_id, _) in patch.compliance}
    out: dict[str, dict[str, list[str]]] = {
        "AWS:InstanceInformation": {},
        "AWS:Tag": {},
        "AWS:ComplianceItem": {},
        "AWS:ComplianceSummary": {},
    }
    for instance_id in sorted(set(managed) | reported):
        info = managed.get(instance_id)
        try:
            instance = ec2.get_instance(instance_id)
        except Exception:
            instance = None
        status = _STATUS.get(instance.state, "Active") if instance is not None else "Terminated"
        tags = {t["key"]: t["value"] for t in instance.get_tags()} if instance is not None else {}
        if info is not None:
            out["AWS:InstanceInformation"][instance_id] = [
                _line(
                    {
                        "AgentType": "amazon-ssm-agent",
                        "AgentVersion": info["AgentVersion"],
                        "ComputerName": info["ComputerName"],
                        "IamRole": info["IamRole"],
                        "InstanceId": instance_id,
                        "InstanceStatus": status,
                        "IpAddress": info["IPAddress"],
                        "PlatformName": info["PlatformName"],
                        "PlatformType": info["PlatformType"],
                        "PlatformVersion": info["PlatformVersion"],
                        "ResourceType": info["ResourceType"],
                    },
                    instance_id,
                    capture,
                )
            ]
        if tags:
            out["AWS:Tag"][instance_id] = [
                _line({"Key": k, "Value": v}, instance_id, capture) for k, v in sorted(tags.items())
            ]
        state = patch.states.get(instance_id, {})
        items: list[str] = []
        summaries: list[str] = []
        for (_, resource_id, compliance_type), entry in sorted(patch.compliance.items()):
            if resource_id != instance_id:
                continue
            summary = entry["summary"]
            head = {
                "ComplianceType": compliance_type,
                "ExecutionId": summary.get("ExecutionId", ""),
                "ExecutionType": summary.get("ExecutionType", ""),
                "ExecutionTime": summary.get("ExecutionTime"),
            }
            counts = {
                f"{kind}{s.capitalize()}Count": 0
                for kind in ("Compliant", "NonCompliant")
                for s in ssm_patching.SEVERITIES
            }
            for item in entry["items"].values():
                details = item.get("Details", {})
                fields = {**head, "Id": item["Id"], "Title": item.get("Title", ""), "Status": item["Status"]}
                fields["Severity"] = item["Severity"]
                if compliance_type == "Patch":
                    fields.update(
                        {
                            "DocumentName": "AWS-RunPatchBaseline",
                            "DocumentVersion": "1",
                            "Classification": details.get("Classification", ""),
                            "PatchBaselineId": state.get("BaselineId", ""),
                            "PatchSeverity": details.get("PatchSeverity", ""),
                            "PatchState": details.get("PatchState", ""),
                            "PatchGroup": state.get("PatchGroup", ""),
                            "InstalledTime": details.get("InstalledTime", ""),
                        }
                    )
                items.append(_line(fields, instance_id, capture))
                kind = "Compliant" if item["Status"] == "COMPLIANT" else "NonCompliant"
                counts[f"{kind}{item['Severity'].capitalize()}Count"] += 1
            bad = [i["Severity"] for i in entry["items"].values() if i["Status"] == "NON_COMPLIANT"]
            summary_fields: dict[str, Any] = {"ComplianceType": compliance_type}
            if compliance_type == "Patch":
                summary_fields.update(
                    {"PatchGroup": state.get("PatchGroup", ""), "PatchBaselineId": state.get("BaselineId", "")}
                )
            summary_fields.update(
                {
                    "Status": "NON_COMPLIANT" if bad else "COMPLIANT",
                    "OverallSeverity": next((s for s in ssm_patching.SEVERITIES if s in bad), "UNSPECIFIED"),
                    "ExecutionId": head["ExecutionId"],
                    "ExecutionType": head["ExecutionType"],
                    "ExecutionTime": head["ExecutionTime"],
                    **counts,
                }
            )
            summaries.append(_line(summary_fields, instance_id, capture))
        if items:
            out["AWS:ComplianceItem"][instance_id] = items
        if summaries:
            out["AWS:ComplianceSummary"][instance_id] = summaries
    return out


def _bucket_backend(bucket: str) -> Any:
    """The S3 backend of the account that owns ``bucket`` (the hub's, for an org-wide sync)."""
    owner = s3_backends.bucket_accounts.get(bucket)
    if owner is None:
        raise ValueError(f"resource data sync destination bucket {bucket!r} does not exist")
    partition, account = owner
    return s3_backends[account][partition]


def run_resource_data_sync(
    account: str, region: str, sync_name: str | None = None, when: datetime.datetime | None = None
) -> list[str]:
    """Perform the sync(s) of one account+region now: write every node's objects; returns the keys written.

    Each object is rewritten in full (a node's file always holds its current data, as AWS does). The sync's
    ``LastStatus``/``LastSyncTime``/``LastSuccessfulSyncTime`` are updated; a missing bucket marks it ``Failed``
    with the reason and raises.
    """
    data = inventory_data(account, region)
    names = [sync_name] if sync_name else [n for n, s in data.syncs.items() if s["SyncType"] == "SyncToDestination"]
    keys: list[str] = []
    lines = inventory_lines(account, region, when)
    for name in names:
        sync = data.syncs.get(name)
        if sync is None:
            raise ValueError(f"no resource data sync {name!r} in {account}/{region}")
        destination = sync["S3Destination"]
        now = _now()
        sync["LastSyncTime"] = now
        try:
            backend = _bucket_backend(destination["BucketName"])
        except ValueError as error:
            sync["LastStatus"] = "Failed"
            sync["LastSyncStatusMessage"] = str(error)
            raise
        prefix = destination.get("Prefix", "").strip("/")
        for type_name, per_instance in lines.items():
            for instance_id, rows in per_instance.items():
                parts = [
                    p
                    for p in (
                        prefix,
                        type_name,
                        f"accountid={account}",
                        f"region={region}",
                        f"resourcetype={RESOURCE_TYPE_SEGMENT}",
                        f"{instance_id}.json",
                    )
                    if p
                ]
                key = "/".join(parts)
                backend.put_object(destination["BucketName"], key, ("\n".join(rows) + "\n").encode())
                keys.append(key)
        sync["LastStatus"] = "Successful"
        sync["LastSuccessfulSyncTime"] = now
        sync["LastSyncStatusMessage"] = ""
    return keys


# --------------------------------------------------------------------------------------------------------------
# Associations
# --------------------------------------------------------------------------------------------------------------


def _check_targets(targets: list[dict[str, Any]]) -> None:
    if len(targets) > 5:
        raise InvalidTarget("At most 5 targets can be specified.")
    for target in targets:
        key = target.get("Key", "")
        if not (key == "InstanceIds" or key.startswith("tag:") or key in ("tag-key", "resource-groups:Name")):
            raise InvalidTarget(f"Target key {key!r} is not valid.")
        if not target.get("Values"):
            raise InvalidTarget(f"Target {key!r} needs at least one value.")


def create_association(self: SimpleSystemManagerResponse) -> ActionResult:
    name = self._get_param("Name")
    targets = self._get_param("Targets") or []
    instance_id = self._get_param("InstanceId")
    schedule = self._get_param("ScheduleExpression")
    if not name:
        raise ValidationException("Name is required")
    if not name.startswith("AWS-") and name not in self.ssm_backend._documents:
        raise InvalidDocument(f"Document {name} does not exist.")
    if targets and instance_id:
        raise ValidationException("InstanceId and Targets cannot be used together.")
    _check_targets(targets)
    if schedule and not _SCHEDULE.match(schedule):
        raise InvalidSchedule(f"Schedule expression {schedule!r} is not valid.")
    data = _data(self.ssm_backend)
    for existing in data.associations.values():
        if (
            existing["Name"] == name
            and existing.get("Targets", []) == targets
            and existing.get("InstanceId") == instance_id
            and existing.get("AssociationName") == self._get_param("AssociationName")
        ):
            raise AssociationAlreadyExists("The specified association already exists.")
    association_id = str(uuid.uuid4())
    now = _now()
    description: dict[str, Any] = {
        "Name": name,
        "AssociationId": association_id,
        "AssociationVersion": "1",
        "Date": now,
        "LastUpdateAssociationDate": now,
        "DocumentVersion": self._get_param("DocumentVersion") or "$DEFAULT",
        "Overview": {"Status": "Pending", "DetailedStatus": "Creating"},
        "Targets": targets,
        "Parameters": self._get_param("Parameters") or {},
        "ApplyOnlyAtCronInterval": bool(self._get_param("ApplyOnlyAtCronInterval")),
    }
    for key in (
        "InstanceId",
        "ScheduleExpression",
        "AssociationName",
        "OutputLocation",
        "MaxErrors",
        "MaxConcurrency",
        "ComplianceSeverity",
        "SyncCompliance",
        "TargetLocations",
        "AutomationTargetParameterName",
    ):
        value = self._get_param(key)
        if value is not None:
            description[key] = value
    data.associations[association_id] = description
    return ActionResult({"AssociationDescription": description})


def _find_association(self: SimpleSystemManagerResponse) -> dict[str, Any]:
    data = _data(self.ssm_backend)
    association_id = self._get_param("AssociationId")
    if association_id:
        found = data.associations.get(association_id)
    else:
        name, instance_id = self._get_param("Name"), self._get_param("InstanceId")
        found = next(
            (a for a in data.associations.values() if a["Name"] == name and a.get("InstanceId") == instance_id), None
        )
    if found is None:
        raise AssociationDoesNotExist("The specified association does not exist.")
    return found


def describe_association(self: SimpleSystemManagerResponse) -> ActionResult:
    return ActionResult({"AssociationDescription": _find_association(self)})


def delete_association(self: SimpleSystemManagerResponse) -> ActionResult:
    found = _find_association(self)
    del _data(self.ssm_backend).associations[found["AssociationId"]]
    return EmptyResult()


_ASSOCIATION_FILTERS = {"InstanceId", "Name", "AssociationId", "AssociationName", "AssociationStatusName"}


def list_associations(self: SimpleSystemManagerResponse) -> ActionResult:
    rows = list(_data(self.ssm_backend).associations.values())
    for f in self._get_param("AssociationFilterList") or []:
        key, value = f.get("key"), f.get("value")
        if key not in _ASSOCIATION_FILTERS:
            raise ValidationException(f"Association filter key {key!r} is not supported")
        if key == "AssociationStatusName":
            rows = [r for r in rows if r["Overview"]["Status"] == value]
        else:
            rows = [r for r in rows if r.get(key) == value]
    max_results = int(self._get_param("MaxResults") or 50)
    if not 1 <= max_results <= 50:
        raise ValidationException(f"MaxResults {max_results} must be between 1 and 50")
    token = self._get_param("NextToken")
    start = int(token) if token else 0
    keep = (
        "Name",
        "InstanceId",
        "AssociationId",
        "AssociationVersion",
        "DocumentVersion",
        "Targets",
        "Overview",
        "ScheduleExpression",
        "AssociationName",
    )
    page = [{k: r[k] for k in keep if k in r} for r in rows[start : start + max_results]]
    result: dict[str, Any] = {"Associations": page}
    if start + max_results < len(rows):
        result["NextToken"] = str(start + max_results)
    return ActionResult(result)


def install() -> None:
    """Add resource data sync and association operations to moto's SSM responses (idempotent)."""
    for name, function in {
        "create_resource_data_sync": create_resource_data_sync,
        "list_resource_data_sync": list_resource_data_sync,
        "delete_resource_data_sync": delete_resource_data_sync,
        "create_association": create_association,
        "describe_association": describe_association,
        "delete_association": delete_association,
        "list_associations": list_associations,
    }.items():
        setattr(SimpleSystemManagerResponse, name, function)
