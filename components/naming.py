"""Physical names that several parts must agree on (the hub, the spokes, the Service Catalog
product, the Lambdas and the state machine). Everything else is auto-named by Pulumi.

A name here is a contract: changing one replaces resources in every account.
"""

from __future__ import annotations

PREFIX = "org-patching"

# --- IAM (global, one per child account) -----------------------------------------------
#: Role the child stack's providers assume in every member account. The hub's bootstrap
#: StackSet (``components/hub/deploy_role_bootstrap.yaml``) creates it, trusted only by the
#: central deploy principal; it is the default ``org-patching:deployRoleName``.
CHILD_DEPLOY_ROLE = "org-patching-deploy"
#: Instance profile every patched instance uses (the seed's name, kept for familiarity).
INSTANCE_PROFILE = "InstanceProfileforPatching"
INSTANCE_ROLE = "org-patching-instance"
#: Role the hub's SSM Automation administration role assumes in every child account
#: (passed as ``ExecutionRoleName`` with ``TargetLocations``).
AUTOMATION_EXECUTION_ROLE = "org-patching-automation-execution"
#: Role in the hub that SSM Automation uses to fan out to ``TargetLocations``.
AUTOMATION_ADMINISTRATION_ROLE = "org-patching-automation-administration"
#: Role maintenance windows use to run tasks in a child account.
MAINTENANCE_WINDOW_ROLE = "org-patching-maintenance-window"
TAG_REMEDIATION_ROLE = "org-patching-tag-remediation"
WINDOW_TAGGING_ROLE = "org-patching-window-tagging"
OVERRIDE_LIST_ROLE = "org-patching-override-list"
#: Launch constraint role of the Service Catalog product (created in every child account).
CATALOG_LAUNCH_ROLE = "org-patching-catalog-launch"

# --- Lambdas (per child account and region) ----------------------------------------------
TAG_REMEDIATION_FUNCTION = "org-patching-tag-remediation"
#: The custom resource behind the Service Catalog product calls this function in the
#: launching account and region: arn:<partition>:lambda:<region>:<account>:function:<name>.
WINDOW_TAGGING_FUNCTION = "org-patching-window-tagging"
OVERRIDE_LIST_FUNCTION = "org-patching-override-list"

# --- SSM documents (per child account and region) ---------------------------------------
#: Patch standalone instances (AWS-RunPatchBaseline with operation/reboot/override list).
RUNBOOK_STANDALONE = "OrgPatching-PatchInstances"
#: Rebake an Auto Scaling group's AMI and refresh its instances.
RUNBOOK_ASG = "OrgPatching-PatchAutoScalingGroups"

# --- Config, events, inventory ------------------------------------------------------------
CONFIG_RULE = "org-patching-patch-tags"
RESOURCE_DATA_SYNC = "org-patching-inventory"

# --- Hub ------------------------------------------------------------------------------------
#: The service-managed StackSet that creates ``CHILD_DEPLOY_ROLE`` in every member account.
DEPLOY_ROLE_STACK_SET = "org-patching-deploy-role"
GLUE_DATABASE = "managed_instances_database"
EMERGENCY_STATE_MACHINE = "org-patching-emergency"
#: EventBridge source of the events org-patching emits.
EVENT_SOURCE = "org-patching"
