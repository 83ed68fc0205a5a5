"""What each role of ``AccountBaseline`` may do and who may assume it, as plain documents.

One function per role returns its trust policy or its permissions (values may be Pulumi
Outputs: the hub's key and buckets). Every ``*`` below says why it cannot be narrower.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from .. import naming
from ..contract import EXEMPTION_TAGS, EXEMPTION_VALUE, managed_tag_condition
from ..policy_documents import Document, Statement, allow, document
from ..shared_runbooks import shared_runbook_definitions
from .hub_data import HubData


@dataclass(frozen=True)
class AccountScope:
    """The account the roles live in, and the hub resources they use."""

    account_id: str
    org_id: str
    partition: str
    #: Where the account's own functions run (the tag-remediation events are forwarded there).
    home_region: str
    hub: HubData

    @property
    def arn(self) -> str:
        """``arn:<partition>``: the start of every ARN below."""
        return f"arn:{self.partition}"

    @property
    def roles(self) -> str:
        """The ARN prefix of this account's roles."""
        return f"{self.arn}:iam::{self.account_id}:role"

    @property
    def runbooks(self) -> str:
        """The ARN prefix of this account's Automation runbooks (every region)."""
        return f"{self.arn}:ssm:*:{self.account_id}:automation-definition"

    @property
    def asgs(self) -> str:
        """Every Auto Scaling group of this account (the condition narrows it to the contract's)."""
        return f"{self.arn}:autoscaling:*:{self.account_id}:autoScalingGroup:*:autoScalingGroupName/*"

    @property
    def patch_lists(self) -> pulumi.Output[str]:
        """The hub's patch-lists bucket ARN."""
        return pulumi.Output.concat(f"{self.arn}:s3:::", self.hub.patch_list_bucket)

    @property
    def hub_bus(self) -> pulumi.Output[str]:
        """``arn:<partition>:events:<hub region>:<central account>:event-bus/org-patching-patch-events``."""
        return pulumi.Output.concat(
            f"{self.arn}:events:", self.hub.region, f":{self.hub.account_id}:event-bus/{naming.PATCH_EVENT_BUS}"
        )

    def key_use(self) -> Statement:
        """Use the hub's key, which the buckets' SSE-KMS needs for every read and write."""
        return allow(["kms:GenerateDataKey", "kms:Decrypt"], [self.hub.key_arn], sid="UseHubKeyThroughS3")


def service_trust(service: str, account_id: str, *extra: Statement) -> Document:
    """Trust one service, only on behalf of this account (confused-deputy guard)."""
    return document(
        {
            "Effect": "Allow",
            "Principal": {"Service": service},
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"aws:SourceAccount": account_id}},
        },
        *extra,
    )


def function_logs(scope: AccountScope, function_name: str) -> Statement:
    """Write to the function's log groups; ``*`` region: the function runs in several regions
    (window tagging) or its group is shared per region (``/org-patching/functions``)."""
    arn, account = scope.arn, scope.account_id
    return allow(
        ["logs:CreateLogStream", "logs:PutLogEvents"],
        [
            f"{arn}:logs:*:{account}:log-group:{naming.lambda_log_group(function_name)}:*",
            f"{arn}:logs:*:{account}:log-group:{naming.FUNCTION_LOG_GROUP}:*",
        ],
        sid="WriteOwnLogs",
    )


# --- instance role --------------------------------------------------------------------------------


