"""The SSM Automation execution role's trust and permissions: the widest role of a child account.

It runs the patching runbooks for the account's maintenance windows and for the hub's emergency
waves, including the ASG rebake (launch a builder instance, image it, new launch template
version, instance refresh). Every ``*`` below says why it cannot be narrower.

Escalation guard (issue 13; docs/security.md): every write is gated on the patching contract. Launch
templates and groups are touched only when they carry a ``Patch Group`` of the contract
(``aws:ResourceTag``); what the rebake creates carries its markers from the request (``aws:RequestTag``);
the builder runs only with the patching instance profile; ``iam:PassRole`` reaches only the patching
instance role and app-owned roles under ``APP_ROLE_PATH`` (the refresh's launch-template check passes the
template's role); SSM parameters are read only under ``/aws/service/`` and ``/org-patching/``; and
``SendCommand``/``StartInstanceRefresh`` are denied on exempt resources. Every action is one the runbooks
call (``components/runbooks/asg_rebake.py``, ``patch_asgs.yaml``, ``patch_instances.yaml``); actions and
resource types as the Service Authorization Reference (parliament's ``iam_definition.json``) lists them.
"""

from __future__ import annotations

from typing import Any

from .. import naming
from ..contract import EXEMPTION_TAGS, EXEMPTION_VALUE, PATCH_GROUP_TAG, PATCH_GROUPS
from ..policy_documents import Document, Statement, allow
from ..runbooks.asg_rebake import APP_ROLE_PATH, ASG_TAG, BUILDER_TAG, LOCK_PREFIX, PARAMETER_PREFIX
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


def _exempt(key: str) -> dict[str, dict[str, Any]]:
    return {"StringEqualsIgnoreCase": {f"aws:ResourceTag/{key}": EXEMPTION_VALUE}}


