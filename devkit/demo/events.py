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


def deploy_events(emu: Emulator, world: World) -> dict[str, Any]:
    """Apply the program's ``PatchEvents`` (hub) and ``PatchEventForwarding`` (every child account)
    into the demo's organization; returns the hub part's outputs.

    Only these components: the demo builds the rest of the hub and spokes itself (so the whole
    stacks would clash with it). The hub part reads the lake's key, Glue database and Athena
    workgroup, which are created here when the demo's hub lacks them."""
    import pulumi

    from components.config import EventsConfig
    from components.hub.patch_events import PatchEvents, PatchEventsArgs
    from components.partitions import partition_of
    from components.spoke.event_forwarding import PatchEventForwarding, PatchEventForwardingArgs
    from components.stacks.providers import DeployRole, account_provider
    from devkit.applier.engine import ApplyingMocks, run_program

    hub, region = world.hub_account, world.home_region
    session = emu.session(hub, region)
    key_arn = session.client("kms").create_key(Description="org-patching compliance (demo events)")["KeyMetadata"][
        "Arn"
    ]
    glue = session.client("glue")
    if not [d for d in glue.get_databases()["DatabaseList"] if d["Name"] == naming.GLUE_DATABASE]:
        glue.create_database(DatabaseInput={"Name": naming.GLUE_DATABASE})
    athena = session.client("athena")
    if not [w for w in athena.list_work_groups()["WorkGroups"] if w["Name"] == naming.ATHENA_WORKGROUP]:
        athena.create_work_group(Name=naming.ATHENA_WORKGROUP)
    partition = partition_of(region)
    outputs: dict[str, Any] = {}

    def program() -> None:
        provider = account_provider(hub, region, {})
        part = PatchEvents(
            "hub-events",
            PatchEventsArgs(
                config=EventsConfig(),
                org_id=world.org_id,
                account_id=hub,
                region=region,
                partition=partition,
                key_arn=key_arn,
                database_name=naming.GLUE_DATABASE,
                workgroup_name=naming.ATHENA_WORKGROUP,
                accounts=[a.id for a in world.accounts],
                regions=list(world.regions),
                log_retention_days=365,
                emergency_state_machine_arn=f"arn:{partition}:states:{region}:{hub}:stateMachine:{naming.EMERGENCY_STATE_MACHINE}",
                emergency_function_name=naming.EMERGENCY_VALIDATE_FUNCTION,
            ),
            opts=pulumi.ResourceOptions(provider=provider),
        )
        pulumi.export("events", part.outputs())
        for account in world.accounts:
            role = DeployRole(role_arn=f"arn:{partition}:iam::{account.id}:role/{naming.CHILD_DEPLOY_ROLE}")
            PatchEventForwarding(
                f"{account.id}-patch-events",
                PatchEventForwardingArgs(account.id, partition, list(world.regions), hub, region),
                opts=pulumi.ResourceOptions(provider=account_provider(account.id, region, {}, role)),
            )

    mocks = ApplyingMocks(
        emu, default_account=hub, default_region=region, org_id=world.org_id, stack_outputs={}, strict=True
    )
    capture = run_program(program, mocks, "central")
    outputs.update(capture.outputs["events"])
    return outputs


def step_patch_events(emu: Emulator, world: World, say: Narrator) -> EventsResult:
    """Deploy the event parts, emit one window run's events and one failed install, show the hub's view."""
    deployed = deploy_events(emu, world)
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
