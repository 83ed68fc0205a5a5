"""``app_profiles``: instance-profile-can-patch resolves the profile's role and what is attached to it."""

from __future__ import annotations

import json

from policy_testing import R, U, run_stack

INSTANCE = "aws:ec2/instance:Instance"
PROFILE = "aws:iam/instanceProfile:InstanceProfile"
ROLE = "aws:iam/role:Role"
ATTACH = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
CORE = "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"


# --- instance-profile-can-patch ----------------------------------------------------------------


def _profile_stack(*extra: R, role_props: dict | None = None) -> list[R]:
    return [
        R(ROLE, "role", {"name": "app-role", "arn": "arn:aws:iam::1:role/app-role", **(role_props or {})}),
        R(PROFILE, "profile", {"name": "app-profile", "role": "app-role"}),
        R(INSTANCE, "web", {"iamInstanceProfile": "app-profile", "tags": {"environment": "Prod"}}),
        *extra,
    ]


def test_profile_role_with_core_policy_passes() -> None:
    attach = R(ATTACH, "core", {"role": "app-role", "policyArn": CORE})
    assert run_stack("instance-profile-can-patch", _profile_stack(attach)) == []
    assert (
        run_stack(
            "instance-profile-can-patch",
            _profile_stack(role_props={"managedPolicyArns": [CORE.replace("arn:aws:", "arn:aws-us-gov:", 1)]}),
        )
        == []
    )


def test_profile_role_without_ssm_fails_with_fix() -> None:
    other = R(ATTACH, "ro", {"role": "app-role", "policyArn": "arn:aws:iam::aws:policy/ReadOnlyAccess"})
    [(name, message)] = run_stack("instance-profile-can-patch", _profile_stack(other))
    assert name == "profile"
    assert "instance profile 'profile' (used by 'web') has role 'role' without AmazonSSMManagedInstanceCore" in message
    assert "ssm:UpdateInstanceInformation" in message


def test_custom_policy_granting_ssm_actions_passes() -> None:
    document = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": ["ssm:*", "ec2messages:*"], "Resource": "*"}],
    }
    policy = R(
        "aws:iam/policy:Policy", "custom", {"arn": "arn:aws:iam::1:policy/custom", "policy": json.dumps(document)}
    )
    attach = R(ATTACH, "a", {"role": "app-role", "policyArn": "arn:aws:iam::1:policy/custom"})
    assert run_stack("instance-profile-can-patch", _profile_stack(policy, attach)) == []
    inline = R("aws:iam/rolePolicy:RolePolicy", "inline", {"role": "app-role", "policy": json.dumps(document)})
    assert run_stack("instance-profile-can-patch", _profile_stack(inline)) == []
    partial = {"Statement": [{"Effect": "Allow", "Action": "ssm:*", "Resource": "*"}]}
    inline = R("aws:iam/rolePolicy:RolePolicy", "inline", {"role": "app-role", "policy": json.dumps(partial)})
    [(_, message)] = run_stack("instance-profile-can-patch", _profile_stack(inline))
    assert "ec2messages:GetMessages" in message and "ssm:PutInventory" not in message


def test_profile_unknowns_and_unused_profiles() -> None:
    unknown_attach = R(ATTACH, "core", {"role": "app-role", "policyArn": U})
    assert run_stack("instance-profile-can-patch", _profile_stack(unknown_attach)) == []
    stack = _profile_stack()
    stack[2] = R(INSTANCE, "web", {"iamInstanceProfile": "someone-elses"})
    assert run_stack("instance-profile-can-patch", stack) == []
    # joined by property dependency when names are unknown
    stack = [
        R(ROLE, "role", {"name": U}),
        R(PROFILE, "profile", {"name": U, "role": U}, deps={"role": ["role"]}),
        R(INSTANCE, "web", {"iamInstanceProfile": U}, deps={"iamInstanceProfile": ["profile"]}),
    ]
    assert len(run_stack("instance-profile-can-patch", stack)) == 1
    stack.append(R(ATTACH, "core", {"role": U, "policyArn": CORE}, deps={"role": ["role"]}))
    assert run_stack("instance-profile-can-patch", stack) == []
