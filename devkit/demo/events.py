"""Demo steps of issue 16: patch events reach the hub's lake before the data sync, a failure is one alert.

The stacks' patch-event parts are deployed with the applier (the program's own resources: the
hub's bus, policy, functions, table and topic; each child account's forwarding rule, target and
role), then SSM's events of a window run are emitted in a child account-region, as SSM sends
them when the run's statuses change. The lake's rows and the alert topic show what arrived.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from components import event_patterns, naming
from devkit.demo.narrative import Narrator
from devkit.demo.world import World
from devkit.emulator import Emulator
from devkit.moto_extensions.events import models as events


@dataclass
class EventsResult:
    #: lake rows (key -> row) written by the forwarded events
    rows: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: alert messages the platform team received
    alerts: list[str] = field(default_factory=list)


def step_patch_events(emu: Emulator, world: World, say: Narrator) -> EventsResult:
    """Emit one window run's events and one failed install in a child account-region; show what the
    deployed hub (the central stack's ``events`` outputs, applied with both stacks) made of them."""
    deployed = world.central_outputs["events"]
    hub = emu.session(world.hub_account, world.home_region)
    sqs = hub.client("sqs")
    inbox = sqs.create_queue(QueueName="demo-platform-team-inbox")["QueueUrl"]
    inbox_arn = sqs.get_queue_attributes(QueueUrl=inbox, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    hub.client("sns").subscribe(TopicArn=deployed["alertTopicArn"], Protocol="sqs", Endpoint=inbox_arn)

    account, region = world.locations[-1]
    instance = next((i for i, place in world.placement.items() if place == (account, region)), "i-0123456789abcdef0")
    run = {"command-id": "demo-patch-run", "document-name": event_patterns.PATCH_DOCUMENT, "instance-id": instance}
    events.emit(account, region, event_patterns.SSM, event_patterns.COMMAND_INVOCATION, {**run, "status": "Success"})
    events.emit(
        account,
        region,
        event_patterns.SSM,
        event_patterns.COMPLIANCE,
        {
            "resource-type": "managed-instance",
            "resource-id": instance,
            "compliance-type": "Patch",
            "compliance-status": "compliant",
        },
    )
    failed = {
        "ExecutionId": "demo-failed-install",
        "Definition": naming.RUNBOOK_STANDALONE,
        "Status": "Failed",
        "ExecutedBy": f"arn:aws:iam::{account}:user/platform-operator",
    }
    for _ in range(2):  # SSM repeats a terminal status; EventBridge may deliver twice
        events.emit(account, region, event_patterns.SSM, event_patterns.AUTOMATION, failed)

    result = EventsResult()
    s3 = hub.client("s3")
    bucket = deployed["eventsBucket"]
    for item in s3.list_objects_v2(Bucket=bucket).get("Contents", []):
        result.rows[item["Key"]] = json.loads(s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read())
    messages = sqs.receive_message(QueueUrl=inbox, MaxNumberOfMessages=10).get("Messages", [])
    result.alerts = [json.loads(m["Body"])["Message"] for m in messages]
    say.fact(
        f"{len(result.rows)} events from {account}/{region} in the hub's lake "
        f"(table {naming.PATCH_EVENTS_TABLE}, source=events), before the data sync runs"
    )
    for row in sorted(result.rows.values(), key=lambda r: str(r["detail_type"])):
        say.fact(f"  {row['detail_type']}: {row['resource_id'] or row['document']} {row['status']}")
    say.fact(f"{len(result.alerts)} alert for the failed install delivered twice")
    return result
