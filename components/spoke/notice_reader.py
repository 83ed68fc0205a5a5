"""``NoticeReader``: the one role per child account the hub's pre-patch notices read the windows through.

The hub's function ``org-patching-pre-patch-notices`` (``components/hub/pre_patch_notices.py``) assumes it in every
account and reads, in every region, what a notice tells a team: the windows and their next run, their tasks'
operation and reboot option, and the instances and ASGs tagged for them. Read-only, trusted by exactly the hub
function's role (its ARN from the central account and the contract name in ``components/naming.py``), inside the
organization. One IAM role and its RolePolicy per account: 0.5 per account-region at 4 regions, no regional
resource (issue 16's budget: a child account-region pays nothing else for the notices; function and topics are the
hub's).
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from .. import naming
from ..policy_documents import Document, Statement, allow, document, to_json


@dataclass
class NoticeReaderArgs:
    account_id: str
    org_id: str
    partition: str
    central_account_id: str


def reader_trust(args: NoticeReaderArgs) -> Document:
    """Only the hub's notices function role, from inside the organization."""
    hub_role = f"arn:{args.partition}:iam::{args.central_account_id}:role/{naming.PRE_PATCH_NOTICES_ROLE}"
    return document(
        {
            "Effect": "Allow",
            "Principal": {"AWS": hub_role},
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"aws:PrincipalOrgID": args.org_id}},
        }
    )


def reader_permissions(args: NoticeReaderArgs) -> list[Statement]:
    """What a notice reads (actions and resource types from the Service Authorization Reference, as parliament
    ships it: DescribeMaintenanceWindows, ec2:DescribeInstances and autoscaling:DescribeAutoScalingGroups support
    no resource type, so ``*``; the window tasks are read on this account's ``maintenancewindow`` ARNs)."""
    windows = f"arn:{args.partition}:ssm:*:{args.account_id}:maintenancewindow/*"
    return [
        allow(
            ["ssm:DescribeMaintenanceWindows", "ec2:DescribeInstances", "autoscaling:DescribeAutoScalingGroups"],
            ["*"],
            sid="ActionsWithoutResourceType",
        ),
        allow(["ssm:DescribeMaintenanceWindowTasks", "ssm:GetMaintenanceWindowTask"], [windows], sid="ReadWindowTasks"),
    ]


class NoticeReader(pulumi.ComponentResource):
    role: aws.iam.Role
    policy: aws.iam.RolePolicy

    def __init__(self, name: str, args: NoticeReaderArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("org-patching:spoke:NoticeReader", name, None, opts)
        self.role = aws.iam.Role(
            f"{name}-role",
            name=naming.NOTICE_READER_ROLE,
            description="org-patching: the hub's pre-patch notices read this account's windows and their resources",
            assume_role_policy=to_json(reader_trust(args)),
            max_session_duration=3600,
            # like every child role (docs/enrollment.md, "Permissions boundary")
            permissions_boundary=naming.child_role_boundary_arn(args.partition, args.account_id),
            opts=pulumi.ResourceOptions(parent=self),
        )
        # Its permissions as a RolePolicy, like every child role (components/spoke/account_baseline.py).
        self.policy = aws.iam.RolePolicy(
            f"{name}-policy",
            name=naming.INLINE_POLICY,
            role=self.role.name,
            policy=to_json(document(*reader_permissions(args))),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.register_outputs({})
