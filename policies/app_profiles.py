"""App-team rule ``instance-profile-can-patch``: the instance profiles a stack creates for its
workloads have a role that lets SSM in (AmazonSSMManagedInstanceCore, or a policy granting the
same actions), resolved across the stack's roles, attachments and policies by ``iam_grants``.
"""

from __future__ import annotations

from ec2_fleet import INSTANCE_PROFILE_TYPES, profile_users
from iam_grants import ROLE_IDS, ROLE_TYPES, SSM_CORE_POLICY, SSM_PATCH_ACTIONS, role_can_patch, role_grants
from pulumi_policy import EnforcementLevel, ReportViolation, StackValidationArgs
from registry import stack_policy
from stackview import StackView


@stack_policy(
    name="instance-profile-can-patch",
    description="Instance profiles created with the workload let SSM in (AmazonSSMManagedInstanceCore or equivalent).",
    remediation=(
        "Attach arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore to the profile's role "
        "(aws.iam.RolePolicyAttachment), or a policy allowing " + ", ".join(SSM_PATCH_ACTIONS) + "."
    ),
    group="app-team",
    level=EnforcementLevel.MANDATORY,
)
def instance_profile_can_patch(args: StackValidationArgs, report: ReportViolation) -> None:
    """Only profiles created in this stack and used by an EC2 workload here are judged: a
    profile from elsewhere (by name) is that stack's business."""
    view = StackView(args.resources)
    profiles = view.pool(*INSTANCE_PROFILE_TYPES, ids=("name", "arn", "instanceProfileName"))
    if not profiles:
        return
    roles = view.pool(*ROLE_TYPES, ids=ROLE_IDS)
    users = profile_users(view, profiles)
    if not users:
        return
    grants = role_grants(view)
    for profile in profiles:
        if profile.urn not in users:
            continue
        prop = "roles" if profile.type == "aws-native:iam:InstanceProfile" else "role"
        found = view.referenced(profile, prop, roles)
        if not found:
            continue  # no role, an unknown one, or a role from another stack
        for role in found:
            verdict, missing = role_can_patch(view, grants[role.urn])
            if verdict is False:
                used_by = ", ".join(f"'{user.name}'" for user in users[profile.urn])
                report(
                    f"instance profile '{profile.name}' (used by {used_by}) has role '{role.name}' without "
                    f"{SSM_CORE_POLICY} or a policy allowing {', '.join(missing)}: SSM cannot patch its instances. "
                    f"Attach arn:aws:iam::aws:policy/{SSM_CORE_POLICY} to role '{role.name}'.",
                    profile.urn,
                )
