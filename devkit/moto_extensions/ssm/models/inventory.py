"""SSM resource data syncs and State Manager associations in one account+region.

moto 5.2 implements neither. The spokes create a resource data sync (inventory -> the hub's
bucket) and an inventory association, so the emulator needs, with the API reference's rules:

* ``CreateResourceDataSync`` / ``ListResourceDataSync`` / ``DeleteResourceDataSync``
  (``SyncToDestination`` needs an ``S3Destination`` with ``SyncFormat=JsonSerDe``; a duplicate
  name is ``ResourceDataSyncAlreadyExistsException``; an unknown one
  ``ResourceDataSyncNotFoundException``; at most 5 syncs per account+region,
  ``ResourceDataSyncCountExceededException``). What a sync writes is :mod:`.data_sync`'s.
* ``CreateAssociation`` / ``ListAssociations`` / ``DescribeAssociation`` / ``DeleteAssociation``
  (stored; the schedule is validated like AWS does: ``rate(...)``, ``cron(...)`` or ``at(...)``).
"""

from __future__ import annotations

import datetime
import re
import uuid
from typing import Any

from moto.ssm.models import ssm_backends
from moto.utilities.paginator import paginate

from devkit.moto_extensions.core import attached
from devkit.moto_extensions.ssm.exceptions import (
    AssociationAlreadyExists,
    AssociationDoesNotExist,
    InvalidDocument,
    InvalidSchedule,
    InvalidTarget,
    ResourceDataSyncAlreadyExistsException,
    ResourceDataSyncCountExceededException,
    ResourceDataSyncInvalidConfigurationException,
    ResourceDataSyncNotFoundException,
    ValidationException,
)
from devkit.moto_extensions.ssm.utils import PAGINATION_MODEL, check_max_results

