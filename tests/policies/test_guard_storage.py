"""``guard_storage``: s3-bucket-encrypted-private joins each bucket with its companions; kms-key-rotation."""

from __future__ import annotations

import json

from policy_testing import R, U, run_resource, run_stack

GR = "org-patching"

TLS = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": ["arn:aws:s3:::b", "arn:aws:s3:::b/*"],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            }
        ],
    }
)
SSE_T = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
PAB_T = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
POL_T = "aws:s3/bucketPolicy:BucketPolicy"
BUCKET_T = "aws:s3/bucket:Bucket"
PAB_ON = {"blockPublicAcls": True, "blockPublicPolicy": True, "ignorePublicAcls": True, "restrictPublicBuckets": True}


def _bucket_stack(
    *, algorithm: str = "aws:kms", pab: dict | None = None, policy: str | None = TLS, project: str = "org-patching"
) -> list[R]:
    resources = [
        R(BUCKET_T, "lake", {"bucket": "lake-123", "id": "lake-123", "arn": "arn:aws:s3:::lake-123"}, project),
        R(
            SSE_T,
            "lake-sse",
            {"bucket": "lake-123", "rules": [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": algorithm}}]},
            project,
        ),
        R(PAB_T, "lake-pab", {"bucket": "lake-123", **(PAB_ON if pab is None else pab)}, project),
    ]
    if policy is not None:
        resources.append(R(POL_T, "lake-policy", {"bucket": "lake-123", "policy": policy}, project))
    return resources


def test_s3_compliant_bucket_passes() -> None:
    assert run_stack("s3-bucket-encrypted-private", _bucket_stack()) == []


def test_s3_each_missing_part_is_named() -> None:
    found = run_stack("s3-bucket-encrypted-private", _bucket_stack(algorithm="AES256", policy=None))
    messages = [message for name, message in found]
    assert all(name == "lake" for name, _ in found)
    assert any("encrypted with AES256" in m and "aws:kms" in m for m in messages)
    assert any("no bucket policy" in m and "aws:SecureTransport" in m for m in messages)
    found = run_stack("s3-bucket-encrypted-private", _bucket_stack(pab={**PAB_ON, "blockPublicPolicy": False}))
    assert [m for _, m in found] == [
        "bucket 'lake': public access block 'lake-pab' does not set blockPublicPolicy to true."
    ]


def test_s3_bucket_without_companions_fails_three_ways() -> None:
    found = run_stack("s3-bucket-encrypted-private", [R(BUCKET_T, "bare", {"bucket": "bare"}, "org-patching")])
    assert len(found) == 3
    assert {name for name, _ in found} == {"bare"}


def test_s3_joins_by_property_dependency_when_names_are_unknown_at_preview() -> None:
    resources = [
        R(BUCKET_T, "lake", {"bucket": U, "id": U}, "org-patching"),
        R(
            SSE_T,
            "lake-sse",
            {"bucket": U, "rules": [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "aws:kms"}}]},
            "org-patching",
            deps={"bucket": ["lake"]},
        ),
        R(PAB_T, "lake-pab", {"bucket": U, **PAB_ON}, "org-patching", deps={"bucket": ["lake"]}),
        R(POL_T, "lake-policy", {"bucket": U, "policy": U}, "org-patching", deps={"bucket": ["lake"]}),
    ]
    assert run_stack("s3-bucket-encrypted-private", resources) == []
    # Without dependencies an unknown reference means "cannot tell": no false violation.
    for r in resources:
        r.deps = {}
    assert run_stack("s3-bucket-encrypted-private", resources) == []


def test_s3_guard_rail_ignores_other_projects_unless_configured() -> None:
    stack = _bucket_stack(policy=None, project="someone-else")
    assert run_stack("s3-bucket-encrypted-private", stack) == []
    assert len(run_stack("s3-bucket-encrypted-private", stack, config={"projects": ["someone-else"]})) == 1
    assert len(run_stack("s3-bucket-encrypted-private", stack, config={"projects": ["*"]})) == 1


def test_kms_rotation() -> None:
    key = "aws:kms/key:Key"
    assert run_resource("kms-key-rotation", key, {"enableKeyRotation": True}, project=GR) == []
    [message] = run_resource("kms-key-rotation", key, {}, project=GR, resource_name="lake")
    assert message == "KMS key 'lake' does not enable automatic key rotation (enable_key_rotation=True)."
    assert run_resource("kms-key-rotation", key, {"customerMasterKeySpec": "RSA_2048"}, project=GR) == []
    assert run_resource("kms-key-rotation", key, {"enableKeyRotation": U}, project=GR) == []
    assert run_resource("kms-key-rotation", key, {}, project="app") == []  # not our stack
