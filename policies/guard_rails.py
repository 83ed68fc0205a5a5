"""Guard rails for org-patching's own stacks (group ``guard-rail``, selected by ``projects``).

They encode DEVELOPING.md's conventions so a change to the program that weakens them fails
``pulumi preview`` (and ``patchctl preview``) instead of a security review weeks later.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Mapping
from typing import Any, Final

from pulumi_policy import (
    EnforcementLevel,
    PolicyProviderResource,
    PolicyResource,
    ReportViolation,
    ResourceValidationArgs,
    StackValidationArgs,
)
from registry import resource_policy, stack_policy
from stackview import Node, StackView
from wire import UNKNOWN, as_list, get_path, json_or_obj, plain, provider_config, strings

BUCKET_TYPES: Final = ("aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2")
SSE_TYPES: Final = (
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2",
)
PAB_TYPE: Final = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
BUCKET_POLICY_TYPE: Final = "aws:s3/bucketPolicy:BucketPolicy"
KMS_ALGORITHMS: Final = ("aws:kms", "aws:kms:dsse")
PAB_FLAGS: Final = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")


def _sse_algorithms(props: Mapping[str, Any]) -> list[Any]:
    """Every ``sseAlgorithm`` in an encryption configuration (``rules`` or inline ``rule``)."""
    found: list[Any] = []
    for rule in as_list(props.get("rules")) + as_list(props.get("rule")):
        if rule is UNKNOWN:
            found.append(UNKNOWN)
            continue
        if not isinstance(rule, Mapping):
            continue
        default = rule.get("applyServerSideEncryptionByDefault")
        for item in as_list(default):
            if item is UNKNOWN:
                found.append(UNKNOWN)
            elif isinstance(item, Mapping):
                found.append(item.get("sseAlgorithm"))
    return found


def _inline_sse(bucket: Node) -> list[Any]:
    """Pre-v7 style inline ``serverSideEncryptionConfiguration`` on the bucket itself."""
    inline = bucket.props.get("serverSideEncryptionConfiguration")
    found: list[Any] = []
    for item in as_list(inline):
        if item is UNKNOWN:
            found.append(UNKNOWN)
        elif isinstance(item, Mapping):
            found.extend(_sse_algorithms(item))
    return found


def _principal_is_everyone(principal: Any) -> bool:
    if principal == "*":
        return True
    if isinstance(principal, Mapping):
        aws = principal.get("AWS")
        return aws == "*" or (isinstance(aws, list) and "*" in aws)
    return False


def _denies_insecure_transport(document: Any) -> bool:
    """A Deny of ``s3:*`` (or ``*``) to everyone when ``aws:SecureTransport`` is false."""
    if not isinstance(document, Mapping):
        return False
    for statement in as_list(document.get("Statement")):
        if not isinstance(statement, Mapping) or statement.get("Effect") != "Deny":
            continue
        if not _principal_is_everyone(statement.get("Principal")):
            continue
        actions = as_list(statement.get("Action"))
        if not any(action in ("s3:*", "*") for action in actions):
            continue
        condition = statement.get("Condition")
        if not isinstance(condition, Mapping):
            continue
        secure = condition.get("Bool")
        if isinstance(secure, Mapping) and secure.get("aws:SecureTransport") in ("false", False, ["false"], [False]):
            return True
    return False


@stack_policy(
    name="s3-bucket-encrypted-private",
    description="org-patching buckets are encrypted with KMS, block public access and refuse plain HTTP.",
    remediation=(
        "Give every bucket an aws.s3.BucketServerSideEncryptionConfiguration with sse_algorithm 'aws:kms' "
        "(and bucket_key_enabled), an aws.s3.BucketPublicAccessBlock with all four flags true, and an "
        "aws.s3.BucketPolicy with a Deny of s3:* for Principal '*' when aws:SecureTransport is false."
    ),
    group="guard-rail",
    level=EnforcementLevel.MANDATORY,
)
def s3_bucket_encrypted_private(args: StackValidationArgs, report: ReportViolation) -> None:
    """Joins each bucket with its companion resources (pulumi-aws 7 splits them)."""
    view = StackView(args.resources)
    buckets = view.pool(*BUCKET_TYPES, ids=("bucket", "arn"))
    if not buckets:
        return
    sse: dict[str, list[Any]] = {b.urn: _inline_sse(b) for b in buckets}
    pab: dict[str, list[Node]] = {b.urn: [] for b in buckets}
    tls: dict[str, list[Any]] = {b.urn: [] for b in buckets}
    blind = {"sse": False, "pab": False, "tls": False}

    for node in view.of_type(*SSE_TYPES):
        targets = view.referenced(node, "bucket", buckets)
        if targets is None:
            blind["sse"] = True
            continue
        for target in targets:
            sse[target.urn].extend(_sse_algorithms(node.props))
    for node in view.of_type(PAB_TYPE):
        targets = view.referenced(node, "bucket", buckets)
        if targets is None:
            blind["pab"] = True
            continue
        for target in targets:
            pab[target.urn].append(node)
    for node in view.of_type(BUCKET_POLICY_TYPE):
        targets = view.referenced(node, "bucket", buckets)
        if targets is None:
            blind["tls"] = True
            continue
        for target in targets:
            tls[target.urn].append(json_or_obj(node.props.get("policy")))

    for bucket in buckets:
        label = f"bucket '{bucket.name}'"
        algorithms = sse[bucket.urn]
        if UNKNOWN not in algorithms and not blind["sse"]:
            if not algorithms:
                report(f"{label} has no server-side encryption configuration (SSE-KMS required).", bucket.urn)
            elif not any(algorithm in KMS_ALGORITHMS for algorithm in algorithms):
                shown = ", ".join(sorted({str(a) for a in algorithms}))
                report(f"{label} is encrypted with {shown}; use sse_algorithm 'aws:kms'.", bucket.urn)
        blocks = pab[bucket.urn]
        if not blocks and not blind["pab"]:
            report(f"{label} has no public access block.", bucket.urn)
        for block in blocks:
            off = [
                flag for flag in PAB_FLAGS if block.props.get(flag) is not True and block.props.get(flag) is not UNKNOWN
            ]
            if off:
                report(
                    f"{label}: public access block '{block.name}' does not set {', '.join(off)} to true.", bucket.urn
                )
        documents = tls[bucket.urn]
        if blind["tls"] or UNKNOWN in documents:
            continue
        if not any(_denies_insecure_transport(document) for document in documents):
            where = "has no bucket policy" if not documents else "has a bucket policy without"
            report(
                f"{label} {where} a Deny of s3:* when aws:SecureTransport is false (TLS-only).",
                bucket.urn,
            )


# --- KMS ------------------------------------------------------------------------------------

KMS_KEY_TYPES: Final = ("aws:kms/key:Key", "aws-native:kms:Key")


@resource_policy(
    name="kms-key-rotation",
    description="org-patching's symmetric KMS keys rotate automatically.",
    remediation="Set enable_key_rotation=True on the aws.kms.Key (asymmetric and HMAC keys cannot rotate: skipped).",
    group="guard-rail",
    level=EnforcementLevel.MANDATORY,
)
def kms_key_rotation(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type not in KMS_KEY_TYPES:
        return
    props = plain(args.props)
    spec = props.get("keySpec") or props.get("customerMasterKeySpec") or "SYMMETRIC_DEFAULT"
    if spec is UNKNOWN or spec != "SYMMETRIC_DEFAULT":
        return
    rotation = props.get("enableKeyRotation")
    if rotation is not True and rotation is not UNKNOWN:
        report(f"KMS key '{args.name}' does not enable automatic key rotation (enable_key_rotation=True).", None)


# --- IAM documents ----------------------------------------------------------------------------

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


def allow_statements(document: Any) -> list[Mapping[str, Any]]:
    if not isinstance(document, Mapping):
        return []
    return [
        statement
        for statement in as_list(document.get("Statement"))
        if isinstance(statement, Mapping) and statement.get("Effect") == "Allow"
    ]


@resource_policy(
    name="iam-no-admin-statements",
    description="No IAM statement allows every action on every resource.",
    remediation="List the actions and resources the principal needs; org-patching never needs '*' on '*'.",
    group="guard-rail",
    level=EnforcementLevel.MANDATORY,
)
def iam_no_admin_statements(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type not in IAM_DOCUMENTS:
        return
    for document in documents_of(args.resource_type, plain(args.props)):
        for statement in allow_statements(document):
            actions = strings(statement.get("Action"))
            resources = strings(statement.get("Resource"))
            if any(a in ("*", "*:*") for a in actions) and "*" in resources:
                sid = statement.get("Sid")
                label = f" (Sid {sid})" if isinstance(sid, str) else ""
                report(f"{args.resource_type.rsplit(':', 1)[-1]} '{args.name}' allows '*' on '*'{label}.", None)


@resource_policy(
    name="iam-no-wildcard-passrole",
    description="iam:PassRole is granted only on named roles.",
    remediation=(
        "Grant iam:PassRole on the ARNs of the roles to pass (and add an iam:PassedToService condition); "
        "a wildcard lets the holder hand any role, including admin roles, to a service."
    ),
    group="guard-rail",
    level=EnforcementLevel.MANDATORY,
)
def iam_no_wildcard_passrole(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type not in IAM_DOCUMENTS:
        return
    for document in documents_of(args.resource_type, plain(args.props)):
        for statement in allow_statements(document):
            actions = [a for a in strings(statement.get("Action")) if a not in ("*", "*:*")]
            if not any(fnmatch.fnmatchcase("iam:passrole", a.lower()) for a in actions):
                continue
            wild = [r for r in strings(statement.get("Resource")) if r == "*" or r.endswith(":role/*")]
            if wild:
                report(
                    f"{args.resource_type.rsplit(':', 1)[-1]} '{args.name}' allows iam:PassRole on "
                    f"{', '.join(wild)}; name the roles.",
                    None,
                )


# --- cross-account trust -----------------------------------------------------------------------

ROLE_TRUST: Final = {"aws:iam/role:Role": "assumeRolePolicy", "aws-native:iam:Role": "assumeRolePolicyDocument"}
ORG_CONDITION_KEYS: Final = ("aws:principalorgid", "aws:principalorgpaths")
_ACCOUNT_ARN = re.compile(r"^arn:aws[\w-]*:iam::(\d{12}):(root|role/.+|user/.+|assumed-role/.+)$")


def provider_accounts(provider: PolicyProviderResource | None) -> set[str]:
    """Accounts a provider deploys into: its ``allowedAccountIds`` and assumed roles' accounts."""
    accounts = set(strings(provider_config(provider, "allowedAccountIds")))
    for role in as_list(provider_config(provider, "assumeRoles")):
        arn = role.get("roleArn") if isinstance(role, Mapping) else None
        match = _ACCOUNT_ARN.match(arn) if isinstance(arn, str) else None
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
            match = _ACCOUNT_ARN.match(item)
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
)
def iam_trust_org_scoped(args: ResourceValidationArgs, report: ReportViolation) -> None:
    prop = ROLE_TRUST.get(args.resource_type)
    if prop is None:
        return
    document = json_or_obj(plain(args.props).get(prop))
    if document is UNKNOWN:
        return
    for problem in trust_problems(document, provider_accounts(args.provider)):
        report(f"role '{args.name}' trust policy: {problem}.", None)


