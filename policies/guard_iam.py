"""Guard rails for IAM: ``iam-no-admin-statements``, ``iam-no-wildcard-passrole`` and
``iam-trust-org-scoped``.

A guard rail runs on org-patching's own stacks only (see ``registry``): it encodes a convention
of docs/DEVELOPING.md so a change that weakens it fails ``pulumi preview`` (and ``patchctl preview``).
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterator, Mapping
from typing import Any, Final

from policy_docs import ACCOUNT_ARN, allow_statements
from pulumi_policy import EnforcementLevel, PolicyProviderResource, ReportViolation, ResourceValidationArgs
from registry import resource_policy
from wire import UNKNOWN, as_list, json_or_obj, plain, provider_config, strings

#: Where each resource type keeps IAM policy documents (JSON text in pulumi-aws, objects in
#: aws-native); trust policies are judged by ``iam-trust-org-scoped`` instead.
IAM_DOCUMENTS: Final[dict[str, tuple[str, ...]]] = {
    "aws:iam/policy:Policy": ("policy",),
    "aws:iam/rolePolicy:RolePolicy": ("policy",),
    "aws:iam/userPolicy:UserPolicy": ("policy",),
    "aws:iam/groupPolicy:GroupPolicy": ("policy",),
    "aws:iam/role:Role": ("inlinePolicies[].policy",),
    "aws-native:iam:ManagedPolicy": ("policyDocument",),
    "aws-native:iam:RolePolicy": ("policyDocument",),
    "aws-native:iam:Role": ("policies[].policyDocument",),
    "aws:s3/bucketPolicy:BucketPolicy": ("policy",),
    "aws:sns/topicPolicy:TopicPolicy": ("policy",),
    "aws:sqs/queuePolicy:QueuePolicy": ("policy",),
}


def documents_of(type_: str, props: Mapping[str, Any]) -> list[Any]:
    """The parsed policy documents of a resource (UNKNOWN for unknown ones, None if unreadable)."""
    found: list[Any] = []
    for path in IAM_DOCUMENTS.get(type_, ()):
        if "[]." in path:
            outer, inner = path.split("[].")
            for item in as_list(props.get(outer)):
                if item is UNKNOWN:
                    found.append(UNKNOWN)
                elif isinstance(item, Mapping):
                    found.append(json_or_obj(item.get(inner)))
        elif props.get(path) is not None:
            found.append(json_or_obj(props.get(path)))
    return found


def allowed_in(args: ResourceValidationArgs) -> Iterator[Mapping[str, Any]]:
    """The Allow statements of every policy document of the resource under validation."""
    for document in documents_of(args.resource_type, plain(args.props)):
        yield from allow_statements(document)


def _kind(args: ResourceValidationArgs) -> str:
    """``aws:iam/rolePolicy:RolePolicy`` -> ``RolePolicy``, for messages."""
    return args.resource_type.rsplit(":", 1)[-1]


@resource_policy(
    name="iam-no-admin-statements",
    description="No IAM statement allows every action on every resource.",
    remediation="List the actions and resources the principal needs; org-patching never needs '*' on '*'.",
    group="guard-rail",
    level=EnforcementLevel.MANDATORY,
    types=tuple(IAM_DOCUMENTS),
)
def iam_no_admin_statements(args: ResourceValidationArgs, report: ReportViolation) -> None:
    for statement in allowed_in(args):
        actions = strings(statement.get("Action"))
        resources = strings(statement.get("Resource"))
        if any(a in ("*", "*:*") for a in actions) and "*" in resources:
            sid = statement.get("Sid")
            label = f" (Sid {sid})" if isinstance(sid, str) else ""
            report(f"{_kind(args)} '{args.name}' allows '*' on '*'{label}.", None)


@resource_policy(
    name="iam-no-wildcard-passrole",
    description="iam:PassRole is granted only on named roles.",
    remediation=(
        "Grant iam:PassRole on the ARNs of the roles to pass (and add an iam:PassedToService condition); "
        "a wildcard lets the holder hand any role, including admin roles, to a service."
    ),
    group="guard-rail",
    level=EnforcementLevel.MANDATORY,
    types=tuple(IAM_DOCUMENTS),
)
def iam_no_wildcard_passrole(args: ResourceValidationArgs, report: ReportViolation) -> None:
    for statement in allowed_in(args):
        actions = [a for a in strings(statement.get("Action")) if a not in ("*", "*:*")]
        if not any(fnmatch.fnmatchcase("iam:passrole", a.lower()) for a in actions):
            continue
        wild = [r for r in strings(statement.get("Resource")) if r == "*" or r.endswith(":role/*")]
        if wild:
            report(f"{_kind(args)} '{args.name}' allows iam:PassRole on {', '.join(wild)}; name the roles.", None)


# --- cross-account trust -----------------------------------------------------------------------

ROLE_TRUST: Final = {"aws:iam/role:Role": "assumeRolePolicy", "aws-native:iam:Role": "assumeRolePolicyDocument"}
ORG_CONDITION_KEYS: Final = ("aws:principalorgid", "aws:principalorgpaths")


def provider_accounts(provider: PolicyProviderResource | None) -> set[str]:
    """Accounts a provider deploys into: its ``allowedAccountIds`` and assumed roles' accounts."""
    accounts = set(strings(provider_config(provider, "allowedAccountIds")))
    for role in as_list(provider_config(provider, "assumeRoles")):
        arn = role.get("roleArn") if isinstance(role, Mapping) else None
        match = ACCOUNT_ARN.match(arn) if isinstance(arn, str) else None
        if match:
            accounts.add(match.group(1))
    return accounts


