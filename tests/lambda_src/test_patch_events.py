"""The patch-events function files each forwarded event once, under the partitions the Glue table
projects; a bad event is refused with one line and nothing written."""

from __future__ import annotations

import importlib
import json
from typing import Any

import pytest

from devkit.moto_extensions.awslambda.models import lambda_context
from tests import aws

app = importlib.import_module("lambda_src.patch_events.app")
HUB = "999999999999"
CHILD = "222222222222"
BUCKET = "org-patching-patch-events"


def invocation_event(**overrides: Any) -> dict[str, Any]:
    """A Run Command invocation event as SSM documents it (SSM user guide, EventBridge event examples)."""
    event = {
        "version": "0",
        "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
        "detail-type": "EC2 Command Invocation Status-change Notification",
        "source": "aws.ssm",
        "account": CHILD,
        "time": "2026-11-27T05:12:41Z",
        "region": "eu-west-1",
        "resources": [f"arn:aws:ec2:eu-west-1:{CHILD}:instance/i-0123456789abcdef0"],
        "detail": {
            "command-id": "e8d3c0e4-71f7-4491-898f-c9b35bee5f3b",
            "document-name": "AWS-RunPatchBaseline",
            "instance-id": "i-0123456789abcdef0",
            "requested-date-time": "2026-11-27T05:10:02.000Z",
            "status": "Success",
        },
    }
    event.update(overrides)
    return event


@pytest.fixture
def hub_bucket(moto_aws: None, monkeypatch: pytest.MonkeyPatch) -> Any:
    s3 = aws.session(HUB, "eu-west-1").client("s3")
    s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    monkeypatch.setenv("EVENTS_BUCKET", BUCKET)
    monkeypatch.setenv("EVENTS_PREFIX", "events")
    return s3


def handle(event: Any) -> dict[str, Any]:
    with aws.as_account(HUB, "eu-west-1"):
        result: dict[str, Any] = app.handler(event, lambda_context(app.SERVICE, HUB, "eu-west-1"))
        return result


def objects(s3: Any) -> dict[str, dict[str, Any]]:
    listed = s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])
    return {o["Key"]: json.loads(s3.get_object(Bucket=BUCKET, Key=o["Key"])["Body"].read()) for o in listed}


def test_an_event_lands_under_its_partitions_marked_as_from_events(hub_bucket: Any) -> None:
    result = handle(invocation_event())
    key = f"events/accountid={CHILD}/region=eu-west-1/dt=2026-11-27/6a7e8feb-b491-4cf7-a9f1-bf3703467718.json"
    assert result == {"written": 1, "key": key}
    row = objects(hub_bucket)[key]
    assert row["source"] == "events"
    assert (row["resource_id"], row["status"], row["document"]) == (
        "i-0123456789abcdef0",
        "Success",
        "AWS-RunPatchBaseline",
    )
    assert row["execution_id"] == "e8d3c0e4-71f7-4491-898f-c9b35bee5f3b"
    assert "account" not in row and "region" not in row  # partitions only


def test_a_redelivered_event_is_one_row(hub_bucket: Any) -> None:
    handle(invocation_event())
    handle(invocation_event())
    assert len(objects(hub_bucket)) == 1


def test_a_compliance_change_keeps_its_status_and_severity(hub_bucket: Any) -> None:
    event = invocation_event(
        id="1b0ea0d7-0000-4000-8000-000000000001",
        **{"detail-type": "Configuration Compliance State Change"},
        detail={
            "last-runtime": "2026-11-27T05:13:00Z",
            "compliance-status": "non_compliant",
            "resource-type": "managed-instance",
            "resource-id": "i-0123456789abcdef0",
            "compliance-type": "Patch",
            "patch-baseline-id": "pb-0c10e65780EXAMPLE",
            "serverity": "critical",
        },
    )
    handle(event)
    [row] = objects(hub_bucket).values()
    assert (row["status"], row["compliance_type"], row["severity"]) == ("non_compliant", "Patch", "critical")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"id": "../../etc"}, "event id: '../../etc' is not an EventBridge event id"),
        ({"account": "12345"}, "event account: '12345' is not a 12-digit account id"),
        ({"region": "mars-1"}, "event region: 'mars-1' is not a region"),
        ({"time": "yesterday"}, "event time: 'yesterday' is not an ISO-8601 time"),
        ({"detail": "x"}, "event detail: expected an object, got str"),
    ],
)
def test_a_bad_event_is_refused_with_one_line_and_nothing_written(
    hub_bucket: Any, change: dict[str, Any], message: str
) -> None:
    assert handle(invocation_event(**change)) == {"written": 0, "refused": message}
    assert objects(hub_bucket) == {}


def test_not_an_event_at_all_is_refused(hub_bucket: Any) -> None:
    assert handle(["not", "an", "event"])["refused"] == "event: expected an EventBridge event object, got list"  # type: ignore[arg-type]
