"""The tag contract as the components use it: ``policies/tag_contract.py``, imported under its one name.

The contract lives in the policy pack directory (the pack must stay self-contained for ``pulumi policy
publish``) and is installed as the top-level module ``tag_contract`` (``[tool.setuptools]`` in
``pyproject.toml``). The Lambda archives and the runbook scripts carry the same file
(``components.packaging``), so the Config rule, the IAM tag conditions, the windows' targets and the
outputs can never disagree with what the Lambdas, the runbooks and the pack enforce.

Components import the contract from here only; this module adds what only the components need.
"""

from __future__ import annotations

from typing import Any

import tag_contract
from tag_contract import (
    DEFAULT_WINDOW,
    ENVIRONMENT_TAG,
    ENVIRONMENTS,
    EXEMPTION_TAGS,
    EXEMPTION_VALUE,
    MAINTENANCE_WINDOW_TAG,
    MANAGED_TAG_KEYS,
    PATCH_GROUP_TAG,
    PATCH_GROUPS,
    WINDOW_NAMES,
)

__all__ = [
    "DEFAULT_WINDOW",
    "ENVIRONMENTS",
    "ENVIRONMENT_TAG",
    "EXEMPTION_TAGS",
    "EXEMPTION_VALUE",
    "MAINTENANCE_WINDOW_TAG",
    "MANAGED_TAG_KEYS",
    "PATCH_GROUPS",
    "PATCH_GROUP_TAG",
    "WINDOW_NAMES",
    "contract_summary",
    "managed_tag_condition",
    "tag_contract",
]


def managed_tag_condition() -> dict[str, dict[str, Any]]:
    """IAM condition: a tagging call may set only the contract's managed keys (and must set some)."""
    return {
        "ForAllValues:StringEquals": {"aws:TagKeys": list(MANAGED_TAG_KEYS)},
        "Null": {"aws:TagKeys": "false"},
    }


def contract_summary() -> dict[str, Any]:
    """The contract for app teams (stack outputs): keys and allowed values."""
    return {
        "environmentTag": ENVIRONMENT_TAG,
        "environments": list(ENVIRONMENTS),
        "patchGroupTag": PATCH_GROUP_TAG,
        "patchGroups": list(PATCH_GROUPS),
        "maintenanceWindowTag": MAINTENANCE_WINDOW_TAG,
        "maintenanceWindows": list(WINDOW_NAMES),
        "exemptionTags": list(EXEMPTION_TAGS),
        "exemptionValue": EXEMPTION_VALUE,
    }
