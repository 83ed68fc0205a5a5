"""Lambda, SQS, SNS, Step Functions, CloudWatch Logs, EventBridge and AWS Config rules."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from typing import Any

import boto3
import pulumi

from ..errors import ServiceRuleViolation
from ..registry import Created, Target, mapping, missing_is_none
from ..rules import config_rule_needs_recorder

# --------------------------------------------------------------------------------------- Lambda


def archive_bytes(archive: Any) -> bytes:
    """The zip pulumi-aws uploads for an ``AssetArchive`` of file/string assets (stable order
    and timestamps, so the same sources give the same CodeSha256)."""
    if isinstance(archive, pulumi.FileArchive):
        return Path(archive.path).read_bytes()
    if not isinstance(archive, pulumi.AssetArchive):
        raise TypeError(f"unsupported Lambda code {type(archive).__name__}")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as out:
        for name in sorted(archive.assets):
            asset = archive.assets[name]
            if isinstance(asset, pulumi.FileAsset):
                data = Path(asset.path).read_bytes()
            elif isinstance(asset, pulumi.StringAsset):
                data = asset.text.encode()
            else:
                raise TypeError(f"unsupported asset {name}: {type(asset).__name__}")
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.external_attr = 0o644 << 16
            out.writestr(info, data)
    return buffer.getvalue()


def _read_function(session: boto3.session.Session, name: str, _: dict[str, Any]) -> Any:
    return missing_is_none(lambda: session.client("lambda").get_function(FunctionName=name))


@mapping("aws:lambda/function:Function", _read_function)
def function(target: Target) -> Created:
    i = target.inputs
    name = target.autoname()
    request: dict[str, Any] = {
        "FunctionName": name,
        "Role": str(i["role"]),
        "Code": {"ZipFile": archive_bytes(i["code"])},
        "PackageType": "Zip",
        "Publish": bool(i.get("publish", False)),
    }
    for source, dest in (
        ("runtime", "Runtime"),
        ("handler", "Handler"),
        ("description", "Description"),
        ("timeout", "Timeout"),
        ("memorySize", "MemorySize"),
        ("layers", "Layers"),
        ("architectures", "Architectures"),
    ):
        if i.get(source) is not None:
            request[dest] = int(i[source]) if dest in ("Timeout", "MemorySize") else i[source]
    if (i.get("environment") or {}).get("variables"):
        request["Environment"] = {"Variables": dict(i["environment"]["variables"])}
    if (i.get("deadLetterConfig") or {}).get("targetArn"):
        request["DeadLetterConfig"] = {"TargetArn": i["deadLetterConfig"]["targetArn"]}
    if i.get("loggingConfig"):
        logging = i["loggingConfig"]
        request["LoggingConfig"] = {
            k: v
            for k, v in (
                ("LogFormat", logging.get("logFormat")),
                ("LogGroup", logging.get("logGroup")),
                ("ApplicationLogLevel", logging.get("applicationLogLevel")),
                ("SystemLogLevel", logging.get("systemLogLevel")),
            )
            if v
        }
    if target.tags:
        request["Tags"] = target.tags
    created = target.client("lambda").create_function(**request)
    function_arn = created["FunctionArn"]
    return Created(
        name,
        {
            "name": name,
            "arn": function_arn,
            "qualifiedArn": f"{function_arn}:{created.get('Version', '$LATEST')}",
            "invokeArn": (
                f"arn:aws:apigateway:{target.region}:lambda:path/2015-03-31/functions/{function_arn}/invocations"
            ),
            "version": created.get("Version", "$LATEST"),
            "sourceCodeHash": created.get("CodeSha256", ""),
        },
    )


def _read_permission(session: boto3.session.Session, statement_id: str, outputs: dict[str, Any]) -> Any:
    client = session.client("lambda")
    found = missing_is_none(lambda: client.get_policy(FunctionName=str(outputs["function"])))
    if not found:
        return None
    statements = json.loads(found["Policy"]).get("Statement", [])
    return next((s for s in statements if s.get("Sid") == statement_id), None)


@mapping("aws:lambda/permission:Permission", _read_permission)
def permission(target: Target) -> Created:
    i = target.inputs
    statement_id = str(i.get("statementId") or target.autoname("statementId"))
    request: dict[str, Any] = {
        "FunctionName": str(i["function"]),
        "StatementId": statement_id,
        "Action": i["action"],
        "Principal": i["principal"],
    }
    for source, dest in (("sourceArn", "SourceArn"), ("sourceAccount", "SourceAccount"), ("qualifier", "Qualifier")):
        if i.get(source):
            request[dest] = i[source]
    target.client("lambda").add_permission(**request)
    return Created(statement_id, {"statementId": statement_id})


# ------------------------------------------------------------------------------------------ SQS


def _read_queue(session: boto3.session.Session, url: str, _: dict[str, Any]) -> Any:
    client = session.client("sqs")
    return missing_is_none(lambda: client.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"])


@mapping("aws:sqs/queue:Queue", _read_queue)
def queue(target: Target) -> Created:
    i = target.inputs
    name = target.autoname()
    attributes: dict[str, str] = {}
    for source, dest in (
        ("messageRetentionSeconds", "MessageRetentionPeriod"),
        ("visibilityTimeoutSeconds", "VisibilityTimeout"),
        ("sqsManagedSseEnabled", "SqsManagedSseEnabled"),
        ("kmsMasterKeyId", "KmsMasterKeyId"),
        ("policy", "Policy"),
    ):
        if i.get(source) is not None:
            value = i[source]
            if isinstance(value, bool):
                attributes[dest] = str(value).lower()
            else:  # Pulumi numbers arrive as floats
                attributes[dest] = str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)
    sqs = target.client("sqs")
    url = sqs.create_queue(QueueName=name, Attributes=attributes, tags=target.tags)["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return Created(url, {"name": name, "arn": queue_arn, "url": url})


# ------------------------------------------------------------------------------------------ SNS


def _read_topic(session: boto3.session.Session, topic_arn: str, _: dict[str, Any]) -> Any:
    client = session.client("sns")
    return missing_is_none(lambda: client.get_topic_attributes(TopicArn=topic_arn)["Attributes"])


@mapping("aws:sns/topic:Topic", _read_topic)
def topic(target: Target) -> Created:
    i = target.inputs
    name = target.autoname()
    attributes = {
        dest: str(i[source])
        for source, dest in (("displayName", "DisplayName"), ("kmsMasterKeyId", "KmsMasterKeyId"), ("policy", "Policy"))
        if i.get(source)
    }
    request: dict[str, Any] = {"Name": name, "Attributes": attributes}
    if target.tags:
        request["Tags"] = target.tag_list()
    topic_arn = target.client("sns").create_topic(**request)["TopicArn"]
    return Created(topic_arn, {"name": name, "arn": topic_arn})


def _read_subscription(session: boto3.session.Session, subscription_arn: str, outputs: dict[str, Any]) -> Any:
    client = session.client("sns")
    found = client.list_subscriptions_by_topic(TopicArn=str(outputs["topic"]))["Subscriptions"]
    return next((s for s in found if s["SubscriptionArn"] == subscription_arn), None)


@mapping("aws:sns/topicSubscription:TopicSubscription", _read_subscription)
def subscription(target: Target) -> Created:
    i = target.inputs
    response = target.client("sns").subscribe(
        TopicArn=str(i["topic"]), Protocol=i["protocol"], Endpoint=i["endpoint"], ReturnSubscriptionArn=True
    )
    return Created(response["SubscriptionArn"], {"arn": response["SubscriptionArn"]})


# ------------------------------------------------------------------------------- Step Functions


def _read_state_machine(session: boto3.session.Session, machine_arn: str, _: dict[str, Any]) -> Any:
    client = session.client("stepfunctions")
    return missing_is_none(lambda: client.describe_state_machine(stateMachineArn=machine_arn))


@mapping("aws:sfn/stateMachine:StateMachine", _read_state_machine)
def state_machine(target: Target) -> Created:
    i = target.inputs
    name = target.autoname()
    request: dict[str, Any] = {
        "name": name,
        "definition": str(i["definition"]),
        "roleArn": str(i["roleArn"]),
        "type": i.get("type") or "STANDARD",
    }
    logging = i.get("loggingConfiguration")
    if logging:
        rendered: dict[str, Any] = {
            "level": logging.get("level", "OFF"),
            "includeExecutionData": bool(logging.get("includeExecutionData")),
        }
        if logging.get("logDestination"):
            rendered["destinations"] = [{"cloudWatchLogsLogGroup": {"logGroupArn": logging["logDestination"]}}]
        request["loggingConfiguration"] = rendered
    if i.get("tracingConfiguration"):
        request["tracingConfiguration"] = {"enabled": bool(i["tracingConfiguration"].get("enabled"))}
    if target.tags:
        request["tags"] = target.tag_list("key", "value")
    created = target.client("stepfunctions").create_state_machine(**request)
    return Created(created["stateMachineArn"], {"name": name, "arn": created["stateMachineArn"]})


# ------------------------------------------------------------------------------------------ Logs


def _read_log_group(session: boto3.session.Session, name: str, _: dict[str, Any]) -> Any:
    groups = session.client("logs").describe_log_groups(logGroupNamePrefix=name)["logGroups"]
    return next((g for g in groups if g["logGroupName"] == name), None)


@mapping("aws:cloudwatch/logGroup:LogGroup", _read_log_group)
def log_group(target: Target) -> Created:
    name = target.autoname()
    logs = target.client("logs")
    request: dict[str, Any] = {"logGroupName": name}
    if target.inputs.get("kmsKeyId"):
        request["kmsKeyId"] = target.inputs["kmsKeyId"]
    if target.tags:
        request["tags"] = target.tags
    logs.create_log_group(**request)
    if target.inputs.get("retentionInDays"):
        logs.put_retention_policy(logGroupName=name, retentionInDays=int(target.inputs["retentionInDays"]))
    # pulumi-aws reports the ARN without the trailing ":*" that DescribeLogGroups has.
    return Created(name, {"name": name, "arn": f"arn:aws:logs:{target.region}:{target.account}:log-group:{name}"})


# ------------------------------------------------------------------------------------ EventBridge


def _read_rule(session: boto3.session.Session, name: str, outputs: dict[str, Any]) -> Any:
    bus = {"EventBusName": str(outputs["eventBusName"])} if outputs.get("eventBusName") else {}
    return missing_is_none(lambda: session.client("events").describe_rule(Name=name, **bus))


@mapping("aws:cloudwatch/eventRule:EventRule", _read_rule)
def event_rule(target: Target) -> Created:
    i = target.inputs
    name = target.autoname()
    request: dict[str, Any] = {"Name": name, "State": i.get("state") or "ENABLED"}
    for source, dest in (
        ("eventPattern", "EventPattern"),
        ("scheduleExpression", "ScheduleExpression"),
        ("description", "Description"),
        ("roleArn", "RoleArn"),
        ("eventBusName", "EventBusName"),
    ):
        if i.get(source):
            request[dest] = str(i[source])
    if target.tags:
        request["Tags"] = target.tag_list()
    rule_arn = target.client("events").put_rule(**request)["RuleArn"]
    return Created(name, {"name": name, "arn": rule_arn})


def _read_target(session: boto3.session.Session, _: str, outputs: dict[str, Any]) -> Any:
    client = session.client("events")
    bus = {"EventBusName": str(outputs["eventBusName"])} if outputs.get("eventBusName") else {}
    found = missing_is_none(lambda: client.list_targets_by_rule(Rule=str(outputs["rule"]), **bus))
    return next((t for t in (found or {}).get("Targets", []) if t["Id"] == outputs["targetId"]), None)


@mapping("aws:cloudwatch/eventTarget:EventTarget", _read_target)
def event_target(target: Target) -> Created:
    i = target.inputs
    target_id = str(i.get("targetId") or target.autoname("targetId"))
    rendered: dict[str, Any] = {"Id": target_id, "Arn": str(i["arn"])}
    if i.get("roleArn"):
        rendered["RoleArn"] = i["roleArn"]
    if i.get("input"):
        rendered["Input"] = i["input"]
    if i.get("retryPolicy"):
        policy = i["retryPolicy"]
        rendered["RetryPolicy"] = {
            k: int(policy[s])
            for s, k in (
                ("maximumEventAgeInSeconds", "MaximumEventAgeInSeconds"),
                ("maximumRetryAttempts", "MaximumRetryAttempts"),
            )
            if policy.get(s) is not None
        }
    if (i.get("deadLetterConfig") or {}).get("arn"):
        rendered["DeadLetterConfig"] = {"Arn": i["deadLetterConfig"]["arn"]}
    bus = {"EventBusName": str(i["eventBusName"])} if i.get("eventBusName") else {}
    response = target.client("events").put_targets(Rule=str(i["rule"]), Targets=[rendered], **bus)
    if response.get("FailedEntryCount"):
        raise RuntimeError(f"PutTargets refused: {response.get('FailedEntries')}")
    return Created(
        f"{i['rule']}-{target_id}", {"targetId": target_id, **({"eventBusName": bus["EventBusName"]} if bus else {})}
    )


# ------------------------------------------------------------------------------------ AWS Config


def _read_config_rule(session: boto3.session.Session, name: str, _: dict[str, Any]) -> Any:
    client = session.client("config")
    found = missing_is_none(lambda: client.describe_config_rules(ConfigRuleNames=[name])["ConfigRules"])
    return found[0] if found else None


@mapping("aws:cfg/rule:Rule", _read_config_rule)
def config_rule(target: Target) -> Created:
    i = target.inputs
    config = target.client("config")
    refused = config_rule_needs_recorder(config.describe_configuration_recorders()["ConfigurationRecorders"])
    if refused:
        raise ServiceRuleViolation(target.type, target.urn, refused)
    name = target.autoname()
    source = i["source"]
    rule: dict[str, Any] = {
        "ConfigRuleName": name,
        "Source": {"Owner": source["owner"], "SourceIdentifier": source["sourceIdentifier"]},
    }
    if i.get("description"):
        rule["Description"] = i["description"]
    if i.get("inputParameters"):
        rule["InputParameters"] = str(i["inputParameters"])
    scope = i.get("scope") or {}
    if scope:
        rule["Scope"] = {
            k: scope[s]
            for s, k in (
                ("complianceResourceTypes", "ComplianceResourceTypes"),
                ("tagKey", "TagKey"),
                ("tagValue", "TagValue"),
                ("complianceResourceId", "ComplianceResourceId"),
            )
            if scope.get(s)
        }
    if i.get("maximumExecutionFrequency"):
        rule["MaximumExecutionFrequency"] = i["maximumExecutionFrequency"]
    config.put_config_rule(ConfigRule=rule, Tags=target.tag_list())
    described = config.describe_config_rules(ConfigRuleNames=[name])["ConfigRules"][0]
    return Created(name, {"name": name, "arn": described["ConfigRuleArn"], "ruleId": described["ConfigRuleId"]})
