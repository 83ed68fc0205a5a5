"""What a role of the stack is granted, and whether that lets SSM patch its instances.

The IAM-grant resolver behind ``instance-profile-can-patch``: pulumi-aws 7 spreads a role's
permissions over the role itself (managed ARNs, inline policies) and separate attachment and
policy resources, so :func:`role_grants` collects them per role in one pass over the stack and
:func:`role_can_patch` reads the documents for the actions SSM Agent needs.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from policy_docs import allow_statements
from stackview import Node, StackView
from wire import UNKNOWN, as_list, is_unknown, json_or_obj, strings

ROLE_TYPES: Final = ("aws:iam/role:Role", "aws-native:iam:Role")
MANAGED_POLICY_TYPES: Final = ("aws:iam/policy:Policy", "aws-native:iam:ManagedPolicy")

#: The managed policy that lets SSM manage (and so patch) an instance.
SSM_CORE_POLICY: Final = "AmazonSSMManagedInstanceCore"
#: What SSM Agent needs to register, receive Run Command (AWS-RunPatchBaseline) and report
#: patch compliance: the core of AmazonSSMManagedInstanceCore. A custom policy granting all of
#: these is accepted instead of the managed one.
SSM_PATCH_ACTIONS: Final = (
    "ssm:UpdateInstanceInformation",
    "ssm:ListInstanceAssociations",
    "ssm:GetDocument",
    "ssm:PutInventory",
    "ssm:PutComplianceItems",
    "ec2messages:GetMessages",
    "ec2messages:AcknowledgeMessage",
    "ec2messages:SendReply",
)


def granted_actions(documents: Iterable[Any]) -> tuple[set[str], bool]:
    """(required SSM actions the documents allow, any document unknown)."""
    granted: set[str] = set()
    unknown = False
    for document in documents:
        document = json_or_obj(document)
        if document is UNKNOWN:
            unknown = True
            continue
        for statement in allow_statements(document):
            for pattern in strings(statement.get("Action")):
                granted.update(
                    action for action in SSM_PATCH_ACTIONS if fnmatch.fnmatchcase(action.lower(), pattern.lower())
                )
    return granted, unknown


@dataclass
class RoleGrants:
    """What is attached to one role in this stack."""

    policy_arns: list[Any]
    documents: list[Any]


#: type -> (prop naming the role(s), prop with policy ARN(s), prop with a document)
_ROLE_LINKS: Final[dict[str, tuple[str, str | None, str | None]]] = {
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": ("role", "policyArn", None),
    "aws:iam/policyAttachment:PolicyAttachment": ("roles", "policyArn", None),
    "aws:iam/rolePolicyAttachmentsExclusive:RolePolicyAttachmentsExclusive": ("roleName", "policyArns", None),
    "aws:iam/rolePolicy:RolePolicy": ("role", None, "policy"),
    "aws-native:iam:RolePolicy": ("roleName", None, "policyDocument"),
    "aws-native:iam:ManagedPolicy": ("roles", None, "policyDocument"),
}
ROLE_IDS: Final = ("name", "roleName", "arn")


def _own_grants(role: Node) -> RoleGrants:
    grants = RoleGrants(list(as_list(role.props.get("managedPolicyArns"))), [])
    for inline in as_list(role.props.get("inlinePolicies")) + as_list(role.props.get("policies")):
        if inline is UNKNOWN:
            grants.documents.append(UNKNOWN)
        elif isinstance(inline, Mapping):
            grants.documents.append(inline.get("policy", inline.get("policyDocument")))
    return grants


def role_grants(view: StackView) -> dict[str, RoleGrants]:
    """What is attached to each role of the stack, in one pass over the stack.

    An attachment whose role can't be resolved yet (unknown at preview) counts for every role:
    it might be theirs, and a policy must not fail a role on a guess.
    """
    roles = view.pool(*ROLE_TYPES, ids=ROLE_IDS)
    grants = {role.urn: _own_grants(role) for role in roles}
    unresolved = RoleGrants([], [])
    for node in view.nodes:
        link = _ROLE_LINKS.get(node.type)
        if link is None:
            continue
        ref_prop, arn_prop, document_prop = link
        targets = view.referenced(node, ref_prop, roles)
        for target in [unresolved] if targets is None else [grants[role.urn] for role in targets]:
            if arn_prop:
                target.policy_arns.extend(as_list(node.props.get(arn_prop)))
            if document_prop:
                target.documents.append(node.props.get(document_prop))
    for role_grants_ in grants.values():
        role_grants_.policy_arns.extend(unresolved.policy_arns)
        role_grants_.documents.extend(unresolved.documents)
    return grants


def role_can_patch(view: StackView, grants: RoleGrants) -> tuple[bool | None, list[str]]:
    """(True/False, missing actions); None when unknowns leave it open."""
    documents = list(grants.documents)
    undecided = False
    managed = view.pool(*MANAGED_POLICY_TYPES, ids=("arn",))
    for arn in grants.policy_arns:
        if arn is UNKNOWN or is_unknown(arn):
            undecided = True
            continue
        if not isinstance(arn, str):
            continue
        if arn.endswith(f":iam::aws:policy/{SSM_CORE_POLICY}"):
            return True, []
        documents.extend(
            policy.props.get("policy", policy.props.get("policyDocument")) for policy in managed.lookup(arn)
        )
    granted, unknown = granted_actions(documents)
    missing = [action for action in SSM_PATCH_ACTIONS if action not in granted]
    if not missing:
        return True, []
    if undecided or unknown:
        return None, missing
    return False, missing
