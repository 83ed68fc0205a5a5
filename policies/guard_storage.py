"""Guard rails for storage: ``s3-bucket-encrypted-private`` and ``kms-key-rotation``.

A guard rail runs on org-patching's own stacks only (see ``registry``): it encodes a convention
of docs/DEVELOPING.md so a change that weakens it fails ``pulumi preview`` (and ``patchctl preview``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from policy_docs import statements
from pulumi_policy import EnforcementLevel, ReportViolation, ResourceValidationArgs, StackValidationArgs
from registry import resource_policy, stack_policy
from stackview import Node, StackView
from wire import UNKNOWN, as_list, json_or_obj, plain

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
    for statement in statements(document, "Deny"):
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
    encryptions, sse_blind = view.companions(SSE_TYPES, "bucket", buckets)
    pab, pab_blind = view.companions((PAB_TYPE,), "bucket", buckets)
    policies, tls_blind = view.companions((BUCKET_POLICY_TYPE,), "bucket", buckets)

    for bucket in buckets:
        label = f"bucket '{bucket.name}'"
        algorithms = _inline_sse(bucket) + [a for node in encryptions[bucket.urn] for a in _sse_algorithms(node.props)]
        if UNKNOWN not in algorithms and not sse_blind:
            if not algorithms:
                report(f"{label} has no server-side encryption configuration (SSE-KMS required).", bucket.urn)
            elif not any(algorithm in KMS_ALGORITHMS for algorithm in algorithms):
                shown = ", ".join(sorted({str(a) for a in algorithms}))
                report(f"{label} is encrypted with {shown}; use sse_algorithm 'aws:kms'.", bucket.urn)
        blocks = pab[bucket.urn]
        if not blocks and not pab_blind:
            report(f"{label} has no public access block.", bucket.urn)
        for block in blocks:
            off = [
                flag for flag in PAB_FLAGS if block.props.get(flag) is not True and block.props.get(flag) is not UNKNOWN
            ]
            if off:
                report(
                    f"{label}: public access block '{block.name}' does not set {', '.join(off)} to true.", bucket.urn
                )
        documents = [json_or_obj(node.props.get("policy")) for node in policies[bucket.urn]]
        if tls_blind or UNKNOWN in documents:
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
    types=KMS_KEY_TYPES,
)
def kms_key_rotation(args: ResourceValidationArgs, report: ReportViolation) -> None:
    props = plain(args.props)
    spec = props.get("keySpec") or props.get("customerMasterKeySpec") or "SYMMETRIC_DEFAULT"
    if spec is UNKNOWN or spec != "SYMMETRIC_DEFAULT":
        return
    rotation = props.get("enableKeyRotation")
    if rotation is not True and rotation is not UNKNOWN:
        report(f"KMS key '{args.name}' does not enable automatic key rotation (enable_key_rotation=True).", None)
