"""Both stacks applied to one emulated organization: an SSM event in a child account-region reaches
the hub's lake through the deployed rules, role, bus policy and function; a failure becomes one
alert; an account outside the organization is refused by the bus policy. The hub's pre-patch notices
(issue 16 item 1) read the same organization's live windows through the deployed reader role."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import tag_contract

from components import event_patterns, naming
from devkit.applier import Applied, apply_central, apply_child
from devkit.applier.__main__ import ensure_config_recorders
from devkit.catalog_launch import launch_window_product
from devkit.emulator import Emulator, load_lambda
from devkit.moto_extensions.awslambda.models import lambda_context
from devkit.moto_extensions.events import models as events
from tests import aws
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


def test_a_child_functions_alarm_is_alerted_once_per_transition(org: Any) -> None:
    """The account's one functions alarm (no action of its own) reaches the platform team through the forwarding
    rule: one alert per transition into ALARM, none for OK or for another alarm."""
    emu, central, child_cfg = org
    sqs, url = inbox(emu, central)
    account = child_cfg.accounts[0].id
    region = child_cfg.regions_of(child_cfg.accounts[0])[0]
    alarm = emu.session(account, region).client("cloudwatch").describe_alarms(AlarmNames=[naming.CHILD_FUNCTIONS_ALARM])
    (deployed,) = alarm["MetricAlarms"]
    assert [m["Id"] for m in deployed["Metrics"] if m.get("ReturnData")] == ["failures"]

    def state(value: str, name: str = naming.CHILD_FUNCTIONS_ALARM, at: str = "2026-11-29T10:00:00.000+0000") -> None:
        detail = {"alarmName": name, "state": {"value": value, "reason": "Threshold Crossed", "timestamp": at}}
        events.emit(account, region, event_patterns.CLOUDWATCH, event_patterns.ALARM_STATE, detail)

    state("ALARM")
    state("ALARM")  # EventBridge redelivers
    state("OK", at="2026-11-29T10:05:00.000+0000")
    state("ALARM", name="someone-elses-alarm")
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
    assert len(messages) == 1
    text = json.loads(messages[0]["Body"])["Message"]
    assert text.startswith("child function failed")
    assert f"account:   {account}" in text and f"resource:  CloudWatch alarm {naming.CHILD_FUNCTIONS_ALARM}" in text
    state("ALARM", at="2026-11-29T11:00:00.000+0000")  # a new failure later: a new alert
    assert len(sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])) == 1


# --- pre-patch notices (issue 16 item 1) -------------------------------------------------------------------

W, TEAM = tag_contract.MAINTENANCE_WINDOW_TAG, tag_contract.TEAM_TAG
PRODUCT = {
    "Team": "payments",
    "Environment": "Prod",
    "PatchingFrequency": "Weekly",
    "PatchingWindowWeekday": "Saturday",
    "PatchingWindowStartTime": "2",
    "PatchingWindowDuration": "3",
    "PatchingOperation": "Scan",
    "OperationPostPatching": "NoReboot",
    "IncludeASG": "Yes",
    "RetainHealthyPercentage": "90",
}


class Org:
    def __init__(self, emu: Emulator, central: Applied, child_cfg: Any) -> None:
        self.emu, self.central, self.child_cfg = emu, central, child_cfg
        self.account = child_cfg.accounts[0].id
        self.region = child_cfg.regions_of(child_cfg.accounts[0])[0]
        self.session = emu.session(self.account, self.region)
        self.hub = emu.session(emu.default_account, central.outputs["homeRegion"])
        self.inboxes: dict[str, str] = {}

    def inbox(self, team: str) -> str:
        """An SQS queue subscribed to the team's notice topic (what a team's subscription would get)."""
        if team not in self.inboxes:
            sqs = self.hub.client("sqs")
            url = sqs.create_queue(QueueName=f"notices-{team}")["QueueUrl"]
            arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
            topic = self.central.outputs["notices"]["topics"][naming.notice_topic(team)]
            self.hub.client("sns").subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn)
            self.inboxes[team] = url
        return self.inboxes[team]

    def received(self, team: str) -> list[str]:
        sqs, url = self.hub.client("sqs"), self.inbox(team)
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        for message in messages:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        return [json.loads(m["Body"])["Message"] for m in messages]

    def window(self, name: str) -> dict[str, Any]:
        (window,) = self.session.client("ssm").describe_maintenance_windows(
            Filters=[{"Key": "Name", "Values": [name]}]
        )["WindowIdentities"]
        return dict(window)

    def next_run(self, name: str) -> datetime:
        return datetime.fromisoformat(self.window(name)["NextExecutionTime"].replace("Z", "+00:00"))

    def next_window_id(self, name: str) -> str:
        return str(self.window(name)["WindowId"])

    def check(self, at: datetime) -> dict[str, Any]:
        """The deployed function, invoked with the scheduled event of a check at ``at``."""
        event = {"detail-type": "Scheduled Event", "source": "aws.events", "time": at.strftime("%Y-%m-%dT%H:%M:%SZ")}
        answer = self.hub.client("lambda").invoke(
            FunctionName=naming.PRE_PATCH_NOTICES_FUNCTION, Payload=json.dumps(event).encode()
        )
        payload: dict[str, Any] = json.loads(answer["Payload"].read())
        return {**payload, "FunctionError": answer.get("FunctionError")}


@pytest.fixture(scope="module")
def notices(org: Any) -> Org:
    """The same organization, with an inbox on each notice topic before anything is sent."""
    found = Org(*org)
    for team in ("payments", "platform"):
        found.inbox(team)
    return found


def test_the_default_window_notifies_each_team_of_its_own_resources(notices: Org) -> None:
    default = tag_contract.DEFAULT_WINDOW
    payments = aws.run_instances(notices.session, {W: default, TEAM: "payments"}, count=3)
    unclaimed = aws.run_instances(notices.session, {W: default})
    aws.run_instances(notices.session, {W: default, TEAM: "payments", "install_patch": "no"})  # exempt: not patched
    aws.create_asg(notices.session, "web", {W: default, TEAM: "payments"}, desired=0)
    runs_at = notices.next_run(default)

    assert notices.check(runs_at - timedelta(hours=25))["sent"] == []  # outside the 24 h lead time
    sent = notices.check(runs_at - timedelta(hours=1))["sent"]

    stamp = f"{runs_at:%Y-%m-%dT%H:%MZ}"
    assert sorted(sent) == [
        f"notice:{notices.account}:{notices.region}:{wid}:{team}:{stamp}"
        for wid in [notices.next_window_id(default)]
        for team in ("payments", "platform")
    ]
    (to_payments,) = notices.received("payments")
    assert f"window:    {default} ({notices.next_window_id(default)})" in to_payments
    assert f"account:   {notices.account}" in to_payments and f"region:    {notices.region}" in to_payments
    assert f"runs at:   {runs_at:%Y-%m-%d %H:%M} UTC" in to_payments
    assert f"local:     {runs_at:%Y-%m-%d %H:%M} UTC" in to_payments  # the default window's zone is UTC
    assert "operation: Install" in to_payments and "reboot:    RebootIfNeeded" in to_payments
    assert f"instances: 3: {', '.join(sorted(payments))}" in to_payments
    assert "ASGs:      1: web" in to_payments
    (to_platform,) = notices.received("platform")  # unclaimed resources: the default team
    assert f"instances: 1: {unclaimed[0]}" in to_platform and "ASGs:      0" in to_platform

    assert notices.check(runs_at - timedelta(minutes=30)) == {
        "sent": [],
        "duplicates": 2,
        "at": f"{runs_at - timedelta(minutes=30):%Y-%m-%dT%H:%M:%SZ}",
        "FunctionError": None,
    }
    assert notices.received("payments") == [] and notices.received("platform") == []


def test_a_product_window_notifies_its_team_and_follows_a_move_without_redeploy(notices: Org) -> None:
    handler = load_lambda("window_tagging").handler

    def invoke(event: dict[str, Any]) -> Any:
        with notices.emu.as_account(notices.account, notices.region):
            return handler(event, lambda_context(naming.WINDOW_TAGGING_FUNCTION, notices.account, notices.region))

    mine = aws.run_instances(notices.session, {"environment": "Prod", TEAM: "payments"}, count=2)
    launched = launch_window_product(notices.session, notices.account, notices.region, PRODUCT, invoke)
    name = launched["WindowName"]
    assert name == "Prod_payments_maintenance_window"
    runs_at = notices.next_run(name)
    notices.check(runs_at - timedelta(hours=2))
    (text,) = [text for text in notices.received("payments") if f"window:    {name}" in text]
    assert "operation: Scan" in text and "reboot:    NoReboot" in text
    assert f"instances: 2: {', '.join(sorted(mine))}" in text
    assert f"runs at:   {runs_at:%Y-%m-%d %H:%M} UTC" in text

    # The team moves its window (console or product update): the next check follows it, no redeploy.
    ssm = notices.session.client("ssm")
    window_id = notices.next_window_id(name)
    ssm.update_maintenance_window(WindowId=window_id, Schedule="cron(30 4 ? * TUE *)", ScheduleTimezone="Asia/Tokyo")
    moved = notices.next_run(name)
    assert moved != runs_at and (moved.hour, moved.minute) == (19, 30)  # 04:30 in Tokyo is 19:30 UTC
    assert notices.check(runs_at - timedelta(hours=1))["sent"] == []  # the old time is no run any more
    sent = notices.check(moved - timedelta(hours=3))["sent"]
    assert sent == [f"notice:{notices.account}:{notices.region}:{window_id}:payments:{moved:%Y-%m-%dT%H:%MZ}"]
    (notice,) = notices.received("payments")
    local = moved.astimezone(ZoneInfo("Asia/Tokyo"))
    assert f"local:     {local:%Y-%m-%d %H:%M} Asia/Tokyo" in notice
    assert "schedule:  cron(30 4 ? * TUE *)" in notice

    # A disabled window runs no more: no notice.
    ssm.update_maintenance_window(WindowId=window_id, Enabled=False)
    assert "NextExecutionTime" not in ssm.get_maintenance_window(WindowId=window_id)
    ssm.update_maintenance_window(WindowId=window_id, Enabled=True)
