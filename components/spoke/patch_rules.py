"""What each operating system's patch baseline approves: the seed's rules, per OS.

SSM validates approval-rule filter *values* per operating system, but botocore's model only
knows the filter *keys* (``PatchFilterKey``) and the operating systems; the values come from
``DescribePatchProperties``, which needs AWS. So the valid values are kept here as a table,
copied from the AWS documentation, and a test checks every rule below against it (and the keys
and operating systems against botocore's model):

Source: AWS Systems Manager API Reference, ``PatchFilter`` data type
(https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_PatchFilter.html), and the
user guide's "Patch baseline filter values" per operating system
(https://docs.aws.amazon.com/systems-manager/latest/userguide/patch-manager-predefined-and-custom-patch-baselines.html).

The seed approved security patches of Critical/Important severity (plus bug fixes on Amazon Linux
and RHEL) 7 days after release, at compliance level CRITICAL; Ubuntu by priority. The same
intent is kept for the operating systems the seed did not cover.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

#: Valid filter values per operating system and key (AWS docs, see the module docstring).
#: Only the keys this project uses are listed; an OS missing here cannot get a baseline.
VALID_FILTER_VALUES: Mapping[str, Mapping[str, frozenset[str]]] = {
    "AMAZON_LINUX_2": {
        "CLASSIFICATION": frozenset({"Security", "Bugfix", "Enhancement", "Recommended", "Newpackage"}),
        "SEVERITY": frozenset({"Critical", "Important", "Medium", "Low", "None"}),
    },
    "AMAZON_LINUX_2023": {
        "CLASSIFICATION": frozenset({"Security", "Bugfix", "Enhancement", "Recommended", "Newpackage"}),
        "SEVERITY": frozenset({"Critical", "Important", "Medium", "Low", "None"}),
    },
    "REDHAT_ENTERPRISE_LINUX": {
        "CLASSIFICATION": frozenset({"Security", "Bugfix", "Enhancement", "Recommended", "Newpackage"}),
        "SEVERITY": frozenset({"Critical", "Important", "Moderate", "Low", "None"}),
    },
    "ROCKY_LINUX": {
        "CLASSIFICATION": frozenset({"Security", "Bugfix", "Enhancement", "Recommended", "Newpackage"}),
        "SEVERITY": frozenset({"Critical", "Important", "Moderate", "Low", "None"}),
    },
    "SUSE": {
        "CLASSIFICATION": frozenset({"Security", "Recommended", "Optional", "Feature", "Document", "Yast"}),
        "SEVERITY": frozenset({"Critical", "Important", "Moderate", "Low"}),
    },
    "UBUNTU": {
        "PRIORITY": frozenset({"Required", "Important", "Standard", "Optional", "Extra"}),
    },
    "DEBIAN": {
        "PRIORITY": frozenset({"Required", "Important", "Standard", "Optional", "Extra"}),
    },
    "WINDOWS": {
        "CLASSIFICATION": frozenset(
            {
                "CriticalUpdates",
                "DefinitionUpdates",
                "Drivers",
                "FeaturePacks",
                "SecurityUpdates",
                "ServicePacks",
                "Tools",
                "UpdateRollups",
                "Updates",
                "Upgrades",
            }
        ),
        "MSRC_SEVERITY": frozenset({"Critical", "Important", "Moderate", "Low", "Unspecified"}),
    },
}

_RPM_SECURITY = {"CLASSIFICATION": ("Security", "Bugfix"), "SEVERITY": ("Critical", "Important")}
#: Debian/Ubuntu have no severity in their metadata: the seed approved by priority (all sections).
_DEB_PRIORITIES = {"PRIORITY": ("Required", "Important", "Standard")}

#: The approval rule's filters per operating system (AND across keys, OR across values).
APPROVAL_FILTERS: Mapping[str, Mapping[str, tuple[str, ...]]] = {
    "AMAZON_LINUX_2": _RPM_SECURITY,
    "AMAZON_LINUX_2023": _RPM_SECURITY,
    "REDHAT_ENTERPRISE_LINUX": _RPM_SECURITY,
    "ROCKY_LINUX": _RPM_SECURITY,
    # SUSE has no Bugfix classification: security patches of Critical/Important severity.
    "SUSE": {"CLASSIFICATION": ("Security",), "SEVERITY": ("Critical", "Important")},
    "UBUNTU": _DEB_PRIORITIES,
    "DEBIAN": _DEB_PRIORITIES,
    # The seed pinned PRODUCT to Windows Server 2012-2019, so 2022/2025 fell back to AWS's
    # default baseline; without a PRODUCT filter the rule covers every Windows product.
    "WINDOWS": {
        "CLASSIFICATION": ("SecurityUpdates", "CriticalUpdates"),
        "MSRC_SEVERITY": ("Critical", "Important"),
    },
}

#: Short names used in resource names (``<spoke>-al2023``), stable: renaming one replaces baselines.
SHORT_NAMES: Mapping[str, str] = {
    "AMAZON_LINUX_2": "al2",
    "AMAZON_LINUX_2023": "al2023",
    "REDHAT_ENTERPRISE_LINUX": "rhel",
    "ROCKY_LINUX": "rocky",
    "SUSE": "suse",
    "UBUNTU": "ubuntu",
    "DEBIAN": "debian",
    "WINDOWS": "windows",
}

#: Linux baselines also approve non-security updates of approved packages (dependencies).
LINUX = frozenset(APPROVAL_FILTERS) - {"WINDOWS"}

#: Operating systems whose approval rules may carry neither ``ApproveAfterDays`` nor
#: ``ApproveUntilDate``: botocore's SSM model, documentation of ``PatchRule.ApproveAfterDays`` and
#: ``PatchRule.ApproveUntilDate`` ("Not supported for Debian Server or Ubuntu Server"); their
#: repositories publish no reliable release dates. A patch is approved as soon as it is published
#: (like AWS's predefined Ubuntu/Debian baselines), so ``approveAfterDays`` cannot delay it and
#: staged approval cannot stage it: the config refuses ``stagedApproval`` with these OSes.
APPROVED_WHEN_PUBLISHED = frozenset({"UBUNTU", "DEBIAN"})


@dataclass(frozen=True)
class Stage:
    """One approval stage: the patch groups it serves and how long a patch waits."""

    name: str
    #: ``None``: approved when published (:data:`APPROVED_WHEN_PUBLISHED`), no delay allowed.
    approve_after_days: int | None
    #: Patch groups registered to this stage's baseline. Empty for the default stage: its
    #: baseline is the OS's default baseline, which every unregistered patch group uses.
    patch_groups: tuple[str, ...]


def stages(approve_after_days: Mapping[str, int], staged: bool, os_name: str) -> list[Stage]:
    """The baselines to create for one operating system.

    Unstaged (the default, the budget's choice): ONE baseline per OS, registered as the OS's
    default baseline, so every patch group (Default, Dev, Test, Prod) resolves to it with the
    ``default`` delay. Staged: additionally one baseline per environment whose delay differs
    from the default, registered to that patch group (Dev gets patches before Prod).
    An OS of :data:`APPROVED_WHEN_PUBLISHED` gets one baseline with no delay (AWS refuses one).
    """
    if os_name in APPROVED_WHEN_PUBLISHED:
        return [Stage("default", None, ())]
    default_days = approve_after_days["default"]
    result = [Stage("default", default_days, ())]
    if staged:
        for group in ("Dev", "Test", "Prod"):
            days = approve_after_days[group.lower()]
            if days != default_days:
                result.append(Stage(group.lower(), days, (group,)))
    return result


def unsupported(operating_systems: list[str]) -> list[str]:
    """Operating systems of the config that have no rule here."""
    return [os_name for os_name in operating_systems if os_name not in APPROVAL_FILTERS]
