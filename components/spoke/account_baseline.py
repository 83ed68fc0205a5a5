"""``AccountBaseline``: the IAM every child account needs once (IAM is global, not per region).

Roles (names from :mod:`components.naming`, a contract with the hub, the runbooks and the
Service Catalog product):

* the patching instance role and instance profile ``InstanceProfileforPatching``;
* the SSM Automation execution role, assumed by the hub's automation administration role
  (emergency waves) and by SSM in this account (maintenance-window runbooks);
* the maintenance-window service role;
* one execution role per Lambda (tag remediation, window tagging, override lists);
* the Service Catalog launch role of the self-service maintenance-window product;
* the EventBridge role that forwards other regions' Config events to the account's home
  region, where the one tag-remediation function of the account runs.

Each role carries its permissions inline (``inline_policies``): role and policy are created in
one call, so no function or window ever sees the role without its permissions (the IAM
eventual-consistency race of a separate ``RolePolicy``), Pulumi removes inline policies added
out of band, and the account's IAM costs one resource per role (the resource budget). Every
``*`` below says why it cannot be narrower.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from .. import naming
from ..contract import MAINTENANCE_WINDOW_TAG, MANAGED_TAG_KEYS, managed_tag_condition
from ..policy_documents import Document, Statement, allow, document, to_json

SSM_CORE_POLICY = "AmazonSSMManagedInstanceCore"


@dataclass
class HubData:
    """The hub's outputs a spoke needs (Outputs from the central stack's StackReference)."""

    key_arn: pulumi.Input[str]
    inventory_bucket: pulumi.Input[str]
    inventory_prefix: pulumi.Input[str]
    patch_log_bucket: pulumi.Input[str]
    patch_list_bucket: pulumi.Input[str]
    #: Region of the hub's buckets (resource data sync needs it).
    region: str
    administration_role_arn: pulumi.Input[str]


@dataclass
class AccountBaselineArgs:
    account_id: str
    org_id: str
    partition: str
    #: Where the account's own functions run (the tag-remediation events are forwarded there).
    home_region: str
    hub: HubData


def _service_trust(service: str, account_id: str, *extra: Statement) -> Document:
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


def _logs(arn: str, account_id: str, function_name: str) -> Statement:
    """Write to the function's log groups; ``*`` region: the function runs in several regions
    (window tagging) or its group is shared per region (``/org-patching/functions``)."""
    return allow(
        ["logs:CreateLogStream", "logs:PutLogEvents"],
        [
            f"{arn}:logs:*:{account_id}:log-group:/aws/lambda/{function_name}:*",
            f"{arn}:logs:*:{account_id}:log-group:{FUNCTION_LOG_GROUP}:*",
        ],
        sid="WriteOwnLogs",
    )


#: One log group per region for every org-patching function there (``logging_config``).
FUNCTION_LOG_GROUP = "/org-patching/functions"


class AccountBaseline(pulumi.ComponentResource):
    instance_role: aws.iam.Role
    instance_profile: aws.iam.InstanceProfile
    automation_execution_role: aws.iam.Role
    maintenance_window_role: aws.iam.Role
    tag_remediation_role: aws.iam.Role
    window_tagging_role: aws.iam.Role
    override_list_role: aws.iam.Role
    catalog_launch_role: aws.iam.Role
    event_forwarding_role: aws.iam.Role

    def __init__(self, name: str, args: AccountBaselineArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("org-patching:spoke:AccountBaseline", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        account, arn, hub = args.account_id, f"arn:{args.partition}", args.hub
        role_arn = f"{arn}:iam::{account}:role"
        key_use = allow(["kms:GenerateDataKey", "kms:Decrypt"], [hub.key_arn], sid="UseHubKeyThroughS3")
        patch_lists = pulumi.Output.concat(f"{arn}:s3:::", hub.patch_list_bucket)

        def role(
            suffix: str, role_name: str, description: str, trust: Document, *statements: Statement
        ) -> aws.iam.Role:
            return aws.iam.Role(
                f"{name}-{suffix}",
                name=role_name,
                description=f"org-patching: {description}",
                assume_role_policy=to_json(trust),
                inline_policies=[
                    aws.iam.RoleInlinePolicyArgs(name="org-patching", policy=to_json(document(*statements)))
                ],
                max_session_duration=3600,
                opts=child,
            )

        # --- instance role + profile -----------------------------------------------------------
        self.instance_role = role(
            "instance",
            naming.INSTANCE_ROLE,
            "EC2 instances patched by SSM (profile InstanceProfileforPatching)",
            # EC2 does not send aws:SourceAccount when an instance assumes its role.
            document({"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}),
            allow(
                ["s3:PutObject"],
                [pulumi.Output.concat(f"{arn}:s3:::", hub.patch_log_bucket, f"/{account}/*")],
                sid="WritePatchLogsUnderOwnAccount",
            ),
            allow(["s3:GetObject"], [pulumi.Output.concat(patch_lists, "/*")], sid="ReadPatchLists"),
            key_use,
        )
        self.instance_core = aws.iam.RolePolicyAttachment(
            f"{name}-instance-core",
            role=self.instance_role.name,
            policy_arn=f"{arn}:iam::aws:policy/{SSM_CORE_POLICY}",
            opts=child,
        )
        self.instance_profile = aws.iam.InstanceProfile(
            f"{name}-instance-profile",
            name=naming.INSTANCE_PROFILE,
            role=self.instance_role.name,
            opts=child,
        )

        # --- SSM Automation execution role ---------------------------------------------------------
        runbook = f"{arn}:ssm:*:{account}:automation-definition"
        asg_arn = f"{arn}:autoscaling:*:{account}:autoScalingGroup:*:autoScalingGroupName/*"
        in_contract = {"StringLike": {f"aws:ResourceTag/{MAINTENANCE_WINDOW_TAG}": "*_maintenance_window"}}
        self.automation_execution_role = role(
            "automation-execution",
            naming.AUTOMATION_EXECUTION_ROLE,
            "runs the patching runbooks in this account (maintenance windows, hub emergency waves)",
            _service_trust(
                "ssm.amazonaws.com",
                account,
                {
                    # The hub's administration role, by exact ARN, and only while it is in our org.
                    "Sid": "HubAutomationAdministration",
                    "Effect": "Allow",
                    "Principal": {"AWS": hub.administration_role_arn},
                    "Action": "sts:AssumeRole",
                    "Condition": {"StringEquals": {"aws:PrincipalOrgID": args.org_id}},
                },
            ),
            # Instances are chosen at run time by tag; AWS-RunPatchBaseline is AWS-owned (no account).
            allow(
                ["ssm:SendCommand"],
                [f"{arn}:ssm:*::document/AWS-RunPatchBaseline", f"{arn}:ec2:*:{account}:instance/*"],
                sid="RunPatchBaseline",
            ),
            # Command status and managed-instance reads have no resource-level permissions.
            allow(
                [
                    "ssm:ListCommands",
                    "ssm:ListCommandInvocations",
                    "ssm:GetCommandInvocation",
                    "ssm:DescribeInstanceInformation",
                ],
                "*",
                sid="ReadCommandResults",
            ),
            allow(
                ["ssm:StartAutomationExecution"],
                [f"{runbook}/{naming.RUNBOOK_ASG}:*", f"{runbook}/{naming.RUNBOOK_STANDALONE}:*"],
                sid="StartOwnRunbooks",
            ),
            # Executions are named by SSM at start; only this account's.
            allow(
                ["ssm:GetAutomationExecution", "ssm:DescribeAutomationStepExecutions"],
                [f"{arn}:ssm:*:{account}:automation-execution/*"],
                sid="FollowOwnRunbooks",
            ),
            # EC2/Auto Scaling describes have no resource-level permissions.
            allow(
                [
                    "ec2:DescribeInstances",
                    "ec2:DescribeInstanceStatus",
                    "ec2:DescribeImages",
                    "ec2:DescribeLaunchTemplates",
                    "ec2:DescribeLaunchTemplateVersions",
                    "ec2:DescribeSubnets",
                    "ec2:DescribeSecurityGroups",
                    "autoscaling:DescribeAutoScalingGroups",
                    "autoscaling:DescribeInstanceRefreshes",
                ],
                "*",
                sid="DescribeForRebake",
            ),
            # A launch template may name its AMI through an SSM parameter (resolve:ssm:...): AWS's
            # public ones (/aws/service/...) or the account's own, whichever the template uses.
            allow(
                ["ssm:GetParameter"],
                [f"{arn}:ssm:*::parameter/aws/service/*", f"{arn}:ssm:*:{account}:parameter/*"],
                sid="ResolveAmiParameters",
            ),
            # The intermediate instance: launched from the ASG's launch template in its subnets;
            # ids are not known before the run. Only inside this account.
            allow(
                ["ec2:RunInstances"],
                [
                    f"{arn}:ec2:*:{account}:instance/*",
                    f"{arn}:ec2:*:{account}:volume/*",
                    f"{arn}:ec2:*:{account}:network-interface/*",
                    f"{arn}:ec2:*:{account}:subnet/*",
                    f"{arn}:ec2:*:{account}:security-group/*",
                    f"{arn}:ec2:*:{account}:launch-template/*",
                    f"{arn}:ec2:*:{account}:key-pair/*",
                    f"{arn}:ec2:*::image/*",
                    f"{arn}:ec2:*:{account}:image/*",
                ],
                sid="LaunchIntermediateInstance",
            ),
            # Tags only while creating the instance/AMI/snapshot the rebake owns.
            allow(
                ["ec2:CreateTags"],
                [
                    f"{arn}:ec2:*:{account}:instance/*",
                    f"{arn}:ec2:*:{account}:volume/*",
                    f"{arn}:ec2:*:{account}:image/*",
                    f"{arn}:ec2:*::snapshot/*",
                    f"{arn}:ec2:*:{account}:snapshot/*",
                ],
                sid="TagOnCreate",
                conditions={"StringEquals": {"ec2:CreateAction": ["RunInstances", "CreateImage"]}},
            ),
            # Stop/terminate/image only instances that carry the rebake tag it set at launch.
            allow(
                ["ec2:StopInstances", "ec2:TerminateInstances", "ec2:CreateImage"],
                [f"{arn}:ec2:*:{account}:instance/*"],
                sid="DriveIntermediateInstance",
                conditions={"StringLike": {f"aws:ResourceTag/{REBAKE_TAG}": "*"}},
            ),
            allow(
                ["ec2:CreateImage"],
                [f"{arn}:ec2:*::image/*", f"{arn}:ec2:*::snapshot/*", f"{arn}:ec2:*:{account}:snapshot/*"],
                sid="CreatePatchedImage",
            ),
            # New launch template versions only for templates of ASGs in the patching contract
            # (the template ids are the ASGs' own, found at run time).
            allow(
                ["ec2:CreateLaunchTemplateVersion", "ec2:ModifyLaunchTemplate"],
                [f"{arn}:ec2:*:{account}:launch-template/*"],
                sid="NewLaunchTemplateVersion",
            ),
            allow(
                [
                    "autoscaling:StartInstanceRefresh",
                    "autoscaling:CancelInstanceRefresh",
                    "autoscaling:RollbackInstanceRefresh",
                    "autoscaling:UpdateAutoScalingGroup",
                ],
                [asg_arn],
                sid="RefreshContractAsgs",
                conditions=in_contract,
            ),
            # Only the instance role, only to EC2 (the intermediate instance's profile).
            allow(
                ["iam:PassRole"],
                [f"{role_arn}/{naming.INSTANCE_ROLE}"],
                sid="PassInstanceRoleToEc2",
                conditions={"StringEquals": {"iam:PassedToService": "ec2.amazonaws.com"}},
            ),
            allow(
                ["lambda:InvokeFunction"],
                [f"{arn}:lambda:*:{account}:function:{naming.OVERRIDE_LIST_FUNCTION}"],
                sid="BuildInstallOverrideList",
            ),
            allow(["s3:GetObject"], [pulumi.Output.concat(patch_lists, "/*")], sid="ReadInstallOverrideLists"),
            key_use,
        )

        # --- maintenance-window service role -------------------------------------------------------
        self.maintenance_window_role = role(
            "maintenance-window",
            naming.MAINTENANCE_WINDOW_ROLE,
            "maintenance windows start the patching runbooks",
            _service_trust("ssm.amazonaws.com", account),
            allow(
                ["ssm:StartAutomationExecution"],
                [f"{runbook}/{naming.RUNBOOK_STANDALONE}:*", f"{runbook}/{naming.RUNBOOK_ASG}:*"],
                sid="StartRunbooks",
            ),
            allow(
                ["ssm:GetAutomationExecution"],
                [f"{arn}:ssm:*:{account}:automation-execution/*"],
                sid="FollowRunbooks",
            ),
            allow(
                ["iam:PassRole"],
                [f"{role_arn}/{naming.AUTOMATION_EXECUTION_ROLE}"],
                sid="PassAutomationRole",
                conditions={"StringEquals": {"iam:PassedToService": "ssm.amazonaws.com"}},
            ),
        )

        # --- Lambda roles ------------------------------------------------------------------------
        instances = f"{arn}:ec2:*:{account}:instance/*"
        tagging: list[Statement] = [
            # Describes have no resource-level permissions.
            allow(
                ["ec2:DescribeInstances", "autoscaling:DescribeAutoScalingGroups", "ssm:DescribeMaintenanceWindows"],
                "*",
                sid="ReadFleet",
            ),
            # Any instance/ASG of this account may need the contract's tags, but only those two keys.
            allow(
                ["ec2:CreateTags"], [instances], sid="WriteContractTagsOnInstances", conditions=managed_tag_condition()
            ),
            allow(
                ["autoscaling:CreateOrUpdateTags"],
                [asg_arn],
                sid="WriteContractTagsOnAsgs",
                conditions=managed_tag_condition(),
            ),
        ]
        self.tag_remediation_role = role(
            "tag-remediation",
            naming.TAG_REMEDIATION_ROLE,
            "tag remediation function (Config events and the daily sweep, every region of the account)",
            _service_trust("lambda.amazonaws.com", account),
            *tagging,
            _logs(arn, account, naming.TAG_REMEDIATION_FUNCTION),
            allow(
                ["sqs:SendMessage"],
                [f"{arn}:sqs:{args.home_region}:{account}:{DEAD_LETTER_QUEUE}"],
                sid="DeadLetters",
            ),
        )
        self.window_tagging_role = role(
            "window-tagging",
            naming.WINDOW_TAGGING_ROLE,
            "window tagging function (custom resource of the self-service window product)",
            _service_trust("lambda.amazonaws.com", account),
            *tagging,
            _logs(arn, account, naming.WINDOW_TAGGING_FUNCTION),
        )
        self.override_list_role = role(
            "override-list",
            naming.OVERRIDE_LIST_ROLE,
            "override list function (missing patches minus a team's exclusion list)",
            _service_trust("lambda.amazonaws.com", account),
            # DescribeInstancePatches has no resource-level permission for a list of instances.
            allow(["ssm:DescribeInstancePatches"], "*", sid="ReadMissingPatches"),
            allow(["s3:GetObject"], [pulumi.Output.concat(patch_lists, "/*")], sid="ReadExclusionLists"),
            allow(["s3:PutObject"], [pulumi.Output.concat(patch_lists, f"/{account}/*")], sid="WriteOwnLists"),
            key_use,
            _logs(arn, account, naming.OVERRIDE_LIST_FUNCTION),
        )

        # --- Service Catalog launch role ---------------------------------------------------------
        windows = f"{arn}:ssm:*:{account}:maintenancewindow/*"
        self.catalog_launch_role = role(
            "catalog-launch",
            naming.CATALOG_LAUNCH_ROLE,
            "launch constraint of the self-service maintenance-window product",
            _service_trust("servicecatalog.amazonaws.com", account),
            # Window ids are generated by SSM, names are not part of the ARN: this account's windows.
            allow(
                [
                    "ssm:CreateMaintenanceWindow",
                    "ssm:UpdateMaintenanceWindow",
                    "ssm:DeleteMaintenanceWindow",
                    "ssm:GetMaintenanceWindow",
                    "ssm:RegisterTargetWithMaintenanceWindow",
                    "ssm:DeregisterTargetFromMaintenanceWindow",
                    "ssm:UpdateMaintenanceWindowTarget",
                    "ssm:RegisterTaskWithMaintenanceWindow",
                    "ssm:DeregisterTaskFromMaintenanceWindow",
                    "ssm:UpdateMaintenanceWindowTask",
                    "ssm:GetMaintenanceWindowTask",
                    "ssm:AddTagsToResource",
                    "ssm:RemoveTagsFromResource",
                ],
                [windows],
                sid="ManageOwnWindows",
            ),
            # List/describe calls have no resource-level permissions.
            allow(
                [
                    "ssm:DescribeMaintenanceWindows",
                    "ssm:DescribeMaintenanceWindowTargets",
                    "ssm:DescribeMaintenanceWindowTasks",
                    "cloudformation:ValidateTemplate",
                ],
                "*",
                sid="DescribeWindows",
            ),
            allow(
                ["iam:PassRole"],
                [f"{role_arn}/{naming.MAINTENANCE_WINDOW_ROLE}"],
                sid="PassWindowRole",
                conditions={"StringEquals": {"iam:PassedToService": "ssm.amazonaws.com"}},
            ),
            allow(
                ["lambda:InvokeFunction"],
                [f"{arn}:lambda:*:{account}:function:{naming.WINDOW_TAGGING_FUNCTION}"],
                sid="CallWindowTagging",
            ),
            # Service Catalog names the product's stacks SC-<account>-pp-<id>.
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
            # Service Catalog tagged for provisioning. (The policy the hub documents in
            # self_service_catalog.py, plus this and ValidateTemplate, which has no resource ARN.)
            allow(
                ["s3:GetObject"],
                "*",
                sid="ReadProductTemplate",
                conditions={"StringEquals": {"s3:ExistingObjectTag/servicecatalog:provisioning": "true"}},
            ),
        )

        # --- EventBridge: forward Config events to the home region --------------------------------
        self.event_forwarding_role = role(
            "event-forwarding",
            EVENT_FORWARDING_ROLE,
            "forwards Config compliance events to the account's home region",
            _service_trust("events.amazonaws.com", account),
            allow(
                ["events:PutEvents"],
                [f"{arn}:events:{args.home_region}:{account}:event-bus/default"],
                sid="ToHomeRegionBus",
            ),
        )
        self.register_outputs(
            {
                "instanceProfileName": self.instance_profile.name,
                "instanceProfileArn": self.instance_profile.arn,
                "automationExecutionRoleArn": self.automation_execution_role.arn,
            }
        )

    def role_arns(self) -> dict[str, Any]:
        return {
            "automationExecution": self.automation_execution_role.arn,
            "maintenanceWindow": self.maintenance_window_role.arn,
            "tagRemediation": self.tag_remediation_role.arn,
            "windowTagging": self.window_tagging_role.arn,
            "overrideList": self.override_list_role.arn,
            "catalogLaunch": self.catalog_launch_role.arn,
            "eventForwarding": self.event_forwarding_role.arn,
        }


#: Role EventBridge uses to put other regions' Config events on the home region's bus.
EVENT_FORWARDING_ROLE = "org-patching-event-forwarding"
#: Dead-letter queue of the tag-remediation function (home region of each account).
DEAD_LETTER_QUEUE = "org-patching-tag-remediation-dlq"
#: Tag the ASG rebake puts on its builder instance at launch (``runbooks/asg_rebake.py``
#: ``BUILDER_TAG``, value: the group's name); stop/image/terminate are limited to instances with it.
REBAKE_TAG = "org-patching:builder-for"
__all__ = ["MANAGED_TAG_KEYS", "AccountBaseline", "AccountBaselineArgs", "HubData"]
