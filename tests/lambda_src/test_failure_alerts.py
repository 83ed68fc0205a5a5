"""Failure alerts: each failure is one message on the hub topic with account, region, resource,
reason and a reference; duplicates, successes and failures alerted elsewhere send nothing."""

from __future__ import annotations

import importlib
import json
from typing import Any

import pytest

from components import naming
from devkit.moto_extensions.awslambda.models import lambda_context
from tests import aws

app = importlib.import_module("lambda_src.failure_alerts.app")
HUB = "999999999999"
CHILD = "222222222222"
REGION = "eu-west-1"
MACHINE = f"arn:aws:states:{REGION}:{HUB}:stateMachine:{naming.EMERGENCY_STATE_MACHINE}"


@pytest.fixture
def hub(moto_aws: None, monkeypatch: pytest.MonkeyPatch) -> Any:
    session = aws.session(HUB, REGION)
    session.client("dynamodb").create_table(
        TableName=naming.FAILURE_ALERTS_TABLE,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
    )
    topic = session.client("sns").create_topic(Name="alerts")["TopicArn"]
    sqs = session.client("sqs")
    queue = sqs.create_queue(QueueName="inbox")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    session.client("sns").subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)
    for name, value in {
        "ALERT_TOPIC_ARN": topic,
        "DEDUPE_TABLE": naming.FAILURE_ALERTS_TABLE,
        "DEDUPE_DAYS": "14",
        "RUNBOOKS": f"{naming.RUNBOOK_STANDALONE},{naming.RUNBOOK_ASG}",
        "SUPPRESSED_STARTERS": f"{naming.MAINTENANCE_WINDOW_ROLE},{naming.AUTOMATION_ADMINISTRATION_ROLE}",
        "EMERGENCY_STATE_MACHINE_ARN": MACHINE,
    }.items():
        monkeypatch.setenv(name, value)
    return sqs, queue


def alerts(hub: Any) -> list[dict[str, str]]:
    sqs, queue = hub
    messages = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages", [])
    return [json.loads(m["Body"]) for m in messages]


def handle(event: dict[str, Any]) -> dict[str, Any]:
    with aws.as_account(HUB, REGION):
        result: dict[str, Any] = app.handler(event, lambda_context(app.SERVICE, HUB, REGION))
        return result


def event(detail_type: str, detail: dict[str, Any], source: str = "aws.ssm", account: str = CHILD) -> dict[str, Any]:
    return {
        "version": "0",
        "id": "d290ece9-1088-4383-9df6-cd5b4ac42b99",
        "detail-type": detail_type,
        "source": source,
        "account": account,
        "time": "2026-11-27T05:40:00Z",
        "region": REGION,
        "resources": [],
        "detail": detail,
    }


def automation(
    status: str, definition: str = naming.RUNBOOK_ASG, by: str = "arn:aws:iam::222222222222:user/ops"
) -> dict[str, Any]:
    return event(
        "EC2 Automation Execution Status-change Notification",
        {
            "ExecutionId": "333ba70b-2333-48db-b17e-a5e69c6f4d1c",
            "Definition": definition,
            "DefinitionVersion": 1.0,
            "Status": status,
            "StartTime": "Nov 27, 2026 5:10:20 AM",
            "EndTime": "Nov 27, 2026 5:40:26 AM",
            "ExecutedBy": by,
        },
    )


def window_task(status: str) -> dict[str, Any]:
    return event(
        "Maintenance Window Task Execution State-change Notification",
        {
            "start-time": "2026-11-27T05:00:01Z",
            "task-execution-id": "6417e808-7f35-4d1a-843f-123456789012",
            "end-time": "2026-11-27T05:40:00Z",
            "window-id": "mw-0ed7251d3fcf6e0c2",
            "window-execution-id": "14bea65d-5ccc-462d-a2f3-e99c8EXAMPLE",
            "status": status,
        },
    )


def test_a_failed_rebake_is_one_alert_with_its_reference(hub: Any) -> None:
    assert handle(automation("Failed"))["alerted"] is True
    [message] = alerts(hub)
    text = message["Message"]
    assert f"account:   {CHILD}" in text and f"region:    {REGION}" in text
    assert f"resource:  {naming.RUNBOOK_ASG}" in text
    assert "rolls back to the previous launch template version" in text
    assert "systems-manager/automation/execution/333ba70b-2333-48db-b17e-a5e69c6f4d1c" in text
    assert message["Subject"] == f"org-patching: automation failed in {CHILD} {REGION}"


def test_the_same_failure_delivered_twice_is_alerted_once(hub: Any) -> None:
    assert handle(window_task("FAILED"))["alerted"] is True
    assert handle(window_task("FAILED")) == {
        "alerted": False,
        "why": "already alerted",
        "key": f"{CHILD}:{REGION}:6417e808-7f35-4d1a-843f-123456789012",
    }
    assert len(alerts(hub)) == 1


def test_a_window_started_or_wave_automation_is_alerted_as_its_window_or_wave(hub: Any) -> None:
    by_window = f"arn:aws:sts::{CHILD}:assumed-role/{naming.MAINTENANCE_WINDOW_ROLE}/session"
    by_wave = f"arn:aws:sts::{CHILD}:assumed-role/{naming.AUTOMATION_ADMINISTRATION_ROLE}/session"
    assert handle(automation("Failed", by=by_window))["alerted"] is False
    assert handle(automation("TimedOut", by=by_wave))["alerted"] is False
    assert alerts(hub) == []


