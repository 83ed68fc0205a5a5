"""The ``aws:executeScript`` step both runbooks start with: which ``BaselineOverride`` to give AWS-RunPatchBaseline.

``BaselineOverride`` (the organization's baselines, an S3 URL: ``components/spoke/baseline_override.py``) and
``InstallOverrideList`` (an exact list of patches) "can't be used together. If both parameters are supplied, the
patching document fails" (AWS Systems Manager User Guide, "Using the BaselineOverride parameter"). SSM Automation has
no conditional inputs, so this step computes the value: the override, unless an install-override list is given (the
list then decides what is installed, as the team or the emergency request asked).
"""

from __future__ import annotations

from typing import Any


def choose_baseline_override(events: dict[str, Any], context: Any) -> dict[str, str]:
    """``{"baselineOverride": ...}``: empty when ``InstallOverrideList`` is set, else ``BaselineOverride``."""
    install_list = str(events.get("InstallOverrideList") or "")
    override = str(events.get("BaselineOverride") or "")
    return {"baselineOverride": "" if install_list else override}
