"""The patch baselines of one account-region, declared under its ``RegionalSpoke``.

One baseline per operating system, each registered as the OS's DEFAULT baseline: an instance
whose ``Patch Group`` has no registered baseline uses the default one, so every patch group
(Default, Dev, Test, Prod) resolves to ours with 2 resources per OS instead of 5 (baseline + 4
patch-group registrations). Staged approval (Dev before Prod) adds a baseline and a patch-group
registration per OS and stage; it is opt-in (``patching.stagedApproval``) because it does not
fit the resource budget (see ``docs/child-stack.md``). The rules come from :mod:`.patch_rules`.
"""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from .. import naming
from ..config import PatchingConfig
from ..contract import PATCH_GROUPS
from . import patch_rules


def declare_patch_baselines(
    name: str, region: str, patching: PatchingConfig, opts: pulumi.ResourceOptions
) -> tuple[dict[str, aws.ssm.PatchBaseline], dict[str, dict[str, pulumi.Output[str]]]]:
    """The baselines by short name (``al2023``, ``al2023-dev``...) and, per patch group and OS,
    the id of the baseline that group uses. ``opts`` carries the spoke as parent."""
    baselines: dict[str, aws.ssm.PatchBaseline] = {}
    patch_groups: dict[str, dict[str, pulumi.Output[str]]] = {group: {} for group in PATCH_GROUPS}
    days = patching.approve_after_days.model_dump()
    for os_name in patching.operating_systems:
        short = patch_rules.SHORT_NAMES[os_name]
        for stage in patch_rules.stages(days, patching.staged_approval, os_name):
            approval = (
                "approved when published (AWS allows no delay for this OS)"
                if stage.approve_after_days is None
                else f"approved {stage.approve_after_days} days after release"
            )
            suffix = short if stage.name == "default" else f"{short}-{stage.name}"
            baseline = aws.ssm.PatchBaseline(
                f"{name}-{suffix}",
                name=naming.patch_baseline(suffix),
                description=(
                    f"org-patching: {os_name}, {approval}"
                    + ("" if stage.patch_groups else " (default baseline: every unregistered patch group)")
                ),
                operating_system=os_name,
                approved_patches_compliance_level=patching.compliance_level,
                approval_rules=[
                    aws.ssm.PatchBaselineApprovalRuleArgs(
                        approve_after_days=stage.approve_after_days,
                        compliance_level=patching.compliance_level,
                        enable_non_security=False if os_name == "WINDOWS" else None,
                        patch_filters=[
                            aws.ssm.PatchBaselineApprovalRulePatchFilterArgs(key=key, values=list(values))
                            for key, values in patch_rules.APPROVAL_FILTERS[os_name].items()
                        ],
                    )
                ],
                region=region,
                opts=opts,
            )
            baselines[suffix] = baseline
            if not stage.patch_groups:
                aws.ssm.DefaultPatchBaseline(
                    f"{name}-{suffix}-default",
                    baseline_id=baseline.id,
                    operating_system=os_name,
                    region=region,
                    opts=opts,
                )
                for group in PATCH_GROUPS:
                    patch_groups[group].setdefault(os_name, baseline.id)
            for group in stage.patch_groups:
                aws.ssm.PatchGroup(
                    f"{name}-{suffix}-{group.lower()}",
                    baseline_id=baseline.id,
                    patch_group=group,
                    region=region,
                    opts=opts,
                )
                patch_groups[group][os_name] = baseline.id
    return baselines, patch_groups


def override_patch_groups(
    override: pulumi.Input[str], operating_systems: list[str]
) -> dict[str, dict[str, pulumi.Output[str]]]:
    """Per patch group and OS, where the baseline comes from when the hub's override file carries them
    (``components/spoke/baseline_override.py``): that file's ``s3://`` URL, the same for every group."""
    uri = pulumi.Output.from_input(override)
    return {group: {os_name: uri for os_name in operating_systems} for group in PATCH_GROUPS}
