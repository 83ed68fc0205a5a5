"""Every physical AWS name org-patching gives a resource, and the names several parts must agree
on (the hub, the spokes, the Service Catalog product, the Lambdas and the state machine).
Everything else is auto-named by Pulumi (buckets, the hub's roles and topic).

A name here is a contract: changing one replaces resources in every account. Pulumi's logical
names and type tokens are not here: they live beside the resources (they make the URNs).
Names the tag contract defines (``Default_maintenance_window``) come from the contract, and the
Glue tables are named with their schema in ``hub/compliance_tables.py``.
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
#: Name of the inline policy every child-account role carries.
INLINE_POLICY = "org-patching"
#: Role EventBridge uses to put other regions' Config events on the home region's bus, and the account's patch
#: events on the hub's bus.
EVENT_FORWARDING_ROLE = "org-patching-event-forwarding"
#: The SSM service setting that names the DHMC role (the instance role), per account and region (SSM API reference,
#: GetServiceSetting; User Guide "Managing EC2 instances with Default Host Management Configuration").
DEFAULT_HOST_MANAGEMENT_SETTING = "/ssm/managed-instance/default-ec2-instance-management-role"
#: The AWS managed policy DHMC's role needs (the same User Guide page).
DEFAULT_HOST_MANAGEMENT_POLICY = "AmazonSSMManagedEC2InstanceDefaultPolicy"
#: STS session name of the child stack's providers in every child account (CloudTrail shows it).
CHILD_STACK_SESSION = "org-patching-child-stack"
#: The deploy role's own permissions boundary (the bootstrap StackSet creates it beside the role).
DEPLOY_ROLE_BOUNDARY = "org-patching-deploy-boundary"
#: The permissions boundary every role the child stack creates carries: the bootstrap StackSet creates this
#: managed policy in every member account, and the deploy role may write a role only while it carries it.
CHILD_ROLE_BOUNDARY = "org-patching-child-role-boundary"


def child_role_boundary_arn(partition: str, account_id: str) -> str:
    """``arn:<partition>:iam::<account>:policy/org-patching-child-role-boundary``: built from the account, so the
    child stack declares no resource for it (the StackSet owns the policy)."""
    return f"arn:{partition}:iam::{account_id}:policy/{CHILD_ROLE_BOUNDARY}"


# --- Lambdas (per child account and region) ----------------------------------------------
TAG_REMEDIATION_FUNCTION = "org-patching-tag-remediation"
#: The custom resource behind the Service Catalog product calls this function in the
#: launching account and region: arn:<partition>:lambda:<region>:<account>:function:<name>.
WINDOW_TAGGING_FUNCTION = "org-patching-window-tagging"
#: SSM parameters through which window tagging claims a window name (lambda_shared/window_claims.py).
WINDOW_CLAIM_PREFIX = "/org-patching/windows/"
OVERRIDE_LIST_FUNCTION = "org-patching-override-list"
#: One log group per region for every org-patching function there (``logging_config``).
FUNCTION_LOG_GROUP = "/org-patching/functions"
#: Dead-letter queue of the tag-remediation function (home region of each account).
DEAD_LETTER_QUEUE = "org-patching-tag-remediation-dlq"


def lambda_log_group(function: str) -> str:
    """The log group Lambda writes to by default: ``/aws/lambda/<function>``."""
    return f"/aws/lambda/{function}"


# --- SSM documents (per child account and region) ---------------------------------------
#: Patch standalone instances (AWS-RunPatchBaseline with operation/reboot/override list).
RUNBOOK_STANDALONE = "OrgPatching-PatchInstances"
#: Rebake an Auto Scaling group's AMI and refresh its instances.
RUNBOOK_ASG = "OrgPatching-PatchAutoScalingGroups"
#: The default window's tasks that start those runbooks.
WINDOW_TASK_STANDALONE = "org-patching-patch-instances"
WINDOW_TASK_ASG = "org-patching-patch-asgs"


def patch_baseline(suffix: str) -> str:
    """``org-patching-<os>`` (the OS's default baseline) or ``org-patching-<os>-<stage>``."""
    return f"{PREFIX}-{suffix}"


# --- Config, events, inventory ------------------------------------------------------------
CONFIG_RULE = "org-patching-patch-tags"
#: EventBridge rule of the Config rule's NON_COMPLIANT changes (every account-region).
COMPLIANCE_EVENT_RULE = "org-patching-patch-tags-noncompliant"
#: EventBridge schedule of the daily tag sweep (home region; one rule per 5 swept regions).
SWEEP_RULE = "org-patching-tag-sweep"
INVENTORY_ASSOCIATION = "org-patching-inventory"
#: The daily patch scan (AWS-RunPatchBaseline, Operation=Scan) in every account and region.
PATCH_SCAN_ASSOCIATION = "org-patching-patch-scan"
RESOURCE_DATA_SYNC = "org-patching-inventory"
#: Prefix under which resource data sync writes in the hub's inventory bucket.
INVENTORY_PREFIX = "inventory"
#: Prefix of the hub's inventory bucket under which each tag sweep writes the instances SSM does not manage
#: (``unmanaged/accountid=<id>/region=<region>/dt=<YYYY-MM-DD>/findings.jsonl``; lambda_shared/unmanaged_findings.py).
UNMANAGED_PREFIX = "unmanaged"
#: Glue table over that prefix, and the named query the report reads it with (components/hub/unmanaged_table.py).
UNMANAGED_TABLE = "unmanaged_instances"


def sweep_rule(number: int) -> str:
    """The ``number``-th sweep rule of an account (1: ``org-patching-tag-sweep``, 2: ``...-2``)."""
    return SWEEP_RULE if number == 1 else f"{SWEEP_RULE}-{number}"


# --- Tags org-patching sets itself (the patching tags are the tag contract's) ---------------
#: Tag the ASG rebake puts on its builder instance at launch (``runbooks/asg_rebake.py``
#: ``BUILDER_TAG``, value: the group's name); stop/image/terminate are limited to instances with it.
REBAKE_TAG = "org-patching:builder-for"

# --- Hub ------------------------------------------------------------------------------------
#: The service-managed StackSet that creates ``CHILD_DEPLOY_ROLE`` in every member account.
DEPLOY_ROLE_STACK_SET = "org-patching-deploy-role"
GLUE_DATABASE = "managed_instances_database"
ATHENA_WORKGROUP = "org-patching"
COMPLIANCE_KEY_ALIAS = "alias/org-patching-compliance"
EMERGENCY_STATE_MACHINE = "org-patching-emergency"
#: Step Functions vends its logs to a group under ``/aws/vendedlogs/``.
EMERGENCY_STATE_MACHINE_LOG_GROUP = f"/aws/vendedlogs/states/{EMERGENCY_STATE_MACHINE}"
EMERGENCY_VALIDATE_FUNCTION = "org-patching-emergency-validate"
#: The approval gate (``lambda_src/emergency_approval``) and its table: requesters, approvals, one answer per wave.
EMERGENCY_APPROVAL_FUNCTION = "org-patching-emergency-approval"
EMERGENCY_APPROVAL_TABLE = "org-patching-emergency-approvals"
#: Service Catalog portfolio and product of the self-service maintenance window.
CATALOG_PORTFOLIO = "Patching"
CATALOG_PRODUCT = "Patching maintenance window"
#: EventBridge source of the events org-patching emits.
EVENT_SOURCE = "org-patching"

# --- Patch events (issue 16: compliance events into the hub, failure alerts) ------------------
#: The hub's event bus every child account-region forwards its patch events to.
PATCH_EVENT_BUS = "org-patching-patch-events"
#: The one rule per child account-region that forwards them (several patterns in one rule).
PATCH_EVENT_FORWARDING_RULE = "org-patching-patch-events-to-hub"
#: Hub function writing every forwarded event into the compliance lake.
PATCH_EVENTS_FUNCTION = "org-patching-patch-events"
#: Hub function turning failures into one alert each.
FAILURE_ALERTS_FUNCTION = "org-patching-failure-alerts"
#: Hub rules on the patch-event bus (archive everything) and on both buses (failures).
PATCH_EVENTS_ARCHIVE_RULE = "org-patching-patch-events-archive"
FAILURE_ALERTS_RULE = "org-patching-failure-alerts"
#: Hub DynamoDB table of the failures already alerted (key: the execution id).
FAILURE_ALERTS_TABLE = "org-patching-failure-alerts"
#: Hub queue of the events the hub functions could not take (EventBridge target DLQ).
PATCH_EVENTS_DEAD_LETTER_QUEUE = "org-patching-patch-events-dlq"
#: Glue table over the events the hub writes (prefix ``PATCH_EVENTS_PREFIX`` of the events bucket).
PATCH_EVENTS_TABLE = "patch_events"
PATCH_EVENTS_PREFIX = "events"

#: The opt-in Inspector rule (components/hub/inspector_rule.py): its function and rule.
INSPECTOR_FINDINGS_FUNCTION = "org-patching-inspector-findings"
INSPECTOR_FINDINGS_RULE = "org-patching-inspector-findings"

# --- Pre-patch notices and the child functions' alarm (issue 16 items 1, 2) -------------------
#: Hub function that sends every window's team a notice before the window runs (periodic rule of the same name).
PRE_PATCH_NOTICES_FUNCTION = "org-patching-pre-patch-notices"
PRE_PATCH_NOTICES_RULE = "org-patching-pre-patch-notices"
#: The hub function's role (named: every child account's reader role trusts exactly this ARN).
PRE_PATCH_NOTICES_ROLE = "org-patching-pre-patch-notices"
#: Role in every child account the hub function assumes to read windows, their tasks and their resources.
NOTICE_READER_ROLE = "org-patching-notice-reader"
#: Hub SNS topics of the notices: ``<prefix>-<team>`` (``notices.topicPer: team``) or ``<prefix>-<account>-<region>``.
NOTICE_TOPIC_PREFIX = "org-patching-notices"
#: One metric-math alarm per child account (home region) over its functions' errors and dead letters.
CHILD_FUNCTIONS_ALARM = "org-patching-child-functions"


def notice_topic(*parts: str) -> str:
    """``org-patching-notices-payments`` or ``org-patching-notices-111111111111-eu-west-1``."""
    return "-".join((NOTICE_TOPIC_PREFIX, *parts))


# --- Change freeze (hub, shared with every child account) ----------------------------------
#: The organization's SSM Change Calendar (DEFAULT_OPEN; the freezes are its events). The runbooks read its
#: state through its ARN in the hub (``change_calendar_arn``), as a document shared with their account.
CHANGE_CALENDAR = "OrgPatching-ChangeFreeze"


def change_calendar_arn(partition: str, hub_region: str, hub_account: str) -> str:
    """The calendar's ARN (``GetCalendarState`` takes a shared calendar by ARN only)."""
    return f"arn:{partition}:ssm:{hub_region}:{hub_account}:document/{CHANGE_CALENDAR}"
