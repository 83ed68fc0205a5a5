"""Paging of the SSM list/describe operations the extension adds: moto's own paginator, configured
the way moto's services configure it (one entry per backend method), plus the ``MaxResults``
bounds the SSM API reference gives each operation (the paginator does not check them).
"""

from __future__ import annotations

from typing import Any

from devkit.moto_extensions.ssm.exceptions import InvalidNextToken, ValidationException


def _model(unique: str | list[str], default: int) -> dict[str, Any]:
    return {
        "input_token": "next_token",
        "limit_key": "max_results",
        "limit_default": default,
        "unique_attribute": unique,
        "fail_on_invalid_token": InvalidNextToken,
    }


PAGINATION_MODEL: dict[str, dict[str, Any]] = {
    "describe_instance_information": _model("InstanceId", 50),
    "describe_instance_patch_states": _model("InstanceId", 50),
    "describe_instance_patch_states_for_patch_group": _model("InstanceId", 50),
    "describe_instance_patches": _model("KBId", 50),
    "list_compliance_items": _model(["ResourceType", "ResourceId", "ComplianceType", "Id"], 10),
    "list_resource_compliance_summaries": _model(["ResourceType", "ResourceId", "ComplianceType"], 10),
    "list_compliance_summaries": _model("ComplianceType", 10),
    "list_resource_data_sync": _model("SyncName", 50),
    "list_associations": _model("AssociationId", 50),
    "describe_automation_executions": _model("AutomationExecutionId", 50),
    "describe_automation_step_executions": _model("StepExecutionId", 50),
}


def check_max_results(value: int | None, low: int, high: int) -> None:
    """``MaxResults`` outside the operation's bounds is a ValidationException, worded as AWS words it."""
    if value is not None and not low <= value <= high:
        raise ValidationException(
            f"1 validation error detected: Value '{value}' at 'maxResults' failed to satisfy constraint: "
            f"Member must have value between {low} and {high}"
        )
