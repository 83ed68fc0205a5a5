"""The hub's runbooks, one shared copy per Region, that every child maintenance window runs by ARN.

The central stack creates ``OrgPatching-PatchInstances`` and ``OrgPatching-PatchAutoScalingGroups`` in every
Region of its ``regions`` and shares them with the organization's accounts
(``components/hub/emergency_patching.py``): the emergency waves need that anyway (a runbook run with
``TargetLocations`` must be shared with every target account). The child windows' AUTOMATION tasks and the
self-service product's tasks name the hub's copy in their own Region by its full ARN, so no child
account-region holds a copy of its own (two resources fewer per account-region).

AWS rules this relies on (docs/aws-rules.md, "Runbooks shared by the hub"):

* a maintenance window task's ``TaskArn`` is, "for RUN_COMMAND and AUTOMATION task types, the SSM document name
  or ARN" (SSM API Reference, ``RegisterTaskWithMaintenanceWindow`` / ``MaintenanceWindowTask``);
* "to run a shared document belonging to another account, specify the document ARN" (SSM API Reference,
  ``StartAutomationExecution``, ``DocumentName``); a document is a regional resource, so the ARN names the
  window's own Region;
* the service role starting it needs ``ssm:StartAutomationExecution`` on the owner's ``automation-definition``
  ARN (Service Authorization Reference, AWS Systems Manager).
"""

from __future__ import annotations

from . import naming

#: The runbooks the child windows run (the hub shares exactly these).
SHARED_RUNBOOKS = (naming.RUNBOOK_STANDALONE, naming.RUNBOOK_ASG)


def shared_runbook_arn(partition: str, region: str, hub_account: str, runbook: str) -> str:
    """``arn:<partition>:ssm:<region>:<hub account>:document/<runbook>``: the hub's copy in ``region``."""
    if runbook not in SHARED_RUNBOOKS:
        raise ValueError(f"{runbook!r} is not a runbook the hub shares ({', '.join(SHARED_RUNBOOKS)})")
    return f"arn:{partition}:ssm:{region}:{hub_account}:document/{runbook}"


def shared_runbook_definitions(partition: str, hub_account: str) -> list[str]:
    """The ``automation-definition`` ARNs (every Region, every version) a role needs to start the hub's runbooks."""
    return [f"arn:{partition}:ssm:*:{hub_account}:automation-definition/{runbook}:*" for runbook in SHARED_RUNBOOKS]
