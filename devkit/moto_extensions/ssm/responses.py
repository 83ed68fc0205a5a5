"""The SSM operations the extension adds, as moto's response layer has them: read the request's
parameters, call the model of the caller's account+region, shape the answer. Nothing else.

:class:`SsmExtensionResponse` is never routed to itself: :func:`devkit.moto_extensions.ssm.install`
copies its methods onto moto's ``SimpleSystemManagerResponse``, which moto dispatches SSM to.
"""

from __future__ import annotations

import datetime
from typing import Any

from moto.core.responses import ActionResult, EmptyResult
from moto.ssm.responses import SimpleSystemManagerResponse

from devkit.moto_extensions.ssm.change_calendar import calendar_state
from devkit.moto_extensions.ssm.models.automation import AutomationBackend, automation_backend
from devkit.moto_extensions.ssm.models.inventory import InventoryBackend, inventory_data
from devkit.moto_extensions.ssm.models.patching import PatchingBackend, patch_data

#: CreateAssociation members that are stored as given.
_ASSOCIATION_SETTINGS = (
    "OutputLocation",
    "MaxErrors",
    "MaxConcurrency",
    "ComplianceSeverity",
    "SyncCompliance",
    "TargetLocations",
    "AutomationTargetParameterName",
)


def _paging(response: SimpleSystemManagerResponse) -> dict[str, Any]:
    """``MaxResults``/``NextToken`` as moto's paginator takes them."""
    return {"max_results": response._get_int_param("MaxResults"), "next_token": response._get_param("NextToken")}


def _page(key: str, items: list[Any], token: str | None) -> ActionResult:
    result: dict[str, Any] = {key: items}
    if token:
        result["NextToken"] = token
    return ActionResult(result)


