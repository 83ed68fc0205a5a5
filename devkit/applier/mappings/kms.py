"""KMS: customer managed keys and their aliases."""

from __future__ import annotations

from typing import Any

import boto3

from ..registry import Created, Target, mapping, missing_is_none


def _read_key(session: boto3.session.Session, key_id: str, _: dict[str, Any]) -> Any:
    return missing_is_none(lambda: session.client("kms").describe_key(KeyId=key_id)["KeyMetadata"])


@mapping("aws:kms/key:Key", _read_key)
def key(target: Target) -> Created:
    kms = target.client("kms")
    i = target.inputs
    extra: dict[str, Any] = {}
    if i.get("description"):
        extra["Description"] = i["description"]
    if i.get("policy"):
        extra["Policy"] = str(i["policy"])
    if i.get("keyUsage"):
        extra["KeyUsage"] = i["keyUsage"]
    if i.get("customerMasterKeySpec"):
        extra["KeySpec"] = i["customerMasterKeySpec"]
    if target.tags:
        extra["Tags"] = target.tag_list("TagKey", "TagValue")
    metadata = kms.create_key(**extra)["KeyMetadata"]
    if i.get("enableKeyRotation"):
        kms.enable_key_rotation(KeyId=metadata["KeyId"])
    return Created(metadata["KeyId"], {"keyId": metadata["KeyId"], "arn": metadata["Arn"]})


def _read_alias(session: boto3.session.Session, name: str, _: dict[str, Any]) -> Any:
    aliases = session.client("kms").list_aliases()["Aliases"]
    return next((a for a in aliases if a["AliasName"] == name and a.get("TargetKeyId")), None)


@mapping("aws:kms/alias:Alias", _read_alias)
def alias(target: Target) -> Created:
    name = target.autoname()
    key_id = str(target.inputs["targetKeyId"])
    kms = target.client("kms")
    kms.create_alias(AliasName=name, TargetKeyId=key_id)
    key_arn = kms.describe_key(KeyId=key_id)["KeyMetadata"]["Arn"]
    return Created(
        name,
        {
            "name": name,
            "arn": f"arn:aws:kms:{target.region}:{target.account}:{name}",
            "targetKeyArn": key_arn,
        },
    )