def instance_trust(default_host_management: bool = False) -> Document:
    """EC2 (the instance profile's role) and, with Default Host Management Configuration, SSM: DHMC gives instances
    without a profile this role's credentials (``components/spoke/host_management.py``), so they can write their
    command output and read the org's baselines like every other patched instance."""
    # EC2 does not send aws:SourceAccount when an instance assumes its role.
    statements = [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]
    if default_host_management:
        # AWS's documented DHMC trust, without a source condition: the service setting names a role of its own
        # account only (SettingValue is a role name), so no other account's SSM can be made to use this one.
        statements.append(
            {
                "Sid": "DefaultHostManagement",
                "Effect": "Allow",
                "Principal": {"Service": "ssm.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        )
    return document(*statements)


def instance(scope: AccountScope) -> list[Statement]:
    return [
        allow(
            ["s3:PutObject"],
            [pulumi.Output.concat(f"{scope.arn}:s3:::", scope.hub.patch_log_bucket, f"/{scope.account_id}/*")],
            sid="WritePatchLogsUnderOwnAccount",
        ),
        allow(
            ["s3:GetObject"], [pulumi.Output.concat(scope.patch_lists, f"/{scope.account_id}/*")], sid="ReadPatchLists"
        ),
        scope.key_use(),
    ]


# --- maintenance-window service role ---------------------------------------------------------------


def maintenance_window(scope: AccountScope) -> list[Statement]:
    return [
        # The windows run the hub's shared copies by ARN (components/shared_runbooks.py): StartAutomationExecution
        # is authorised on the owner's automation-definition (Service Authorization Reference, Systems Manager).
        allow(
            ["ssm:StartAutomationExecution"],
            shared_runbook_definitions(scope.partition, scope.hub.account_id),
            sid="StartRunbooks",
        ),
        allow(
            ["ssm:GetAutomationExecution"],
            [f"{scope.arn}:ssm:*:{scope.account_id}:automation-execution/*"],
            sid="FollowRunbooks",
        ),
        allow(
            ["iam:PassRole"],
            [f"{scope.roles}/{naming.AUTOMATION_EXECUTION_ROLE}"],
            sid="PassAutomationRole",
            conditions={"StringEquals": {"iam:PassedToService": "ssm.amazonaws.com"}},
        ),
    ]


# --- Lambda roles ------------------------------------------------------------------------------------


def tagging(scope: AccountScope) -> list[Statement]:
    """What both tag-writing functions (tag remediation, window tagging) may do."""
    return [
        # Describes have no resource-level permissions.
        allow(
            ["ec2:DescribeInstances", "autoscaling:DescribeAutoScalingGroups", "ssm:DescribeMaintenanceWindows"],
            "*",
            sid="ReadFleet",
        ),
        # Any instance/ASG of this account may need the contract's tags, but only those two keys.
        allow(
            ["ec2:CreateTags"],
            [f"{scope.arn}:ec2:*:{scope.account_id}:instance/*"],
            sid="WriteContractTagsOnInstances",
            conditions=managed_tag_condition(),
        ),
        allow(
            ["autoscaling:CreateOrUpdateTags"],
            [scope.asgs],
            sid="WriteContractTagsOnAsgs",
            conditions=managed_tag_condition(),
        ),
    ]


def exempt_untagging(scope: AccountScope) -> list[Statement]:
    """Delete the managed keys, and only from exempt resources (issue 13 item 5): one statement per
    exemption key because conditions on different keys are ANDed. ``ec2:DeleteTags`` and
    ``autoscaling:DeleteTags`` take ``aws:ResourceTag/${TagKey}`` and ``aws:TagKeys`` (Service
    Authorization Reference: Amazon EC2, Amazon EC2 Auto Scaling)."""
    statements: list[Statement] = []
    for position, key in enumerate(EXEMPTION_TAGS):
        exempt = {**managed_tag_condition(), "StringEqualsIgnoreCase": {f"aws:ResourceTag/{key}": EXEMPTION_VALUE}}
        statements.append(
            allow(
                ["ec2:DeleteTags"],
                [f"{scope.arn}:ec2:*:{scope.account_id}:instance/*"],
                sid=f"UntagExemptInstances{position}",
                conditions=exempt,
            )
        )
        statements.append(
            allow(["autoscaling:DeleteTags"], [scope.asgs], sid=f"UntagExemptAsgs{position}", conditions=exempt)
        )
    return statements


def tag_remediation(scope: AccountScope) -> list[Statement]:
    return [
        *tagging(scope),
        *exempt_untagging(scope),
        function_logs(scope, naming.TAG_REMEDIATION_FUNCTION),
        # A sweep short of time starts its next invocation where it stopped (lambda_shared/sweep_pages.py): this
        # function only, unqualified, in the home region where it runs (SAR: InvokeFunction acts on function*,
        # arn:${Partition}:lambda:${Region}:${Account}:function:${FunctionName}).
        allow(
            ["lambda:InvokeFunction"],
            [f"{scope.arn}:lambda:{scope.home_region}:{scope.account_id}:function:{naming.TAG_REMEDIATION_FUNCTION}"],
            sid="ResumeOwnSweep",
        ),
        allow(
            ["sqs:SendMessage"],
            [f"{scope.arn}:sqs:{scope.home_region}:{scope.account_id}:{naming.DEAD_LETTER_QUEUE}"],
            sid="DeadLetters",
        ),
    ]


def window_tagging(scope: AccountScope) -> list[Statement]:
    arn, account = scope.arn, scope.account_id
    return [
        *tagging(scope),
        function_logs(scope, naming.WINDOW_TAGGING_FUNCTION),
        # The product's window must exist and carry the product's name (lambda_src/window_tagging/app.py).
        allow(["ssm:GetMaintenanceWindow"], [f"{arn}:ssm:*:{account}:maintenancewindow/*"], sid="CheckProductWindow"),
        # One window per name: the claim parameters (lambda_src/lambda_shared/window_claims.py), nothing else.
        allow(
            ["ssm:PutParameter", "ssm:GetParameter", "ssm:DeleteParameter"],
            [f"{arn}:ssm:*:{account}:parameter{naming.WINDOW_CLAIM_PREFIX}*"],
            sid="ClaimWindowNames",
        ),
    ]


def override_list(scope: AccountScope) -> list[Statement]:
    return [
        # One instance per call, this account's only (SAR: resource types instance and managed-instance).
        allow(
            ["ssm:DescribeInstancePatches"],
            [
                f"{scope.arn}:ec2:*:{scope.account_id}:instance/*",
                f"{scope.arn}:ssm:*:{scope.account_id}:managed-instance/*",
            ],
            sid="ReadMissingPatches",
        ),
        # Exclusion lists live under the account's own prefix: the hub's bucket policy serves no other.
        allow(
            ["s3:GetObject"],
            [pulumi.Output.concat(scope.patch_lists, f"/{scope.account_id}/*")],
            sid="ReadExclusionLists",
        ),
        allow(
            ["s3:PutObject"],
            [pulumi.Output.concat(scope.patch_lists, f"/{scope.account_id}/*")],
            sid="WriteOwnLists",
        ),
        scope.key_use(),
        function_logs(scope, naming.OVERRIDE_LIST_FUNCTION),
    ]


# --- Service Catalog launch role ---------------------------------------------------------------------


def catalog_launch(scope: AccountScope) -> list[Statement]:
    """What Service Catalog (and CloudFormation with its credentials) does when a team launches,
    updates or terminates the maintenance-window product in this account.

    The calls: Service Catalog's own CloudFormation calls on the product's stack (AWS's documented
    launch-constraint role), then each resource's handler permissions from the CloudFormation
    resource schemas (``handlers`` of AWS::SSM::MaintenanceWindow/-Target/-Task, which cfn-lint ships),
    and the custom resource's invocation. Resource types per action: the Service Authorization
    Reference (parliament's ``iam_definition.json``). ``tests/spoke/test_catalog_launch_policy.py``
    replays every one of those calls against this policy.
    """
    arn, account = scope.arn, scope.account_id
    windows = f"{arn}:ssm:*:{account}:maintenancewindow/*"
    return [
        # SAR: these act on a window (maintenancewindow*), and CloudFormation's read of a window
        # lists its tags. Window ids are generated by SSM, so this account's windows.
        allow(
            [
                "ssm:UpdateMaintenanceWindow",
                "ssm:DeleteMaintenanceWindow",
                "ssm:GetMaintenanceWindow",
                "ssm:RegisterTargetWithMaintenanceWindow",
                "ssm:DescribeMaintenanceWindowTargets",
                "ssm:RegisterTaskWithMaintenanceWindow",
                "ssm:GetMaintenanceWindowTask",
                "ssm:AddTagsToResource",
                "ssm:RemoveTagsFromResource",
                "ssm:ListTagsForResource",
            ],
            [windows],
            sid="ManageOwnWindows",
        ),
        # SAR: updating or deregistering a target/task needs the window AND the windowtarget /
        # windowtask ARN (both resource types are required).
        allow(
            [
                "ssm:UpdateMaintenanceWindowTarget",
                "ssm:DeregisterTargetFromMaintenanceWindow",
                "ssm:UpdateMaintenanceWindowTask",
                "ssm:DeregisterTaskFromMaintenanceWindow",
            ],
            [windows, f"{arn}:ssm:*:{account}:windowtarget/*", f"{arn}:ssm:*:{account}:windowtask/*"],
            sid="ManageOwnWindowTargetsAndTasks",
        ),
        # SAR: no resource type for these (CreateMaintenanceWindow creates the id, ValidateTemplate and
        # GetTemplateSummary with a TemplateURL name no stack): only "*" matches.
        allow(
            [
                "ssm:CreateMaintenanceWindow",
                "cloudformation:ValidateTemplate",
                "cloudformation:GetTemplateSummary",
            ],
            "*",
            sid="ActionsWithoutResourceType",
        ),
        allow(
            ["iam:PassRole"],
            [f"{scope.roles}/{naming.MAINTENANCE_WINDOW_ROLE}"],
            sid="PassWindowRole",
            conditions={"StringEquals": {"iam:PassedToService": "ssm.amazonaws.com"}},
        ),
        allow(
            ["lambda:InvokeFunction"],
            [f"{arn}:lambda:*:{account}:function:{naming.WINDOW_TAGGING_FUNCTION}"],
            sid="CallWindowTagging",
        ),
        # Service Catalog names the product's stacks SC-<account>-pp-<id>; launch, update AND
        # termination (DeleteStack) all run with this role.
        allow(
            [
                "cloudformation:CreateStack",
                "cloudformation:UpdateStack",
                "cloudformation:DeleteStack",
                "cloudformation:DescribeStacks",
                "cloudformation:DescribeStackEvents",
                "cloudformation:GetTemplateSummary",
                "cloudformation:SetStackPolicy",
            ],
            [f"{arn}:cloudformation:*:{account}:stack/SC-*"],
            sid="ProductStacks",
        ),
        # At launch CloudFormation reads Service Catalog's internal copy of the template (bucket
        # name not ours to know); AWS's documented launch-constraint statement: only objects
        # Service Catalog tagged for provisioning.
        allow(
            ["s3:GetObject"],
            "*",
            sid="ReadProductTemplate",
            conditions={"StringEquals": {"s3:ExistingObjectTag/servicecatalog:provisioning": "true"}},
        ),
    ]


# --- EventBridge: forward Config events to the home region -------------------------------------------


def event_forwarding(scope: AccountScope) -> list[Statement]:
    """EventBridge forwards Config events to the home region's default bus, and the account's patch events to the
    hub's bus (``components/spoke/event_forwarding.py``). Service Authorization Reference, Amazon EventBridge:
    PutEvents on an ``event-bus`` ARN."""
    return [
        allow(
            ["events:PutEvents"],
            [f"{scope.arn}:events:{scope.home_region}:{scope.account_id}:event-bus/default"],
            sid="ToHomeRegionBus",
        ),
        allow(["events:PutEvents"], [scope.hub_bus], sid="ToHubPatchEventBus"),
    ]
