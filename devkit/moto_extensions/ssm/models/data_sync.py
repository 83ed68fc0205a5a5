"""What a resource data sync writes, performed on demand (AWS does it in the background).

:func:`run_resource_data_sync` writes one object per managed node and type, one JSON object per
line, to the real layout::

    <prefix>/<TypeName>/accountid=<id>/region=<region>/resourcetype=ManagedInstanceInventory/<instance-id>.json

for ``AWS:ComplianceItem``, ``AWS:ComplianceSummary``, ``AWS:InstanceInformation`` and
``AWS:Tag``. Keys are the inventory schema's (the ones ``components/hub/compliance_tables.py``
declares as Glue columns) plus ``resourceId``/``captureTime``/``schemaVersion``; every value is
a JSON string, as the sync writes them. The destination bucket may belong to another account
(the hub), as with a real org-wide sync.
"""

from __future__ import annotations

import datetime
import json
from typing import Any

from moto.ec2.models import ec2_backends
from moto.s3.models import s3_backends

from devkit.moto_extensions.ssm.models.compliance import SEVERITIES, highest_severity
from devkit.moto_extensions.ssm.models.inventory import inventory_data
from devkit.moto_extensions.ssm.models.patching import patch_data

RESOURCE_TYPE_SEGMENT = "ManagedInstanceInventory"
SCHEMA_VERSION = "1.0"


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


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
    patch = patch_data(account, region)
    ec2 = ec2_backends[account][region]
    managed = {i["InstanceId"]: i for i in patch.managed_instances()}
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
            counts = {f"{kind}{s.capitalize()}Count": 0 for kind in ("Compliant", "NonCompliant") for s in SEVERITIES}
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
                    "OverallSeverity": highest_severity(bad),
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