def _org_scoped(statement: Mapping[str, Any]) -> bool:
    condition = statement.get("Condition")
    if not isinstance(condition, Mapping):
        return False
    for block in condition.values():
        if isinstance(block, Mapping) and any(str(key).lower() in ORG_CONDITION_KEYS for key in block):
            return True
    return False


def trust_problems(document: Any, own_accounts: set[str]) -> list[str]:
    """Principals that let another account in without an organization condition."""
    problems: list[str] = []
    for statement in allow_statements(document):
        principal = statement.get("Principal")
        if principal == "*":
            aws_principals = ["*"]
        elif isinstance(principal, Mapping):
            aws_principals = strings(principal.get("AWS"))
        else:
            continue
        if _org_scoped(statement):
            continue
        for item in aws_principals:
            if item == "*":
                problems.append("Principal '*' without an aws:PrincipalOrgID condition")
                continue
            account = item if re.fullmatch(r"\d{12}", item) else None
            match = ACCOUNT_ARN.match(item)
            if match and match.group(2) != "root":
                if "*" in match.group(2):
                    problems.append(f"principal {item} is a wildcard")
                continue  # a named role or user: explicitly trusted
            account = account or (match.group(1) if match else None)
            if account is None:
                problems.append(f"principal {item!r} is not an account, role or user ARN")
            elif account not in own_accounts:
                problems.append(f"account {account} (whole account) without an aws:PrincipalOrgID condition")
    return problems


@resource_policy(
    name="iam-trust-org-scoped",
    description="Roles trust other accounts only inside the organization or as named roles.",
    remediation=(
        "Trust the named role ARN that assumes this role, or add a Condition "
        '{"StringEquals": {"aws:PrincipalOrgID": "<org id>"}} to the trust statement.'
    ),
    group="guard-rail",
    level=EnforcementLevel.MANDATORY,
    types=tuple(ROLE_TRUST),
)
def iam_trust_org_scoped(args: ResourceValidationArgs, report: ReportViolation) -> None:
    prop = ROLE_TRUST[args.resource_type]
    document = json_or_obj(plain(args.props).get(prop))
    if document is UNKNOWN:
        return
    for problem in trust_problems(document, provider_accounts(args.provider)):
        report(f"role '{args.name}' trust policy: {problem}.", None)
