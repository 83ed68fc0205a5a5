"""The organization's patch baselines as ONE ``BaselineOverride`` file in the hub, instead of a baseline
and a default-baseline registration per operating system in every account-region.

``AWS-RunPatchBaseline`` takes ``BaselineOverride``: an S3 URL of a JSON list of patch baselines; the
patching operation uses the one matching the instance's operating system "instead of applying the rules
from the default patch baseline" (AWS Systems Manager User Guide, "Using the BaselineOverride parameter",
https://docs.aws.amazon.com/systems-manager/latest/userguide/patch-manager-baselineoverride-parameter.html).
Quick Setup's patch policies work the same way (their baselines live in one bucket). With 6 operating
systems that removes 12 resources per account-region (bench/bench_child.py), and every account of a
shard gets exactly the same rules.

Each entry has the members of ``CreatePatchBaseline``'s input that describe a baseline (the shape the
override file uses); :func:`check_against_botocore` validates them with botocore's own validator.

The same documentation page gives the two limits the program follows:

* the file name may not contain a backtick, quote, double quote or dollar sign (:func:`override_key`);
* ``BaselineOverride`` and ``InstallOverrideList`` cannot be used together ("the patching document
  fails"): the runbooks drop the override when an install-override list is given
  (``components/runbooks/baseline_choice.py``).

Staged approval (a baseline per environment registered to its patch group) cannot be expressed in one
file per operating system, so ``patching.stagedApproval: true`` keeps the baselines in the accounts.
"""

from __future__ import annotations

import json
import re
from typing import Any

from ..config import PatchingConfig
from . import patch_rules

#: Key prefix of the override files in the hub's patch-lists bucket (readable by the organization).
OVERRIDE_PREFIX = "baseline-overrides"
#: Characters AWS refuses in a BaselineOverride file name (see the module docstring).
_FORBIDDEN = re.compile(r"[`'\"$]")
_STACK_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,100}$")


class BaselineOverrideError(ValueError):
    """The override file cannot be built (bad stack name or a baseline botocore refuses)."""


def uses_override(patching: PatchingConfig) -> bool:
    """Whether the spokes take their baselines from the hub's override file (not with staged approval)."""
    return not patching.staged_approval


def override_key(stack: str) -> str:
    """The object key of one child stack's (shard's) override file."""
    if not _STACK_NAME.match(stack) or _FORBIDDEN.search(stack):
        raise BaselineOverrideError(f"stack name {stack!r} cannot name a BaselineOverride file (letters, digits, _.-)")
    return f"{OVERRIDE_PREFIX}/{stack}.json"


def override_uri(bucket: str, stack: str) -> str:
    """``s3://<bucket>/<key>``: the value of ``AWS-RunPatchBaseline``'s ``BaselineOverride``."""
    return f"s3://{bucket}/{override_key(stack)}"


def baseline_entry(os_name: str, patching: PatchingConfig) -> dict[str, Any]:
    """One operating system's baseline: the default stage of :func:`.patch_rules.stages`, the same
    rules the account baselines carry."""
    days = patching.approve_after_days.model_dump()
    stage = patch_rules.stages(days, False, os_name)[0]
    rule: dict[str, Any] = {
        "PatchFilterGroup": {
            "PatchFilters": [
                {"Key": key, "Values": list(values)} for key, values in patch_rules.APPROVAL_FILTERS[os_name].items()
            ]
        },
        "ComplianceLevel": patching.compliance_level,
    }
    if stage.approve_after_days is not None:
        rule["ApproveAfterDays"] = stage.approve_after_days
    return {
        "OperatingSystem": os_name,
        "ApprovalRules": {"PatchRules": [rule]},
        "ApprovedPatches": [],
        "ApprovedPatchesComplianceLevel": patching.compliance_level,
        "RejectedPatches": [],
        "RejectedPatchesAction": "ALLOW_AS_DEPENDENCY",
    }


def override_document(patching: PatchingConfig) -> list[dict[str, Any]]:
    """The override file's content: one baseline per configured operating system."""
    return [baseline_entry(os_name, patching) for os_name in patching.operating_systems]


def override_json(patching: PatchingConfig) -> str:
    """The file as written to S3 (sorted keys: the same config gives byte-identical content)."""
    return json.dumps(override_document(patching), indent=1, sort_keys=True)


def check_against_botocore(entries: list[dict[str, Any]]) -> None:
    """Validate every entry as ``CreatePatchBaseline`` input (botocore's validator, with a name added)."""
    from botocore.validate import ParamValidator

    from ..ssm_model import service_model

    model = service_model()
    shape = model.operation_model("CreatePatchBaseline").input_shape
    for entry in entries:
        report = ParamValidator().validate({**entry, "Name": "org-patching-override"}, shape)
        if report.has_errors():
            raise BaselineOverrideError(f"{entry.get('OperatingSystem')}: {report.generate_report()}")
