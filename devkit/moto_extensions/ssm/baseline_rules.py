"""moto's CreatePatchBaseline/UpdatePatchBaseline refuse what AWS refuses: approval delays on
Ubuntu and Debian (the rule and its source: :mod:`patchctl.offline.service_rules`).

moto 5.2 accepts any ``CreatePatchBaseline`` and has no ``UpdatePatchBaseline``. This module
makes both refuse such a rule with ``ValidationException``, like AWS, so a program that would
fail its first real ``pulumi up`` fails in the tests. ``UpdatePatchBaseline`` is added with the
fields the API reference lists, applied to moto's baseline record, and its response shape.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from patchctl.offline.service_rules import refusal


def _patch_rules(approval_rules: Mapping[str, Any] | None) -> list[Mapping[str, Any]]:
    return list((approval_rules or {}).get("PatchRules") or [])


def install() -> None:
    """Patch moto's SSM response class (idempotent)."""
    from moto.core.responses import ActionResult
    from moto.ssm.exceptions import DoesNotExistException, ValidationException
    from moto.ssm.responses import SimpleSystemManagerResponse

    original: Callable[[SimpleSystemManagerResponse], ActionResult] = getattr(
        SimpleSystemManagerResponse.create_patch_baseline,
        "_moto_original",
        SimpleSystemManagerResponse.create_patch_baseline,
    )

    def create_patch_baseline(self: SimpleSystemManagerResponse) -> ActionResult:
        message = refusal(self._get_param("OperatingSystem"), _patch_rules(self._get_param("ApprovalRules")))
        if message:
            raise ValidationException(message)
        return original(self)

    create_patch_baseline._moto_original = original  # type: ignore[attr-defined]

    def update_patch_baseline(self: SimpleSystemManagerResponse) -> ActionResult:
        baseline_id = self._get_param("BaselineId")
        baseline = self.ssm_backend.baselines.get(baseline_id)
        if baseline is None:
            raise DoesNotExistException(baseline_id)
        approval_rules = self._get_param("ApprovalRules")
        if approval_rules is not None:
            message = refusal(baseline.operating_system, _patch_rules(approval_rules))
            if message:
                raise ValidationException(message)
        fields = {
            "Name": "name",
            "GlobalFilters": "global_filters",
            "ApprovalRules": "approval_rules",
            "ApprovedPatches": "approved_patches",
            "ApprovedPatchesComplianceLevel": "approved_patches_compliance_level",
            "ApprovedPatchesEnableNonSecurity": "approved_patches_enable_non_security",
            "RejectedPatches": "rejected_patches",
            "RejectedPatchesAction": "rejected_patches_action",
            "Description": "description",
            "Sources": "sources",
        }
        for param, attribute in fields.items():
            value = self._get_param(param)
            if value is not None:
                setattr(baseline, attribute, value)
        body = {
            key: value
            for key, value in {
                "BaselineId": baseline.id,
                "Name": baseline.name,
                "OperatingSystem": baseline.operating_system,
                "GlobalFilters": baseline.global_filters,
                "ApprovalRules": baseline.approval_rules,
                "ApprovedPatches": baseline.approved_patches,
                "ApprovedPatchesComplianceLevel": baseline.approved_patches_compliance_level,
                "ApprovedPatchesEnableNonSecurity": baseline.approved_patches_enable_non_security,
                "RejectedPatches": baseline.rejected_patches,
                "RejectedPatchesAction": baseline.rejected_patches_action,
                "Description": baseline.description,
                "Sources": baseline.sources,
            }.items()
            if value is not None
        }
        return ActionResult(body)

    SimpleSystemManagerResponse.create_patch_baseline = create_patch_baseline  # type: ignore[method-assign]
    SimpleSystemManagerResponse.update_patch_baseline = update_patch_baseline  # type: ignore[attr-defined]
