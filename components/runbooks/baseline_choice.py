"""The ``aws:executeScript`` step both runbooks start with: which ``BaselineOverride`` to give AWS-RunPatchBaseline.

``BaselineOverride`` (the organization's baselines, an S3 URL: ``components/spoke/baseline_override.py``) and
``InstallOverrideList`` (an exact list of patches) "can't be used together. If both parameters are supplied, the
patching document fails" (AWS Systems Manager User Guide, "Using the BaselineOverride parameter"). SSM Automation has
no conditional inputs, so this step computes the value: the override, unless an install-override list is given (the
list then decides what is installed, as the team or the emergency request asked).

The runbooks are the hub's copies, shared with every account (``components/shared_runbooks.py``), so they carry no
shard's file as a default. A window that passes no ``BaselineOverride`` (a team's window from the self-service
product, an emergency wave) gets its account's: the child stack tags the account's automation execution role, which
the runbook runs as, with ``ROLE_TAG`` = its shard's file. No tag (staged approval keeps the baselines in the
account): no override, and AWS-RunPatchBaseline uses the account's registered baselines.
"""

from __future__ import annotations

from typing import Any

#: Tag of the automation execution role: the ``s3://`` URL of the account's BaselineOverride file.
ROLE_TAG = "org-patching:baseline"
#: The role whose tag it is (``components/naming.py`` AUTOMATION_EXECUTION_ROLE; a script cannot import it).
ROLE = "org-patching-automation-execution"


def choose_baseline_override(events: dict[str, Any], context: Any) -> dict[str, str]:
    """``{"baselineOverride": ...}``: empty when ``InstallOverrideList`` is set, else ``BaselineOverride``, else the
    file the execution role's ``ROLE_TAG`` names."""
    if events.get("InstallOverrideList"):
        return {"baselineOverride": ""}
    return {"baselineOverride": events.get("BaselineOverride") or role_tag()}


def role_tag() -> str:
    """The ``ROLE_TAG`` of the role this step runs as when it is the account's automation execution role, or ``""``
    (a runbook started without an AutomationAssumeRole runs as its caller, whose tags are not ours to read)."""
    import boto3  # the executeScript runtime ships boto3; imported here so the choice above needs no AWS

    # GetCallerIdentity needs no permission; an assumed role's ARN is ...:assumed-role/<role name>/<session>.
    # Terse on purpose: the ASG runbook fits SSM's 64 KB only so (components/runbooks/__init__.py).
    me = boto3.client("sts").get_caller_identity()["Arn"].split("/")
    if me[1:2] != [ROLE]:
        return ""
    ts = boto3.client("iam").list_role_tags(RoleName=ROLE)["Tags"]  # iam:ListRoleTags on the role itself
    return next((t["Value"] for t in ts if t["Key"] == ROLE_TAG), "")
