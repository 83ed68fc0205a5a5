"""An S3 bucket with the project's non-negotiable defaults.

SSE-KMS with a bucket key, every public access blocked, TLS-only, versioned, owner-enforced
(no ACLs), and a lifecycle on the whole bucket — the seed's lifecycle rules targeted a
``glacier`` prefix nothing wrote to, so its real data was kept forever.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

from .errors import OrgPatchingError
from .policy_documents import Statement, deny_insecure_transport, document, to_json


@dataclass
class SecureBucketArgs:
    kms_key_arn: pulumi.Input[str]
    #: Days before current objects move to Glacier Instant Retrieval (0: never).
    archive_after_days: int
    #: Days before current objects expire.
    expire_after_days: int
    #: Days a replaced object version is kept.
    noncurrent_days: int = 30
    #: Statements added to the bucket policy (besides TLS-only); ``{bucket_arn}`` is not
    #: substituted: pass Outputs built from ``bucket.arn`` via ``statements_for``.
    statements: Sequence[Statement] = field(default_factory=list)
    force_destroy: bool = False


def validate_lifecycle(name: str, args: SecureBucketArgs) -> None:
    """S3 refuses (InvalidArgument) a lifecycle rule whose Expiration.Days is not greater than
    its Transition.Days (S3 User Guide, lifecycle configuration elements): fail at render time."""
    if args.archive_after_days and args.expire_after_days <= args.archive_after_days:
        raise OrgPatchingError(
            f"bucket {name}: objects expire after {args.expire_after_days} days, not after their transition to "
            f"Glacier at {args.archive_after_days} days (S3 refuses such a lifecycle rule)"
        )


class SecureBucket(pulumi.ComponentResource):
    """One bucket and its configuration resources (pulumi-aws 7 splits them)."""

    bucket: aws.s3.Bucket
    policy: aws.s3.BucketPolicy

    def __init__(
        self,
        name: str,
        args: SecureBucketArgs,
        statements_for: Any = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        """``statements_for(bucket_arn) -> list[Statement]`` builds policy statements that
        need the bucket's ARN (service delivery, org access)."""
        validate_lifecycle(name, args)
        super().__init__("org-patching:storage:SecureBucket", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.bucket = aws.s3.Bucket(name, force_destroy=args.force_destroy, opts=child)
        self.ownership = aws.s3.BucketOwnershipControls(
            f"{name}-ownership",
            bucket=self.bucket.id,
            rule=aws.s3.BucketOwnershipControlsRuleArgs(object_ownership="BucketOwnerEnforced"),
            opts=child,
        )
        self.public_access_block = aws.s3.BucketPublicAccessBlock(
            f"{name}-public-access",
            bucket=self.bucket.id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
            opts=child,
        )
        self.encryption = aws.s3.BucketServerSideEncryptionConfiguration(
            f"{name}-encryption",
            bucket=self.bucket.id,
            rules=[
                aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
                    apply_server_side_encryption_by_default=aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
                        sse_algorithm="aws:kms", kms_master_key_id=args.kms_key_arn
                    ),
                    bucket_key_enabled=True,
                )
            ],
            opts=child,
        )
        self.versioning = aws.s3.BucketVersioning(
            f"{name}-versioning",
            bucket=self.bucket.id,
            versioning_configuration=aws.s3.BucketVersioningVersioningConfigurationArgs(status="Enabled"),
            opts=child,
        )
        transitions = (
            [
                aws.s3.BucketLifecycleConfigurationRuleTransitionArgs(
                    days=args.archive_after_days, storage_class="GLACIER_IR"
                )
            ]
            if args.archive_after_days
            else None
        )
        self.lifecycle = aws.s3.BucketLifecycleConfiguration(
            f"{name}-lifecycle",
            bucket=self.bucket.id,
            rules=[
                aws.s3.BucketLifecycleConfigurationRuleArgs(
                    id="retention",
                    status="Enabled",
                    filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=""),
                    transitions=transitions,
                    expiration=aws.s3.BucketLifecycleConfigurationRuleExpirationArgs(days=args.expire_after_days),
                    noncurrent_version_expiration=aws.s3.BucketLifecycleConfigurationRuleNoncurrentVersionExpirationArgs(
                        noncurrent_days=args.noncurrent_days
                    ),
                    abort_incomplete_multipart_upload=aws.s3.BucketLifecycleConfigurationRuleAbortIncompleteMultipartUploadArgs(
                        days_after_initiation=7
                    ),
                )
            ],
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.versioning]),
        )
        extra = list(args.statements) + (list(statements_for(self.bucket.arn)) if statements_for else [])
        self.policy = aws.s3.BucketPolicy(
            f"{name}-policy",
            bucket=self.bucket.id,
            policy=to_json(document(deny_insecure_transport(self.bucket.arn), *extra)),
            # A policy is rejected while the public access block is being changed.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.public_access_block]),
        )
        self.register_outputs({"bucket": self.bucket.bucket, "arn": self.bucket.arn})
