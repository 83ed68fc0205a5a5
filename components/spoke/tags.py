"""The tag contract as the spoke uses it: loaded from ``policies/tag_contract.py``, never retyped.

The contract lives in the policy pack directory (the pack must stay self-contained for
``pulumi policy publish``) and is bundled into the Lambda archives; the program loads the same
file by path, so the Config rule, the IAM tag conditions, the windows' targets and the outputs
can never disagree with what the Lambdas and the pack enforce.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

CONTRACT_FILE = Path(__file__).resolve().parents[2] / "policies" / "tag_contract.py"


def _load() -> ModuleType:
    existing = sys.modules.get("tag_contract")
    if existing is not None and Path(getattr(existing, "__file__", "") or "").resolve() == CONTRACT_FILE:
        return existing
    spec = importlib.util.spec_from_file_location("org_patching_tag_contract", CONTRACT_FILE)
    if spec is None or spec.loader is None:  # pragma: no cover - the file is part of the repo
        raise ImportError(f"cannot load the tag contract from {CONTRACT_FILE}")
    module = importlib.util.module_from_spec(spec)
    # dataclasses look the module up in sys.modules while the file executes.
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


contract: Any = _load()

ENVIRONMENT_TAG: str = contract.ENVIRONMENT_TAG
PATCH_GROUP_TAG: str = contract.PATCH_GROUP_TAG
MAINTENANCE_WINDOW_TAG: str = contract.MAINTENANCE_WINDOW_TAG
PATCH_GROUPS: tuple[str, ...] = tuple(contract.PATCH_GROUPS)
ENVIRONMENTS: tuple[str, ...] = tuple(contract.ENVIRONMENTS)
WINDOW_NAMES: tuple[str, ...] = tuple(contract.WINDOW_NAMES)
DEFAULT_WINDOW: str = contract.DEFAULT_WINDOW
MANAGED_TAG_KEYS: tuple[str, ...] = tuple(contract.MANAGED_TAG_KEYS)
EXEMPTION_TAGS: tuple[str, ...] = tuple(contract.EXEMPTION_TAGS)
EXEMPTION_VALUE: str = contract.EXEMPTION_VALUE


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
