"""``iam_grants``: what is attached to each role of a stack, and whether it lets SSM patch."""

from __future__ import annotations

import json

from iam_grants import SSM_PATCH_ACTIONS, RoleGrants, granted_actions, role_can_patch, role_grants
from policy_testing import R, U, stack_resources
from stackview import StackView
from wire import UNKNOWN

ROLE = "aws:iam/role:Role"
CORE = "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"
ALL_SSM = {"Statement": [{"Effect": "Allow", "Action": ["SSM:*", "ec2messages:*"], "Resource": "*"}]}


def _view(*resources: R) -> StackView:
    return StackView(stack_resources(list(resources)))


def test_granted_actions_match_patterns_case_insensitively_and_ignore_deny() -> None:
    granted, unknown = granted_actions([json.dumps(ALL_SSM)])
    assert granted == set(SSM_PATCH_ACTIONS) and not unknown
    deny = {"Statement": [{"Effect": "Deny", "Action": "*", "Resource": "*"}]}
    partial = {"Statement": {"Effect": "Allow", "Action": "ssm:Get*", "Resource": "*"}}
    granted, unknown = granted_actions([deny, partial, UNKNOWN, "not json"])
    assert granted == {"ssm:GetDocument"} and unknown


def test_role_grants_collect_attachments_inline_and_managed_policies() -> None:
    view = _view(
        R(ROLE, "role", {"name": "app", "managedPolicyArns": ["arn:1"], "inlinePolicies": [{"policy": "{}"}]}),
        R(ROLE, "other", {"name": "other"}),
        R("aws:iam/rolePolicyAttachment:RolePolicyAttachment", "a", {"role": "app", "policyArn": "arn:2"}),
        R("aws:iam/policyAttachment:PolicyAttachment", "b", {"roles": ["app", "other"], "policyArn": "arn:3"}),
        R("aws:iam/rolePolicy:RolePolicy", "c", {"role": "arn:aws:iam::1:role/app", "policy": "doc"}),
    )
    grants = role_grants(view)
    by_name = {view.by_urn[urn].name: g for urn, g in grants.items()}
    assert by_name["role"] == RoleGrants(["arn:1", "arn:2", "arn:3"], ["{}", "doc"])
    assert by_name["other"] == RoleGrants(["arn:3"], [])


def test_an_attachment_to_an_unknown_role_counts_for_every_role() -> None:
    view = _view(
        R(ROLE, "a", {"name": "a"}),
        R(ROLE, "b", {"name": "b"}),
        R("aws:iam/rolePolicyAttachment:RolePolicyAttachment", "x", {"role": U, "policyArn": CORE}),
    )
    assert all(g.policy_arns == [CORE] for g in role_grants(view).values())


def test_role_can_patch() -> None:
    custom = R("aws:iam/policy:Policy", "custom", {"arn": "arn:aws:iam::1:policy/c", "policy": json.dumps(ALL_SSM)})
    view = _view(custom)
    assert role_can_patch(view, RoleGrants([CORE.replace(":aws:", ":aws-cn:", 1)], [])) == (True, [])
    assert role_can_patch(view, RoleGrants(["arn:aws:iam::1:policy/c"], [])) == (True, [])
    verdict, missing = role_can_patch(view, RoleGrants(["arn:aws:iam::aws:policy/ReadOnlyAccess"], []))
    assert verdict is False and missing == list(SSM_PATCH_ACTIONS)
    assert role_can_patch(view, RoleGrants([UNKNOWN], []))[0] is None
    assert role_can_patch(view, RoleGrants([], [UNKNOWN]))[0] is None