@pytest.mark.parametrize(
    "not_a_failure",
    [
        automation("Success"),
        automation("Failed", definition="AWS-RestartEC2Instance"),
        window_task("SUCCESS"),
        event(
            "Step Functions Execution Status Change",
            {"executionArn": "x", "stateMachineArn": MACHINE, "status": "FAILED", "error": "ApprovalRejected"},
            source="aws.states",
            account=HUB,
        ),
        {"detail-type": "garbage"},
    ],
)
def test_successes_and_decisions_send_nothing(hub: Any, not_a_failure: dict[str, Any]) -> None:
    assert handle(not_a_failure) == {"alerted": False, "why": "not a failure"}
    assert alerts(hub) == []


def test_a_stopped_rollout_is_one_alert_from_its_two_events(hub: Any) -> None:
    execution = f"arn:aws:states:{REGION}:{HUB}:execution:{naming.EMERGENCY_STATE_MACHINE}:zero-day"
    summary = event(
        "Emergency Patching Rollout Finished",
        {"status": "WaveErrorThresholdExceeded", "stopped_at_wave": "Test", "execution": execution},
        source=naming.EVENT_SOURCE,
        account=HUB,
    )
    failed = event(
        "Step Functions Execution Status Change",
        {
            "executionArn": execution,
            "stateMachineArn": MACHINE,
            "status": "FAILED",
            "error": "WaveErrorThresholdExceeded",
        },
        source="aws.states",
        account=HUB,
    )
    assert handle(summary)["alerted"] is True
    assert handle(failed)["alerted"] is False
    [message] = alerts(hub)
    assert "wave Test exceeded its errors" in message["Message"]


def test_a_failed_custom_resource_answer_is_alerted(hub: Any) -> None:
    stack = f"arn:aws:cloudformation:{REGION}:{CHILD}:stack/SC-{CHILD}-pp-abc/1"
    handle(
        event(
            "CloudFormation Resource Status Change",
            {
                "stack-id": stack,
                "logical-resource-id": "WindowTagging",
                "resource-type": "Custom::WindowTagging",
                "status-details": {"status": "CREATE_FAILED", "status-reason": "window mw-0123 not found"},
            },
            source="aws.cloudformation",
        )
    )
    [message] = alerts(hub)
    assert "CREATE_FAILED: window mw-0123 not found" in message["Message"]


def test_a_failed_publish_releases_the_claim_so_the_retry_alerts(hub: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    topic = app.os.environ["ALERT_TOPIC_ARN"]
    monkeypatch.setenv("ALERT_TOPIC_ARN", f"arn:aws:sns:{REGION}:{HUB}:missing")
    with pytest.raises(Exception, match=r"NotFound|does not exist"):
        handle(window_task("TIMED_OUT"))
    monkeypatch.setenv("ALERT_TOPIC_ARN", topic)  # Lambda's retry, the topic reachable again
    assert handle(window_task("TIMED_OUT"))["alerted"] is True
    assert len(alerts(hub)) == 1


def test_a_child_functions_alarm_entering_alarm_is_one_alert_and_nothing_else_is(
    hub: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CHILD_ALARM", naming.CHILD_FUNCTIONS_ALARM)

    def change(value: str, name: str = naming.CHILD_FUNCTIONS_ALARM) -> dict[str, Any]:
        return {
            "detail-type": "CloudWatch Alarm State Change",
            "source": "aws.cloudwatch",
            "account": CHILD,
            "region": REGION,
            "detail": {
                "alarmName": name,
                "state": {"value": value, "reason": "Threshold Crossed", "timestamp": "2026-11-29T10:00:00.000+0000"},
            },
        }

    alert = app.alert_of(change("ALARM"))
    assert alert is not None and alert.kind == "child function"
    assert alert.dedupe_key == f"{CHILD}:{REGION}:{naming.CHILD_FUNCTIONS_ALARM}/2026-11-29T10:00:00.000+0000"
    assert alert.reason == "a function failed or an event was dead-lettered: Threshold Crossed"
    assert app.alert_of(change("OK")) is None
    assert app.alert_of(change("ALARM", "another-alarm")) is None
    assert (
        app.alert_of({**change("ALARM"), "detail": {"alarmName": naming.CHILD_FUNCTIONS_ALARM, "state": "ALARM"}})
        is None
    )


@pytest.mark.parametrize(
    "malformed",
    [
        {**window_task("FAILED"), "account": ""},
        {**window_task("FAILED"), "region": "eu-west-1\n"},
        {
            **window_task("FAILED"),
            "detail": {**window_task("FAILED")["detail"], "task-execution-id": "", "window-execution-id": ""},
        },
    ],
)
def test_a_failure_event_that_names_no_account_region_or_execution_is_refused_without_a_claim(
    hub: Any, malformed: dict[str, Any]
) -> None:
    """A claim keyed on an empty part would swallow every later failure lacking the same id
    (tests/fuzz/test_fuzz_failure_alerts.py)."""
    result = handle(malformed)
    assert result["alerted"] is False and len(result["why"].splitlines()) == 1
    assert "is not a" in result["why"] or "names no execution" in result["why"]
    with aws.as_account(HUB, REGION) as session:
        assert session.client("dynamodb").scan(TableName=naming.FAILURE_ALERTS_TABLE)["Items"] == []
    assert alerts(hub) == []
