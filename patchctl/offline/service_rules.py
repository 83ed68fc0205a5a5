"""SSM patch baselines: the approval-rule rule AWS enforces (and moto does not).

Source: botocore's SSM model (``botocore/data/ssm/*/service-2.json``), documentation of
``PatchRule.ApproveAfterDays`` and ``PatchRule.ApproveUntilDate``: "Not supported for Debian
Server or Ubuntu Server" (the same sentence is in the SSM API reference, ``PatchRule`` data
type). Those repositories publish no reliable release dates, so AWS refuses a delay or a cut-off
date in a baseline for them: a rule there approves a patch as soon as it is published.

The rule is pure (no moto import), in the product, so both the offline Pulumi mocks
(``patchctl/offline/mocks.py``, for an ``aws:ssm/patchBaseline:PatchBaseline``) and the dev kit's
emulator (``devkit/moto_extensions/ssm/baseline_rules.py``, for ``CreatePatchBaseline`` and
``UpdatePatchBaseline``) apply the same rule.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
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
