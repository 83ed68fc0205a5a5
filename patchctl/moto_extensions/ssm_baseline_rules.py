"""SSM patch baselines for moto: the approval-rule rule AWS enforces and moto does not.

Source: botocore's SSM model (``botocore/data/ssm/*/service-2.json``), documentation of
``PatchRule.ApproveAfterDays`` and ``PatchRule.ApproveUntilDate``: "Not supported for Debian
Server or Ubuntu Server" (the same sentence is in the SSM API reference, ``PatchRule`` data
type). Those repositories publish no reliable release dates, so AWS refuses a delay or a cut-off
date in a baseline for them: a rule there approves a patch as soon as it is published.

moto 5.2 accepts any ``CreatePatchBaseline`` and has no ``UpdatePatchBaseline``. This module
makes both refuse such a rule with ``ValidationException``, like AWS, so a program that would
fail its first real ``pulumi up`` fails in the tests. ``UpdatePatchBaseline`` is added with the
fields the API reference lists, applied to moto's baseline record, and its response shape.

:func:`refusal` is pure (no moto import) so the offline Pulumi mocks apply the same rule to an
``aws:ssm/patchBaseline:PatchBaseline`` (``patchctl/offline/mocks.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

#: Operating systems whose approval rules take neither ``ApproveAfterDays`` nor ``ApproveUntilDate``.
NO_APPROVAL_DELAY = frozenset({"UBUNTU", "DEBIAN"})

#: The OS of a baseline created without ``OperatingSystem`` (API reference, CreatePatchBaseline).
DEFAULT_OPERATING_SYSTEM = "WINDOWS"


def refusal(operating_system: str | None, rules: Iterable[Mapping[str, Any]]) -> str | None:
    """The ValidationException message AWS gives for these approval rules, or ``None``.

    ``rules`` are ``PatchRule`` members by their API names (``ApproveAfterDays``, ``ApproveUntilDate``).
    """
    os_name = operating_system or DEFAULT_OPERATING_SYSTEM
    if os_name not in NO_APPROVAL_DELAY:
        return None
    for index, rule in enumerate(rules):
        for member in ("ApproveAfterDays", "ApproveUntilDate"):
            if rule.get(member) is not None:
                return (
                    f"ApprovalRules.PatchRules[{index}].{member} is not supported for operating system {os_name} "
                    "(Ubuntu Server and Debian Server patches are approved when published)"
                )
    return None


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
