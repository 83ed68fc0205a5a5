"""Both stacks applied to one emulated organization: an SSM event in a child account-region reaches
the hub's lake through the deployed rules, role, bus policy and function; a failure becomes one
alert; an account outside the organization is refused by the bus policy."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from components import event_patterns, naming
from devkit.applier import Applied, apply_central, apply_child
from devkit.applier.__main__ import ensure_config_recorders
from devkit.emulator import Emulator
from devkit.moto_extensions.events import models as events
from tests.devkit.test_applier import organization_configs


@pytest.fixture(scope="module")
def org() -> Iterator[tuple[Emulator, Applied, Any]]:
    with Emulator() as emu:
        central_cfg, child_cfg = organization_configs(emu)
        central = apply_central(emu, central_cfg)
        ensure_config_recorders(emu, child_cfg)
        apply_child(emu, child_cfg, central.outputs)
        yield emu, central, child_cfg


def lake(emu: Emulator, central: Applied) -> dict[str, dict[str, Any]]:
    s3 = emu.session(emu.default_account, central.outputs["homeRegion"]).client("s3")
    bucket = central.outputs["events"]["eventsBucket"]
    listed = s3.list_objects_v2(Bucket=bucket).get("Contents", [])
    return {o["Key"]: json.loads(s3.get_object(Bucket=bucket, Key=o["Key"])["Body"].read()) for o in listed}


def inbox(emu: Emulator, central: Applied) -> tuple[Any, str]:
    """An SQS queue subscribed to the alert topic (what an operator's subscription would get)."""
    session = emu.session(emu.default_account, central.outputs["homeRegion"])
    sqs = session.client("sqs")
    url = sqs.create_queue(QueueName=f"inbox-{len(sqs.list_queues().get('QueueUrls', []))}")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    session.client("sns").subscribe(TopicArn=central.outputs["events"]["alertTopicArn"], Protocol="sqs", Endpoint=arn)
    return sqs, url


def test_a_patch_run_in_a_child_region_lands_in_the_hub_lake(org: Any) -> None:
    emu, central, child_cfg = org
    account = child_cfg.accounts[0].id
    region = child_cfg.regions_of(child_cfg.accounts[0])[-1]
    event = events.emit(
        account,
        region,
        event_patterns.SSM,
        event_patterns.COMMAND_INVOCATION,
        {"command-id": "c-1", "document-name": "AWS-RunPatchBaseline", "instance-id": "i-0aa", "status": "Success"},
    )
    rows = lake(emu, central)
    key = next(k for k in rows if k.endswith(f"/{event['id']}.json"))
    assert f"accountid={account}/region={region}/" in key  # the sender's account and region, kept by EventBridge
    assert rows[key]["source"] == "events" and rows[key]["status"] == "Success"


def test_an_event_the_pattern_does_not_forward_stays_in_the_account(org: Any) -> None:
    emu, central, child_cfg = org
    before = lake(emu, central)
    account = child_cfg.accounts[0].id
    events.emit(
        account,
        child_cfg.regions_of(child_cfg.accounts[0])[0],
        "aws.ssm",
        event_patterns.COMMAND_INVOCATION,
        {"document-name": "AWS-RunShellScript", "status": "Success"},
    )
    assert lake(emu, central) == before


def test_a_failed_runbook_is_alerted_once(org: Any) -> None:
    emu, central, child_cfg = org
    sqs, url = inbox(emu, central)
    account = child_cfg.accounts[-1].id
    region = child_cfg.regions_of(child_cfg.accounts[-1])[0]
    detail = {
        "ExecutionId": "e-42",
        "Definition": naming.RUNBOOK_STANDALONE,
        "Status": "Failed",
        "ExecutedBy": f"arn:aws:iam::{account}:user/ops",
    }
    events.emit(account, region, event_patterns.SSM, event_patterns.AUTOMATION, detail)
    events.emit(
        account, region, event_patterns.SSM, event_patterns.AUTOMATION, detail
    )  # SSM repeats, EventBridge redelivers
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
    assert len(messages) == 1
    text = json.loads(messages[0]["Body"])["Message"]
    assert f"account:   {account}" in text and "execution: e-42" in text


def test_an_account_outside_the_organization_is_refused(org: Any) -> None:
    emu, central, _ = org
    outsider, region = "444455556666", central.outputs["homeRegion"]
    before, refused = lake(emu, central), len(events.REFUSED)
    client = emu.session(outsider, region).client("events")
    client.put_rule(Name="steal", EventPattern=json.dumps({"source": ["aws.ssm"]}))
    client.put_targets(
        Rule="steal",
        Targets=[
            {"Id": "hub", "Arn": central.outputs["events"]["busArn"], "RoleArn": f"arn:aws:iam::{outsider}:role/x"}
        ],
    )
    events.emit(
        outsider,
        region,
        "aws.ssm",
        event_patterns.COMPLIANCE,
        {"compliance-type": "Patch", "compliance-status": "compliant"},
    )
    assert lake(emu, central) == before
    assert events.REFUSED[refused:] == [
        (outsider, central.outputs["events"]["busArn"], "the bus policy does not allow the sending account")
    ]