def automation_execution(scope: AccountScope) -> list[Statement]:
    arn, account, runbook = scope.arn, scope.account_id, scope.runbooks
    in_contract = {"StringEquals": {f"aws:ResourceTag/{PATCH_GROUP_TAG}": list(PATCH_GROUPS)}}
    profile = f"{arn}:iam::{account}:instance-profile/{naming.INSTANCE_PROFILE}"
    statements: list[Statement] = [
        # Instances are chosen at run time by tag; AWS-RunPatchBaseline is AWS-owned (no account).
        allow(
            ["ssm:SendCommand"],
            [f"{arn}:ssm:*::document/AWS-RunPatchBaseline", f"{arn}:ec2:*:{account}:instance/*"],
            sid="RunPatchBaseline",
        ),
        # Command status and managed-instance reads have no resource-level permissions (SAR: no resource type).
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
        # Child executions of the hub's emergency waves run the account's own runbooks.
        allow(
            ["ssm:StartAutomationExecution"],
            [f"{runbook}/{naming.RUNBOOK_ASG}:*", f"{runbook}/{naming.RUNBOOK_STANDALONE}:*"],
            sid="StartOwnRunbooks",
        ),
        # A window that passes no BaselineOverride gets the account's from this role's own tag
        # (components/runbooks/baseline_choice.py; Service Authorization Reference, IAM: ListRoleTags on a role).
        allow(
            ["iam:ListRoleTags"],
            [f"{scope.roles}/{naming.AUTOMATION_EXECUTION_ROLE}"],
            sid="ReadOwnBaselineOverrideTag",
        ),
        # Executions are named by SSM at start; only this account's. The rebake reads the execution that holds a
        # group's lock (is it still running?).
        allow(
            ["ssm:GetAutomationExecution", "ssm:DescribeAutomationStepExecutions"],
            [f"{arn}:ssm:*:{account}:automation-execution/*"],
            sid="FollowOwnRunbooks",
        ),
        # EC2/Auto Scaling describes have no resource-level permissions (SAR).
        allow(
            [
                "ec2:DescribeInstances",
                "ec2:DescribeImages",
                "ec2:DescribeLaunchTemplates",
                "ec2:DescribeLaunchTemplateVersions",
                "autoscaling:DescribeAutoScalingGroups",
                "autoscaling:DescribeInstanceRefreshes",
            ],
            "*",
            sid="DescribeForRebake",
        ),
        # Is a template's app-owned profile under APP_ROLE_PATH? (checked before anything changes)
        allow(["iam:GetInstanceProfile"], [f"{arn}:iam::{account}:instance-profile/*"], sid="ReadTemplateProfiles"),
        # resolve:ssm: AMI ids: AWS's public parameters and the one documented prefix; the lock lives under it.
        allow(
            ["ssm:GetParameter"],
            [f"{arn}:ssm:*::parameter/aws/service/*", f"{arn}:ssm:*:{account}:parameter{PARAMETER_PREFIX}*"],
            sid="ResolveAmiParameters",
        ),
        allow(
            ["ssm:PutParameter", "ssm:DeleteParameter"],
            [f"{arn}:ssm:*:{account}:parameter{LOCK_PREFIX}*"],
            sid="RebakeLocks",
        ),
        # The builder: tagged as the rebake's at launch, with the patching instance profile only. The image is the
        # source AMI of a contract template (public, shared or the account's: any owner, hence image/*).
        allow(
            ["ec2:RunInstances"],
            [f"{arn}:ec2:*:{account}:instance/*", f"{arn}:ec2:*:{account}:volume/*"],
            sid="LaunchBuilder",
            conditions={
                "StringLike": {f"aws:RequestTag/{BUILDER_TAG}": "*"},
                "ArnEquals": {"ec2:InstanceProfile": profile},
            },
        ),
        allow(
            ["ec2:RunInstances"],
            [
                f"{arn}:ec2:*:{account}:network-interface/*",
                f"{arn}:ec2:*:{account}:subnet/*",
                f"{arn}:ec2:*:{account}:security-group/*",
                f"{arn}:ec2:*::image/*",
                f"{arn}:ec2:*:{account}:image/*",
            ],
            sid="LaunchBuilderPlacement",
        ),
        # StartInstanceRefresh with a DesiredConfiguration checks ec2:RunInstances on the launch template (and
        # iam:PassRole for its profile, below): only templates of the contract. Every resource of one RunInstances
        # authorization must be allowed, so the instance/volume/interface statement with ec2:LaunchTemplate cannot
        # be used with a template outside the contract.
        allow(
            ["ec2:RunInstances"],
            [f"{arn}:ec2:*:{account}:launch-template/*"],
            sid="UseContractTemplates",
            conditions=in_contract,
        ),
        allow(
            ["ec2:RunInstances"],
            [
                f"{arn}:ec2:*:{account}:instance/*",
                f"{arn}:ec2:*:{account}:volume/*",
                f"{arn}:ec2:*:{account}:network-interface/*",
            ],
            sid="RefreshFromContractTemplates",
            conditions={"ArnLike": {"ec2:LaunchTemplate": f"{arn}:ec2:*:{account}:launch-template/*"}},
        ),
        # Tags only while creating the instance/volume/AMI/snapshot the rebake owns.
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
        # Image/terminate only instances that carry the rebake tag it set at launch.
        allow(
            ["ec2:TerminateInstances", "ec2:CreateImage"],
            [f"{arn}:ec2:*:{account}:instance/*"],
            sid="DriveBuilder",
            conditions={"StringLike": {f"aws:ResourceTag/{naming.REBAKE_TAG}": "*"}},
        ),
        allow(
            ["ec2:CreateImage"],
            [f"{arn}:ec2:*::image/*", f"{arn}:ec2:*::snapshot/*", f"{arn}:ec2:*:{account}:snapshot/*"],
            sid="CreatePatchedImage",
            conditions={"StringLike": {f"aws:RequestTag/{ASG_TAG}": "*"}},
        ),
        # Failed, late or unused AMIs of the rebake are deregistered (nothing is left behind).
        allow(
            ["ec2:DeregisterImage"],
            [f"{arn}:ec2:*::image/*", f"{arn}:ec2:*:{account}:image/*"],
            sid="DeregisterRebakeImages",
            conditions={"StringLike": {f"aws:ResourceTag/{ASG_TAG}": "*"}},
        ),
        # New versions (and deleting a rolled-back one) only on templates of the contract.
        allow(
            ["ec2:CreateLaunchTemplateVersion", "ec2:DeleteLaunchTemplateVersions"],
            [f"{arn}:ec2:*:{account}:launch-template/*"],
            sid="ContractTemplateVersions",
            conditions=in_contract,
        ),
        # CreateLaunchTemplateVersion resolves resolve:ssm: image ids through ssm:GetParameters (SAR dependent action).
        allow(
            ["ssm:GetParameters"],
            [f"{arn}:ssm:*::parameter/aws/service/*", f"{arn}:ssm:*:{account}:parameter{PARAMETER_PREFIX}*"],
            sid="TemplateParameters",
        ),
        allow(["autoscaling:StartInstanceRefresh"], [scope.asgs], sid="RefreshContractAsgs", conditions=in_contract),
        # The builder's role, and app-owned instance roles under the documented path (the refresh passes the
        # template's role to EC2); only to EC2.
        allow(
            ["iam:PassRole"],
            [f"{scope.roles}/{naming.INSTANCE_ROLE}", f"{scope.roles}{APP_ROLE_PATH}*"],
            sid="PassInstanceRolesToEc2",
            conditions={"StringEquals": {"iam:PassedToService": "ec2.amazonaws.com"}},
        ),
    ]
    # The change gate (components/runbooks/change_gate.py): the teams' alarms of this account (SAR: DescribeAlarms
    # takes the alarm resource type), and the hub's change calendar, shared with this account (SAR:
    # GetCalendarState takes the document resource type): one document name in the hub account, in any Region
    # because the hub keeps a copy per patched Region (components/hub/change_calendar.py).
    statements.append(
        allow(["cloudwatch:DescribeAlarms"], [f"{arn}:cloudwatch:*:{account}:alarm:*"], sid="ReadTeamAlarms")
    )
    if scope.hub.change_calendar_arn:
        statements.append(allow(["ssm:GetCalendarState"], [scope.hub.change_calendar_arn], sid="ReadChangeFreeze"))
    # Exemption holds at patch time whatever allowed it above.
    for key in EXEMPTION_TAGS:
        statements.append(
            {
                "Sid": f"NeverPatchExempt{key.title().replace('_', '')}",
                "Effect": "Deny",
                "Action": ["ssm:SendCommand", "autoscaling:StartInstanceRefresh"],
                "Resource": [f"{arn}:ec2:*:{account}:instance/*", scope.asgs],
                "Condition": _exempt(key),
            }
        )
    return statements
