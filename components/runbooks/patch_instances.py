"""The ``aws:executeScript`` step of the standalone runbook (``patch_instances.yaml``): which ``aws:runCommand`` runs.

SSM Automation has no optional inputs: a step sends every input it names. ``SendCommand`` refuses an empty
``OutputS3BucketName`` (botocore: min length 3), and emergency waves start the runbook without an output bucket, so
the runbook has one ``aws:runCommand`` with the output settings and one without, for each selector (window or patch
group). This step chooses; ``aws:branch`` cannot compare with an empty string.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def choose_route(events: Mapping[str, Any], context: Any) -> dict[str, str]:
    """``ByWindow``/``ByPatchGroup``/``ByInstanceIds``, with ``NoOutput`` appended when no output bucket is set."""
    selector = "ByPatchGroup" if str(events.get("PatchGroup") or "").strip() else "ByWindow"
    if [i for i in events.get("InstanceIds") or [] if str(i).strip()]:
        selector = "ByInstanceIds"
    output = "" if str(events.get("OutputS3BucketName") or "").strip() else "NoOutput"
    return {"route": selector + output}
