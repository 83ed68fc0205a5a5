"""The profile check of the tag sweep (``patching.instanceProfiles``): the function's settings and permissions.

The check runs inside the tag-remediation function (``lambda_src/lambda_shared/instance_profiles.py``), so it
adds no resource per account-region: only environment variables on that function and statements in its role.
Each statement exists only while its option is on, and each is as narrow as IAM allows (actions, resources and
condition keys from the Service Authorization Reference, as parliament ships it):

* ``ssm:DescribeInstanceInformation`` has no resource type: ``*``;
* ``iam:GetInstanceProfile`` / ``iam:ListAttachedRolePolicies``: any profile and role of the account, because
  an app team's instance may carry any of them;
* attach the patching profile: ``ec2:AssociateIamInstanceProfile`` on the account's instances with
  ``ec2:NewInstanceProfile`` = the patching profile, and ``iam:PassRole`` of the patching instance role only,
  to EC2 only: the function can put no other profile on any instance;
* attach the SSM core policy: ``iam:AttachRolePolicy`` with ``iam:PolicyARN`` = ``AmazonSSMManagedInstanceCore``
  (the one policy), and an explicit Deny on org-patching's own roles, so the function cannot widen them.
"""

from __future__ import annotations

from .. import naming
from ..config import InstanceProfilesConfig
from ..policy_documents import Statement, allow
from .baseline_policies import AccountScope

#: The AWS managed policy the SSM Agent needs (AWS Systems Manager User Guide, instance permissions).
SSM_CORE_POLICY = "AmazonSSMManagedInstanceCore"


def function_variables(cfg: InstanceProfilesConfig) -> dict[str, str]:
    """The tag-remediation function's environment for the check (read by ``Settings.from_env``)."""
    return {
        "PROFILE_CHECK": "true" if cfg.check else "false",
        "PATCHING_INSTANCE_PROFILE": naming.INSTANCE_PROFILE if cfg.check and cfg.attach_when_missing else "",
        "APP_PROFILES": cfg.app_profiles if cfg.check else "report",
    }


def statements(scope: AccountScope, cfg: InstanceProfilesConfig) -> list[Statement]:
    """What the tag-remediation role needs for the check and the repairs ``cfg`` turns on."""
    if not cfg.check:
        return []
    arn, account = scope.arn, scope.account_id
    found = [
        # DescribeInstanceInformation has no resource type (Service Authorization Reference, AWS Systems Manager).
        allow(["ssm:DescribeInstanceInformation"], "*", sid="ReadManagedInstances"),
        # Any profile or role of the account may be on an app team's instance.
        allow(
            ["iam:GetInstanceProfile", "iam:ListAttachedRolePolicies"],
            [f"{arn}:iam::{account}:instance-profile/*", f"{arn}:iam::{account}:role/*"],
            sid="ReadInstanceProfiles",
        ),
    ]
    if cfg.attach_when_missing:
        profile = f"{arn}:iam::{account}:instance-profile/{naming.INSTANCE_PROFILE}"
        found += [
            allow(
                ["ec2:AssociateIamInstanceProfile"],
                [f"{arn}:ec2:*:{account}:instance/*"],
                sid="AttachPatchingProfile",
                conditions={"ArnEquals": {"ec2:NewInstanceProfile": profile}},
            ),
            allow(
                ["iam:PassRole"],
                [f"{scope.roles}/{naming.INSTANCE_ROLE}"],
                sid="PassPatchingInstanceRole",
                conditions={"StringEquals": {"iam:PassedToService": "ec2.amazonaws.com"}},
            ),
        ]
    if cfg.app_profiles == "attachPolicy":
        found += [
            allow(
                ["iam:AttachRolePolicy"],
                [f"{scope.roles}/*"],
                sid="AttachSsmCoreToAppRoles",
                conditions={"ArnEquals": {"iam:PolicyARN": f"{arn}:iam::aws:policy/{SSM_CORE_POLICY}"}},
            ),
            {
                "Sid": "NeverWidenOwnRoles",
                "Effect": "Deny",
                "Action": ["iam:AttachRolePolicy"],
                "Resource": [f"{scope.roles}/{naming.PREFIX}-*"],
            },
        ]
    return found