class SsmExtensionResponse(SimpleSystemManagerResponse):
    """Request parsing for the added operations (see the models for what each does)."""

    @property
    def patching(self) -> PatchingBackend:
        return patch_data(self.current_account, self.region)

    @property
    def inventory(self) -> InventoryBackend:
        return inventory_data(self.current_account, self.region)

    @property
    def automation(self) -> AutomationBackend:
        return automation_backend(self.current_account, self.region)

    # ------------------------------------------------------------------------------ managed instances and patches

    def describe_instance_information(self) -> ActionResult:
        items, token = self.patching.describe_instance_information(
            information_filters=self._get_param("InstanceInformationFilterList") or [],
            filters=self._get_param("Filters") or [],
            **_paging(self),
        )
        return _page(
            "InstanceInformationList", [{k: v for k, v in i.items() if not k.startswith("_")} for i in items], token
        )

    def describe_instance_patch_states(self) -> ActionResult:
        states, token = self.patching.describe_instance_patch_states(
            instance_ids=self._get_param("InstanceIds") or [],
            **_paging(self),
        )
        return _page("InstancePatchStates", states, token)

    def describe_instance_patch_states_for_patch_group(self) -> ActionResult:
        states, token = self.patching.describe_instance_patch_states_for_patch_group(
            patch_group=self._get_param("PatchGroup"),
            filters=self._get_param("Filters") or [],
            **_paging(self),
        )
        return _page("InstancePatchStates", states, token)

    def describe_instance_patches(self) -> ActionResult:
        patches, token = self.patching.describe_instance_patches(
            instance_id=self._get_param("InstanceId"),
            filters=self._get_param("Filters") or [],
            **_paging(self),
        )
        return _page("Patches", patches, token)

    # ------------------------------------------------------------------------------ compliance

    def put_compliance_items(self) -> ActionResult:
        summary = dict(self._get_param("ExecutionSummary") or {})
        if isinstance(summary.get("ExecutionTime"), int | float):
            summary["ExecutionTime"] = datetime.datetime.fromtimestamp(summary["ExecutionTime"], datetime.UTC)
        self.patching.put_compliance_items(
            self._get_param("ResourceId"),
            self._get_param("ResourceType"),
            self._get_param("ComplianceType"),
            self._get_param("Items") or [],
            summary,
            self._get_param("UploadType") or "COMPLETE",
        )
        return EmptyResult()

    def list_compliance_items(self) -> ActionResult:
        items, token = self.patching.list_compliance_items(
            resource_ids=self._get_param("ResourceIds") or [],
            resource_types=self._get_param("ResourceTypes") or [],
            filters=self._get_param("Filters") or [],
            **_paging(self),
        )
        return _page("ComplianceItems", items, token)

    def list_resource_compliance_summaries(self) -> ActionResult:
        items, token = self.patching.list_resource_compliance_summaries(
            filters=self._get_param("Filters") or [],
            **_paging(self),
        )
        return _page("ResourceComplianceSummaryItems", items, token)

    def list_compliance_summaries(self) -> ActionResult:
        items, token = self.patching.list_compliance_summaries(
            filters=self._get_param("Filters") or [],
            **_paging(self),
        )
        return _page("ComplianceSummaryItems", items, token)

    # ------------------------------------------------------------------------------ resource data sync

    def create_resource_data_sync(self) -> ActionResult:
        self.inventory.create_resource_data_sync(
            self._get_param("SyncName"),
            self._get_param("SyncType"),
            self._get_param("S3Destination"),
            self._get_param("SyncSource"),
        )
        return EmptyResult()

    def list_resource_data_sync(self) -> ActionResult:
        items, token = self.inventory.list_resource_data_sync(
            sync_type=self._get_param("SyncType"),
            **_paging(self),
        )
        return _page("ResourceDataSyncItems", items, token)

    def delete_resource_data_sync(self) -> ActionResult:
        self.inventory.delete_resource_data_sync(self._get_param("SyncName"), self._get_param("SyncType"))
        return EmptyResult()

    # ------------------------------------------------------------------------------ associations

    def create_association(self) -> ActionResult:
        description = self.inventory.create_association(
            name=self._get_param("Name"),
            targets=self._get_param("Targets") or [],
            instance_id=self._get_param("InstanceId"),
            schedule_expression=self._get_param("ScheduleExpression"),
            association_name=self._get_param("AssociationName"),
            document_version=self._get_param("DocumentVersion"),
            parameters=self._get_param("Parameters") or {},
            apply_only_at_cron_interval=bool(self._get_param("ApplyOnlyAtCronInterval")),
            settings={key: self._get_param(key) for key in _ASSOCIATION_SETTINGS},
        )
        return ActionResult({"AssociationDescription": description})

    def describe_association(self) -> ActionResult:
        found = self.inventory.describe_association(
            self._get_param("AssociationId"), self._get_param("Name"), self._get_param("InstanceId")
        )
        return ActionResult({"AssociationDescription": found})

    def delete_association(self) -> ActionResult:
        self.inventory.delete_association(
            self._get_param("AssociationId"), self._get_param("Name"), self._get_param("InstanceId")
        )
        return EmptyResult()

    def list_associations(self) -> ActionResult:
        rows, token = self.inventory.list_associations(
            filters=self._get_param("AssociationFilterList") or [],
            **_paging(self),
        )
        return _page("Associations", rows, token)

    # ------------------------------------------------------------------------------ automation

    def start_automation_execution(self) -> ActionResult:
        execution_id = self.automation.start_automation_execution(
            document_name=self._get_param("DocumentName"),
            document_version=self._get_param("DocumentVersion"),
            parameters=self._get_param("Parameters") or {},
            target_locations=self._get_param("TargetLocations"),
            mode=self._get_param("Mode"),
            tags=self._get_param("Tags") or [],
        )
        return ActionResult({"AutomationExecutionId": execution_id})

    def get_automation_execution(self) -> ActionResult:
        execution = self.automation.get_automation_execution(self._get_param("AutomationExecutionId"))
        return ActionResult({"AutomationExecution": execution})

    def describe_automation_executions(self) -> ActionResult:
        executions, token = self.automation.describe_automation_executions(
            filters=self._get_param("Filters") or [],
            **_paging(self),
        )
        return _page("AutomationExecutionMetadataList", executions, token)

    def describe_automation_step_executions(self) -> ActionResult:
        steps, token = self.automation.describe_automation_step_executions(
            execution_id=self._get_param("AutomationExecutionId"),
            filters=self._get_param("Filters") or [],
            reverse_order=bool(self._get_param("ReverseOrder")),
            **_paging(self),
        )
        return _page("StepExecutions", steps, token)

    def stop_automation_execution(self) -> ActionResult:
        self.automation.stop_automation_execution(self._get_param("AutomationExecutionId"), self._get_param("Type"))
        return ActionResult({})

    # ------------------------------------------------------------------------------ change calendar

    def get_calendar_state(self) -> ActionResult:
        return ActionResult(
            calendar_state(
                self.current_account, self.region, self._get_param("CalendarNames") or [], self._get_param("AtTime")
            )
        )
