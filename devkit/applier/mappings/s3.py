"""S3: the bucket and the configuration resources pulumi-aws 7 splits off it, and objects."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import boto3

from ..errors import ServiceRuleViolation
from ..registry import Created, Target, mapping, missing_is_none
from ..rules import s3_lifecycle_rule_errors


def _bucket_of(target: Target) -> str:
    return str(target.inputs["bucket"])


def _read_bucket(session: boto3.session.Session, bucket: str, _: dict[str, Any]) -> Any:
    return missing_is_none(lambda: session.client("s3").head_bucket(Bucket=bucket))


@mapping("aws:s3/bucket:Bucket", _read_bucket)
def bucket(target: Target) -> Created:
    name = target.autoname("bucket")
    s3 = target.client("s3")
    extra: dict[str, Any] = {}
    if target.region != "us-east-1":
        extra["CreateBucketConfiguration"] = {"LocationConstraint": target.region}
    s3.create_bucket(Bucket=name, **extra)
    if target.tags:
        s3.put_bucket_tagging(Bucket=name, Tagging={"TagSet": target.tag_list()})
    return Created(
        name,
        {
            "bucket": name,
            "arn": f"arn:aws:s3:::{name}",
            "region": target.region,
            "bucketDomainName": f"{name}.s3.amazonaws.com",
            "bucketRegionalDomainName": f"{name}.s3.{target.region}.amazonaws.com",
        },
    )


def _reader(call: str, **codes: Any) -> Any:
    def read(session: boto3.session.Session, bucket: str, _: dict[str, Any]) -> Any:
        client = session.client("s3")
        return missing_is_none(lambda: getattr(client, call)(Bucket=bucket))

    return read


@mapping("aws:s3/bucketOwnershipControls:BucketOwnershipControls", _reader("get_bucket_ownership_controls"))
def ownership(target: Target) -> Created:
    rule = target.inputs["rule"]
    target.client("s3").put_bucket_ownership_controls(
        Bucket=_bucket_of(target), OwnershipControls={"Rules": [{"ObjectOwnership": rule["objectOwnership"]}]}
    )
    return Created(_bucket_of(target))


@mapping("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", _reader("get_public_access_block"))
def public_access_block(target: Target) -> Created:
    i = target.inputs
    target.client("s3").put_public_access_block(
        Bucket=_bucket_of(target),
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": bool(i.get("blockPublicAcls")),
            "IgnorePublicAcls": bool(i.get("ignorePublicAcls")),
            "BlockPublicPolicy": bool(i.get("blockPublicPolicy")),
            "RestrictPublicBuckets": bool(i.get("restrictPublicBuckets")),
        },
    )
    return Created(_bucket_of(target))


@mapping(
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    _reader("get_bucket_encryption"),
)
def encryption(target: Target) -> Created:
    rules = []
    for rule in target.inputs["rules"]:
        default = rule.get("applyServerSideEncryptionByDefault") or {}
        rendered: dict[str, Any] = {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": default["sseAlgorithm"]}}
        if default.get("kmsMasterKeyId"):
            rendered["ApplyServerSideEncryptionByDefault"]["KMSMasterKeyID"] = default["kmsMasterKeyId"]
        if rule.get("bucketKeyEnabled") is not None:
            rendered["BucketKeyEnabled"] = bool(rule["bucketKeyEnabled"])
        rules.append(rendered)
    target.client("s3").put_bucket_encryption(
        Bucket=_bucket_of(target), ServerSideEncryptionConfiguration={"Rules": rules}
    )
    return Created(_bucket_of(target))


def _read_versioning(session: boto3.session.Session, bucket: str, _: dict[str, Any]) -> Any:
    found = missing_is_none(lambda: session.client("s3").get_bucket_versioning(Bucket=bucket))
    return found if found and found.get("Status") else None


@mapping("aws:s3/bucketVersioning:BucketVersioning", _read_versioning)
def versioning(target: Target) -> Created:
    status = target.inputs["versioningConfiguration"]["status"]
    target.client("s3").put_bucket_versioning(Bucket=_bucket_of(target), VersioningConfiguration={"Status": status})
    return Created(_bucket_of(target))


def _lifecycle_rule(rule: dict[str, Any]) -> dict[str, Any]:
    rendered: dict[str, Any] = {"ID": rule.get("id"), "Status": rule["status"]}
    flt = rule.get("filter")
    rendered["Filter"] = {"Prefix": flt.get("prefix", "")} if flt is not None else {"Prefix": ""}
    if rule.get("expiration"):
        rendered["Expiration"] = {"Days": int(rule["expiration"]["days"])}
    if rule.get("transitions"):
        rendered["Transitions"] = [
            {"Days": int(t["days"]), "StorageClass": t["storageClass"]} for t in rule["transitions"]
        ]
    if rule.get("noncurrentVersionExpiration"):
        rendered["NoncurrentVersionExpiration"] = {
            "NoncurrentDays": int(rule["noncurrentVersionExpiration"]["noncurrentDays"])
        }
    if rule.get("abortIncompleteMultipartUpload"):
        rendered["AbortIncompleteMultipartUpload"] = {
            "DaysAfterInitiation": int(rule["abortIncompleteMultipartUpload"]["daysAfterInitiation"])
        }
    return rendered


@mapping(
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
    _reader("get_bucket_lifecycle_configuration"),
)
def lifecycle(target: Target) -> Created:
    rules = list(target.inputs["rules"])
    errors = s3_lifecycle_rule_errors(rules)
    if errors:
        raise ServiceRuleViolation(target.type, target.urn, "; ".join(errors))
    target.client("s3").put_bucket_lifecycle_configuration(
        Bucket=_bucket_of(target), LifecycleConfiguration={"Rules": [_lifecycle_rule(r) for r in rules]}
    )
    return Created(_bucket_of(target))


@mapping("aws:s3/bucketPolicy:BucketPolicy", _reader("get_bucket_policy"))
def bucket_policy(target: Target) -> Created:
    target.client("s3").put_bucket_policy(Bucket=_bucket_of(target), Policy=str(target.inputs["policy"]))
    return Created(_bucket_of(target))


def _object_body(target: Target) -> bytes:
    source = target.inputs.get("source")
    if source is not None:
        path = getattr(source, "path", None) or (source.get("path") if isinstance(source, dict) else None)
        return Path(str(path)).read_bytes()
    return str(target.inputs.get("content") or "").encode()


def _read_object(session: boto3.session.Session, key: str, outputs: dict[str, Any]) -> Any:
    bucket = str(outputs["bucket"])
    return missing_is_none(lambda: session.client("s3").head_object(Bucket=bucket, Key=key), "404")


@mapping("aws:s3/bucketObjectv2:BucketObjectv2", _read_object)
def bucket_object(target: Target) -> Created:
    i = target.inputs
    body = _object_body(target)
    extra: dict[str, Any] = {}
    for source, dest in (
        ("contentType", "ContentType"),
        ("serverSideEncryption", "ServerSideEncryption"),
        ("kmsKeyId", "SSEKMSKeyId"),
        ("bucketKeyEnabled", "BucketKeyEnabled"),
    ):
        if i.get(source) is not None:
            extra[dest] = i[source]
    response = target.client("s3").put_object(Bucket=_bucket_of(target), Key=str(i["key"]), Body=body, **extra)
    return Created(
        str(i["key"]),
        {
            "etag": str(response.get("ETag", "")).strip('"') or hashlib.md5(body).hexdigest(),
            "versionId": response.get("VersionId", ""),
            "arn": f"arn:aws:s3:::{_bucket_of(target)}/{i['key']}",
        },
    )
