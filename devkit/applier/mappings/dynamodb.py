"""DynamoDB tables and SNS topic policies (the approval gate, the failure alerts, both hub topics)."""

from __future__ import annotations

from typing import Any

import boto3

from ..registry import Created, Target, mapping, missing_is_none


def _read_table(session: boto3.session.Session, name: str, _: dict[str, Any]) -> Any:
    client = session.client("dynamodb")
    return missing_is_none(lambda: client.describe_table(TableName=name)["Table"])


@mapping("aws:dynamodb/table:Table", _read_table)
def table(target: Target) -> Created:
    """CreateTable (pulumi-aws: attributes, hashKey, billingMode, SSE, deletion protection), then TTL and PITR."""
    i = target.inputs
    name = target.autoname()
    request: dict[str, Any] = {
        "TableName": name,
        "AttributeDefinitions": [{"AttributeName": a["name"], "AttributeType": a["type"]} for a in i["attributes"]],
        "KeySchema": [{"AttributeName": i["hashKey"], "KeyType": "HASH"}]
        + ([{"AttributeName": i["rangeKey"], "KeyType": "RANGE"}] if i.get("rangeKey") else []),
        "BillingMode": i.get("billingMode") or "PROVISIONED",
    }
    sse = i.get("serverSideEncryption") or {}
    if sse.get("enabled"):
        request["SSESpecification"] = {"Enabled": True, "SSEType": "KMS"}
        if sse.get("kmsKeyArn"):
            request["SSESpecification"]["KMSMasterKeyId"] = str(sse["kmsKeyArn"])
    if i.get("deletionProtectionEnabled") is not None:
        request["DeletionProtectionEnabled"] = bool(i["deletionProtectionEnabled"])
    if target.tags:
        request["Tags"] = target.tag_list()
    client = target.client("dynamodb")
    created = client.create_table(**request)["TableDescription"]
    ttl = i.get("ttl") or {}
    if ttl.get("enabled"):
        client.update_time_to_live(
            TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": ttl["attributeName"]}
        )
    if (i.get("pointInTimeRecovery") or {}).get("enabled"):
        client.update_continuous_backups(
            TableName=name, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
        )
    return Created(name, {"name": name, "arn": created["TableArn"]})


def _read_topic_policy(session: boto3.session.Session, topic_arn: str, _: dict[str, Any]) -> Any:
    client = session.client("sns")
    return missing_is_none(lambda: client.get_topic_attributes(TopicArn=topic_arn)["Attributes"].get("Policy"))


@mapping("aws:sns/topicPolicy:TopicPolicy", _read_topic_policy)
def topic_policy(target: Target) -> Created:
    """SetTopicAttributes(Policy): pulumi-aws's TopicPolicy, whose id is the topic ARN."""
    i = target.inputs
    topic_arn = str(i["arn"])
    target.client("sns").set_topic_attributes(
        TopicArn=topic_arn, AttributeName="Policy", AttributeValue=str(i["policy"])
    )
    return Created(topic_arn, {"arn": topic_arn, "policy": str(i["policy"])})
