"""The SSM Automation execution role's trust and permissions: the widest role of a child account.

It runs the patching runbooks for the account's maintenance windows and for the hub's emergency
waves, including the ASG rebake (launch a builder instance, image it, new launch template
version, instance refresh). Every ``*`` below says why it cannot be narrower.
"""

from __future__ import annotations

import pulumi

from .. import naming
from ..contract import MAINTENANCE_WINDOW_TAG
from ..policy_documents import Document, Statement, allow
from .baseline_policies import AccountScope, service_trust


def automation_execution_trust(scope: AccountScope) -> Document:
    return service_trust(
        "ssm.amazonaws.com",
        scope.account_id,
        {
            # The hub's administration role, by exact ARN, and only while it is in our org.
            "Sid": "HubAutomationAdministration",
            "Effect": "Allow",
            "Principal": {"AWS": scope.hub.administration_role_arn},
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"aws:PrincipalOrgID": scope.org_id}},
        },
    )


def automation_execution(scope: AccountScope) -> list[Statement]:
    arn, account, runbook = scope.arn, scope.account_id, scope.runbooks
    return [
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
                # AMI ARNs carry no account (Service Authorization Reference, EC2 resource types:
                # arn:${Partition}:ec2:${Region}::image/${ImageId}); found by the IAM replay.
                f"{arn}:ec2:*::image/*",
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
            conditions={"StringLike": {f"aws:ResourceTag/{naming.REBAKE_TAG}": "*"}},
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
            [scope.asgs],
            sid="RefreshContractAsgs",
            conditions={"StringLike": {f"aws:ResourceTag/{MAINTENANCE_WINDOW_TAG}": "*_maintenance_window"}},
        ),
        # Only the instance role, only to EC2 (the intermediate instance's profile).
        allow(
            ["iam:PassRole"],
            [f"{scope.roles}/{naming.INSTANCE_ROLE}"],
            sid="PassInstanceRoleToEc2",
            conditions={"StringEquals": {"iam:PassedToService": "ec2.amazonaws.com"}},
        ),
        allow(
            ["lambda:InvokeFunction"],
            [f"{arn}:lambda:*:{account}:function:{naming.OVERRIDE_LIST_FUNCTION}"],
            sid="BuildInstallOverrideList",
        ),
        allow(["s3:GetObject"], [pulumi.Output.concat(scope.patch_lists, "/*")], sid="ReadInstallOverrideLists"),
        scope.key_use(),
    ]