MAX_SYNCS = 5
_SCHEDULE = re.compile(r"^(rate\(\d+ (minute|minutes|hour|hours|day|days)\)|cron\(.+\)|at\(.+\))$")
_ASSOCIATION_FILTERS = {"InstanceId", "Name", "AssociationId", "AssociationName", "AssociationStatusName"}
#: What ListAssociations returns of each association.
_ASSOCIATION_SUMMARY = (
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


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


class InventoryBackend:
    """Resource data syncs and associations of one account+region."""

    def __init__(self, account_id: str, region_name: str) -> None:
        self.account_id = account_id
        self.region_name = region_name
        self.syncs: dict[str, dict[str, Any]] = {}
        self.associations: dict[str, dict[str, Any]] = {}

    # ------------------------------------------------------------------------------------------ resource data sync

    def create_resource_data_sync(
        self,
        name: str | None,
        sync_type: str | None,
        destination: dict[str, Any] | None,
        source: dict[str, Any] | None,
    ) -> None:
        sync_type = sync_type or "SyncToDestination"
        if not name or not re.match(r"^[a-zA-Z0-9_\-.]{1,64}$", name):
            raise ValidationException(f"SyncName {name!r} must match [a-zA-Z0-9_\\-.]{{1,64}}")
        if name in self.syncs:
            raise ResourceDataSyncAlreadyExistsException(f"Sync {name} already exists.")
        if len(self.syncs) >= MAX_SYNCS:
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
        elif not source:
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
        if source:
            item["SyncSource"] = source
        self.syncs[name] = item

    @paginate(pagination_model=PAGINATION_MODEL)
    def list_resource_data_sync(self, sync_type: str | None, max_results: int | None = None) -> list[dict[str, Any]]:
        check_max_results(max_results, 1, 50)
        return [s for s in self.syncs.values() if not sync_type or s["SyncType"] == sync_type]

    def delete_resource_data_sync(self, name: str, sync_type: str | None) -> None:
        sync = self.syncs.get(name)
        if sync is None or (sync_type and sync["SyncType"] != sync_type):
            raise ResourceDataSyncNotFoundException(f"Sync {name} does not exist.")
        del self.syncs[name]

    # ------------------------------------------------------------------------------------------ associations

    def create_association(
        self,
        name: str | None,
        targets: list[dict[str, Any]],
        instance_id: str | None,
        schedule_expression: str | None,
        association_name: str | None,
        document_version: str | None,
        parameters: dict[str, Any],
        apply_only_at_cron_interval: bool,
        settings: dict[str, Any],
    ) -> dict[str, Any]:
        """``settings``: the other members of the request that are stored as given (OutputLocation, MaxErrors...)."""
        if not name:
            raise ValidationException("Name is required")
        if not name.startswith("AWS-") and name not in ssm_backends[self.account_id][self.region_name]._documents:
            raise InvalidDocument(f"Document {name} does not exist.")
        if targets and instance_id:
            raise ValidationException("InstanceId and Targets cannot be used together.")
        _check_targets(targets)
        if schedule_expression and not _SCHEDULE.match(schedule_expression):
            raise InvalidSchedule(f"Schedule expression {schedule_expression!r} is not valid.")
        for existing in self.associations.values():
            if (
                existing["Name"] == name
                and existing.get("Targets", []) == targets
                and existing.get("InstanceId") == instance_id
                and existing.get("AssociationName") == association_name
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
            "DocumentVersion": document_version or "$DEFAULT",
            "Overview": {"Status": "Pending", "DetailedStatus": "Creating"},
            "Targets": targets,
            "Parameters": parameters,
            "ApplyOnlyAtCronInterval": apply_only_at_cron_interval,
        }
        given = {
            "InstanceId": instance_id,
            "ScheduleExpression": schedule_expression,
            "AssociationName": association_name,
            **settings,
        }
        description.update({key: value for key, value in given.items() if value is not None})
        self.associations[association_id] = description
        return description

    def describe_association(
        self, association_id: str | None, name: str | None, instance_id: str | None
    ) -> dict[str, Any]:
        """By id, else by document name and instance id."""
        if association_id:
            found = self.associations.get(association_id)
        else:
            found = next(
                (a for a in self.associations.values() if a["Name"] == name and a.get("InstanceId") == instance_id),
                None,
            )
        if found is None:
            raise AssociationDoesNotExist("The specified association does not exist.")
        return found

    def delete_association(self, association_id: str | None, name: str | None, instance_id: str | None) -> None:
        found = self.describe_association(association_id, name, instance_id)
        del self.associations[found["AssociationId"]]

    @paginate(pagination_model=PAGINATION_MODEL)
    def list_associations(self, filters: list[dict[str, Any]], max_results: int | None = None) -> list[dict[str, Any]]:
        rows = list(self.associations.values())
        for f in filters:
            key, value = f.get("key"), f.get("value")
            if key not in _ASSOCIATION_FILTERS:
                raise ValidationException(f"Association filter key {key!r} is not supported")
            if key == "AssociationStatusName":
                rows = [r for r in rows if r["Overview"]["Status"] == value]
            else:
                rows = [r for r in rows if r.get(key) == value]
        check_max_results(max_results, 1, 50)
        return [{k: r[k] for k in _ASSOCIATION_SUMMARY if k in r} for r in rows]


def inventory_data(account: str, region: str) -> InventoryBackend:
    """Syncs and associations of one account+region (kept on moto's SSM backend, so moto's reset clears them)."""
    return attached(ssm_backends[account][region], "inventory", lambda: InventoryBackend(account, region))


def _check_targets(targets: list[dict[str, Any]]) -> None:
    if len(targets) > 5:
        raise InvalidTarget("At most 5 targets can be specified.")
    for target in targets:
        key = target.get("Key", "")
        if not (key == "InstanceIds" or key.startswith("tag:") or key in ("tag-key", "resource-groups:Name")):
            raise InvalidTarget(f"Target key {key!r} is not valid.")
        if not target.get("Values"):
            raise InvalidTarget(f"Target {key!r} needs at least one value.")