# --- Lambda -----------------------------------------------------------------------------------------

LAMBDA_TYPES: Final = ("aws:lambda/function:Function", "aws-native:lambda:Function")
LOG_GROUP_TYPES: Final = ("aws:cloudwatch/logGroup:LogGroup", "aws-native:logs:LogGroup")
DEFAULT_RUNTIMES: Final = ("python3.12", "python3.13")


@resource_policy(
    name="lambda-runtime-allowed",
    description="Lambda functions use a runtime from the allow-list.",
    remediation="Use one of the allowed runtimes (policy config 'runtimes'); container images are not checked.",
    group="guard-rail",
    level=EnforcementLevel.MANDATORY,
    config={
        "runtimes": {
            "type": "array",
            "items": {"type": "string", "minLength": 1},
            "minItems": 1,
            "default": list(DEFAULT_RUNTIMES),
            "description": "Lambda runtimes org-patching's functions may use.",
        }
    },
)
def lambda_runtime_allowed(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type not in LAMBDA_TYPES:
        return
    props = plain(args.props)
    if props.get("packageType") == "Image":
        return
    runtime = props.get("runtime")
    if runtime is UNKNOWN:
        return
    allowed = args.get_config().get("runtimes") or list(DEFAULT_RUNTIMES)
    if runtime not in allowed:
        report(f"Lambda function '{args.name}' uses runtime {runtime!r}; allowed: {', '.join(allowed)}.", None)


@stack_policy(
    name="lambda-log-retention",
    description="Every Lambda function logs to a log group of this stack with a retention period.",
    remediation=(
        "Create an aws.cloudwatch.LogGroup named /aws/lambda/<function name> (or pass it as logging_config.log_group) "
        "with retention_in_days set."
    ),
    group="guard-rail",
    level=EnforcementLevel.MANDATORY,
)
def lambda_log_retention(args: StackValidationArgs, report: ReportViolation) -> None:
    view = StackView(args.resources)
    groups = view.pool(*LOG_GROUP_TYPES, ids=("name", "logGroupName", "arn"))
    for group in groups:
        retention = group.props.get("retentionInDays")
        if retention is UNKNOWN:
            continue
        if not isinstance(retention, (int, float)) or retention <= 0:
            report(f"log group '{group.name}' keeps logs forever: set retention_in_days.", group.urn)
    names_unknown = any(group.props.get("name", group.props.get("logGroupName")) is UNKNOWN for group in groups)
    for function in view.of_type(*LAMBDA_TYPES):
        target = get_path(function.props, "loggingConfig", "logGroup")
        name = function.props.get("name", function.props.get("functionName"))
        if target is UNKNOWN or name is UNKNOWN:
            continue
        wanted = [target] if isinstance(target, str) and target else []
        if isinstance(name, str):
            wanted.append(f"/aws/lambda/{name}")
        found = view.points_to(function, "loggingConfig", wanted, groups)
        if found is None or names_unknown:
            continue
        if [group for group in found if _same_place(group, function)]:
            continue
        report(
            f"Lambda function '{function.name}' has no log group in this stack "
            f"({' or '.join(wanted) or 'name unknown'}): its logs would be kept forever.",
            function.urn,
        )


def _same_place(a: Node, b: Node) -> bool:
    """Same provider (account) and same region: log group names repeat in every region."""
    provider_a, provider_b = a.resource.provider, b.resource.provider
    if (provider_a.urn if provider_a else None) != (provider_b.urn if provider_b else None):
        return False
    region_a, region_b = a.props.get("region"), b.props.get("region")
    return region_a is UNKNOWN or region_b is UNKNOWN or region_a == region_b


# --- maintenance windows -------------------------------------------------------------------------------

WINDOW_TYPES: Final = ("aws:ssm/maintenanceWindow:MaintenanceWindow", "aws-native:ssm:MaintenanceWindow")


@resource_policy(
    name="maintenance-window-cutoff",
    description="A maintenance window's cutoff is shorter than its duration.",
    remediation="Set cutoff (hours before the end when no new task starts) below duration, e.g. duration 4, cutoff 1.",
    group="guard-rail",
    level=EnforcementLevel.MANDATORY,
)
def maintenance_window_cutoff(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type not in WINDOW_TYPES:
        return
    props = plain(args.props)
    duration, cutoff = props.get("duration"), props.get("cutoff")
    if not isinstance(duration, (int, float)) or not isinstance(cutoff, (int, float)):
        return  # unknown at preview, or missing (the provider rejects that itself)
    if cutoff >= duration:
        report(
            f"maintenance window '{args.name}' has cutoff {cutoff:g}h >= duration {duration:g}h: "
            "no task could ever start.",
            None,
        )


# --- explicit per-account providers -------------------------------------------------------------------

_ACCOUNT_IN_NAME = re.compile(r"(?<!\d)(\d{12})(?!\d)")


def _provider_problems(provider: PolicyProviderResource) -> tuple[str | None, list[str]]:
    """(the provider's account, what is wrong with it)."""
    problems: list[str] = []
    match = _ACCOUNT_IN_NAME.search(provider.name)
    account = match.group(1) if match else None
    if account is None:
        problems.append(f"provider '{provider.name}' is not named by its account id")
    allowed = provider_config(provider, "allowedAccountIds")
    if allowed is UNKNOWN:
        pass
    elif not isinstance(allowed, list) or not allowed:
        problems.append(f"provider '{provider.name}' sets no allowedAccountIds")
    elif account is not None and allowed != [account]:
        problems.append(
            f"provider '{provider.name}' allows accounts {', '.join(map(str, allowed))}, not just {account}"
        )
    for role in as_list(provider_config(provider, "assumeRoles")):
        if role is UNKNOWN:
            continue
        arn = role.get("roleArn") if isinstance(role, Mapping) else None
        if arn is UNKNOWN:
            continue
        if not isinstance(arn, str) or not arn:
            # also the typed-dict trap: {"role_arn": ...} reaches the provider verbatim and is ignored
            problems.append(f"provider '{provider.name}' has an assumeRoles entry without roleArn")
            continue
        role_match = _ACCOUNT_ARN.match(arn)
        if account is not None and (role_match is None or role_match.group(1) != account):
            problems.append(f"provider '{provider.name}' assumes {arn}, a role outside account {account}")
    return account, problems


@stack_policy(
    name="spoke-explicit-provider",
    description="Every AWS resource uses its own account's explicit provider (never the default provider).",
    remediation=(
        "Pass opts=ResourceOptions(provider=<the account's provider>) (children inherit it from their component); "
        "providers are named by account id, set allowed_account_ids=[<account>] and assume_roles="
        "[aws.ProviderAssumeRoleArgs(role_arn=...)] in that account."
    ),
    group="guard-rail",
    level=EnforcementLevel.MANDATORY,
)
def spoke_explicit_provider(args: StackValidationArgs, report: ReportViolation) -> None:
    """A resource under a component named for an account (a spoke) must use that account's
    provider; a forgotten provider means the default one, i.e. the deploying (hub) account."""
    seen_providers: dict[str, tuple[str | None, list[str]]] = {}
    for resource in args.resources:
        type_ = resource.resource_type
        if not type_.startswith(("aws:", "aws-native:")):
            continue
        provider = resource.provider
        if provider is None or provider.name.startswith("default") or "::default" in provider.urn:
            report(f"{type_} '{resource.name}' uses the default provider: pass its account's provider.", resource.urn)
            continue
        if provider.urn not in seen_providers:
            seen_providers[provider.urn] = _provider_problems(provider)
            for problem in seen_providers[provider.urn][1]:
                report(f"{problem}.", provider.urn)
        account = seen_providers[provider.urn][0]
        owner = _owning_account(resource)
        if owner is not None and account is not None and owner != account:
            report(
                f"{type_} '{resource.name}' belongs to account {owner} (its component) but uses provider "
                f"'{provider.name}' of account {account}.",
                resource.urn,
            )


def _owning_account(resource: PolicyResource) -> str | None:
    """The account id in the name of the nearest ancestor component, if any."""
    parent = resource.parent
    while parent is not None:
        if not parent.resource_type.startswith(("aws:", "aws-native:", "pulumi:")):
            match = _ACCOUNT_IN_NAME.search(parent.name)
            if match:
                return match.group(1)
        parent = parent.parent
    return None
