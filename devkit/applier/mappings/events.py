"""The patch-event types (issue 16): the hub's event bus and its policy, the alert topic's and
the dead-letter queue's policies, the dedupe table and the CloudWatch alarms."""

from __future__ import annotations

from typing import Any

import boto3

from ..registry import Created, Target, mapping, missing_is_none

# ------------------------------------------------------------------------------------ EventBridge


def _read_bus(session: boto3.session.Session, name: str, _: dict[str, Any]) -> Any:
    client = session.client("events")
    return missing_is_none(lambda: client.describe_event_bus(Name=name))


@mapping("aws:cloudwatch/eventBus:EventBus", _read_bus)
def event_bus(target: Target) -> Created:
    name = target.autoname()
    request: dict[str, Any] = {"Name": name}
    if target.inputs.get("description"):
        request["Description"] = target.inputs["description"]
    if target.tags:
        request["Tags"] = target.tag_list()
    bus_arn = target.client("events").create_event_bus(**request)["EventBusArn"]
    return Created(name, {"name": name, "arn": bus_arn})


def _read_bus_policy(session: boto3.session.Session, name: str, _: dict[str, Any]) -> Any:
    found = _read_bus(session, name, {})
    return found if found and found.get("Policy") else None


@mapping("aws:cloudwatch/eventBusPolicy:EventBusPolicy", _read_bus_policy)
def event_bus_policy(target: Target) -> Created:
    name = str(target.inputs.get("eventBusName") or "default")
    target.client("events").put_permission(EventBusName=name, Policy=str(target.inputs["policy"]))
    return Created(name, {"eventBusName": name})


# ------------------------------------------------------------------------------------ SNS / SQS policies


def _read_queue_policy(session: boto3.session.Session, url: str, _: dict[str, Any]) -> Any:
    client = session.client("sqs")
    found = missing_is_none(lambda: client.get_queue_attributes(QueueUrl=url, AttributeNames=["Policy"]))
    return (found or {}).get("Attributes", {}).get("Policy")


@mapping("aws:sqs/queuePolicy:QueuePolicy", _read_queue_policy)
def queue_policy(target: Target) -> Created:
    url = str(target.inputs["queueUrl"])
    target.client("sqs").set_queue_attributes(QueueUrl=url, Attributes={"Policy": str(target.inputs["policy"])})
    return Created(url, {"queueUrl": url})


# (DynamoDB tables and SNS topic policies: devkit/applier/mappings/dynamodb.py)


# ------------------------------------------------------------------------------------ CloudWatch alarms


def _read_alarm(session: boto3.session.Session, name: str, _: dict[str, Any]) -> Any:
    found = session.client("cloudwatch").describe_alarms(AlarmNames=[name])["MetricAlarms"]
    return found[0] if found else None


def _metric_query(query: dict[str, Any]) -> dict[str, Any]:
    """One ``metricQueries`` entry of the Pulumi resource as PutMetricAlarm's MetricDataQuery (botocore's shape)."""
    result: dict[str, Any] = {"Id": query["id"], "ReturnData": bool(query.get("returnData", False))}
    for source, dest in (("expression", "Expression"), ("label", "Label")):
        if query.get(source):
            result[dest] = query[source]
    metric = query.get("metric")
    if metric:
        dimensions = [{"Name": k, "Value": str(v)} for k, v in (metric.get("dimensions") or {}).items()]
        result["MetricStat"] = {
            "Metric": {"Namespace": metric["namespace"], "MetricName": metric["metricName"], "Dimensions": dimensions},
            "Period": int(metric["period"]),
            "Stat": metric["stat"],
        }
    return result


@mapping("aws:cloudwatch/metricAlarm:MetricAlarm", _read_alarm)
def metric_alarm(target: Target) -> Created:
    i = target.inputs
    name = target.autoname()
    request: dict[str, Any] = {
        "AlarmName": name,
        "EvaluationPeriods": int(i["evaluationPeriods"]),
        "Threshold": float(i["threshold"]),
        "ComparisonOperator": i["comparisonOperator"],
    }
    if i.get("metricQueries"):
        # a metric-math alarm: PutMetricAlarm's ``Metrics`` (MetricDataQuery) instead of one metric
        request["Metrics"] = [_metric_query(query) for query in i["metricQueries"]]
    else:
        request.update(
            {
                "Namespace": i["namespace"],
                "MetricName": i["metricName"],
                "Statistic": i["statistic"],
                "Period": int(i["period"]),
                "Dimensions": [{"Name": k, "Value": str(v)} for k, v in (i.get("dimensions") or {}).items()],
            }
        )
    for source, dest in (
        ("alarmDescription", "AlarmDescription"),
        ("treatMissingData", "TreatMissingData"),
        ("alarmActions", "AlarmActions"),
    ):
        if i.get(source):
            request[dest] = i[source]
    if target.tags:
        request["Tags"] = target.tag_list()
    target.client("cloudwatch").put_metric_alarm(**request)
    return Created(name, {"name": name, "arn": f"arn:aws:cloudwatch:{target.region}:{target.account}:alarm:{name}"})
