"""The emulator's EventBridge delivery: the sender's event crosses accounts unchanged, a bus policy
and an organization grant's RoleArn are enforced, a failing Lambda target ends in its dead-letter queue."""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

from devkit.moto_extensions.events import models as events
from tests import aws

HUB, CHILD = aws.ACCOUNTS[0], aws.ACCOUNTS[1]
REGION, OTHER = aws.REGIONS


def hub_bus(policy_principal: dict[str, Any] | str, condition: dict[str, Any] | None = None) -> tuple[str, str]:
    """A hub bus with ``policy``, a rule sending its events to an SQS queue; returns (bus ARN, queue URL)."""
    session = aws.session(HUB, REGION)
    client = session.client("events")
    arn = client.create_event_bus(Name="patch-events")["EventBusArn"]
    statement: dict[str, Any] = {
        "Sid": "Forwarders",
        "Effect": "Allow",
        "Principal": policy_principal,
        "Action": "events:PutEvents",
        "Resource": arn,
    }
    if condition:
        statement["Condition"] = condition
    client.put_permission(
        EventBusName="patch-events", Policy=json.dumps({"Version": "2012-10-17", "Statement": [statement]})
    )
    sqs = session.client("sqs")
    url = sqs.create_queue(QueueName="received")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    client.put_rule(Name="all", EventBusName="patch-events", EventPattern=json.dumps({"source": ["aws.ssm"]}))
    client.put_targets(Rule="all", EventBusName="patch-events", Targets=[{"Id": "q", "Arn": queue_arn}])
    return arn, url


def forward(bus_arn: str, role: bool) -> None:
    client = aws.session(CHILD, OTHER).client("events")
    client.put_rule(Name="fwd", EventPattern=json.dumps({"source": ["aws.ssm"]}))
    target: dict[str, Any] = {"Id": "hub", "Arn": bus_arn}
    if role:
        target["RoleArn"] = f"arn:aws:iam::{CHILD}:role/fwd"
    client.put_targets(Rule="fwd", Targets=[target])


def received(url: str) -> list[dict[str, Any]]:
    messages = aws.session(HUB, REGION).client("sqs").receive_message(QueueUrl=url, MaxNumberOfMessages=10)
    return [json.loads(m["Body"]) for m in messages.get("Messages", [])]


def test_a_forwarded_event_keeps_the_senders_account_region_and_id(moto_aws: None) -> None:
    bus, url = hub_bus({"AWS": CHILD})
    forward(bus, role=True)
    sent = events.emit(CHILD, OTHER, "aws.ssm", "Configuration Compliance State Change", {"compliance-type": "Patch"})
    [event] = received(url)
    # moto's SQS target template drops "account"; tests/hub/test_patch_events_flow.py sees it through a function
    assert (event["id"], event["region"]) == (sent["id"], OTHER)
    assert sent["time"].endswith("Z")


def test_a_bus_policy_without_the_sender_refuses_it(moto_aws: None) -> None:
    bus, url = hub_bus({"AWS": aws.ACCOUNTS[2]})
    forward(bus, role=True)
    before = len(events.REFUSED)
    events.emit(CHILD, OTHER, "aws.ssm", "Configuration Compliance State Change", {"compliance-type": "Patch"})
    assert received(url) == []
    assert events.REFUSED[before:] == [(CHILD, bus, "the bus policy does not allow the sending account")]


def test_an_organization_grant_needs_the_targets_role(moto_aws: None) -> None:
    org = aws.session(HUB, "us-east-1").client("organizations")
    org_id = org.create_organization(FeatureSet="ALL")["Organization"]["Id"]
    member = org.create_account(Email="c@example.com", AccountName="c")["CreateAccountStatus"]["AccountId"]
    global CHILD
    saved, CHILD = CHILD, member
    try:
        bus, url = hub_bus("*", {"StringEquals": {"aws:PrincipalOrgID": org_id}})
        forward(bus, role=False)
        events.emit(member, OTHER, "aws.ssm", "Configuration Compliance State Change", {"compliance-type": "Patch"})
        assert received(url) == []
        assert events.REFUSED[-1] == (member, bus, "an organization grant needs the target's RoleArn")
        forward(bus, role=True)  # the same target, now with its role
        events.emit(member, OTHER, "aws.ssm", "Configuration Compliance State Change", {"compliance-type": "Patch"})
        assert [e["region"] for e in received(url)] == [OTHER]
    finally:
        CHILD = saved


def test_a_failing_function_target_ends_in_its_dead_letter_queue(moto_aws: None) -> None:
    from devkit.applier import moto_gaps

    moto_gaps.install()  # keeps CreateFunction's DeadLetterConfig (moto drops it)
    session = aws.session(HUB, REGION)
    sqs = session.client("sqs")
    dlq = sqs.create_queue(QueueName="dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    role = session.client("iam").create_role(RoleName="fn", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as archive:
        archive.writestr(
            "app.py",
            "CALLS = []\n"
            "def handler(event, context):\n"
            "    CALLS.append(1)\n"
            "    raise RuntimeError(f'attempt {len(CALLS)}')\n",
        )
    function = session.client("lambda").create_function(
        FunctionName="failing",
        Runtime="python3.12",
        Role=role,
        Handler="app.handler",
        Code={"ZipFile": code.getvalue()},
        DeadLetterConfig={"TargetArn": dlq_arn},
    )["FunctionArn"]
    client = session.client("events")
    client.put_rule(Name="to-fn", EventPattern=json.dumps({"source": ["aws.ssm"]}))
    client.put_targets(Rule="to-fn", Targets=[{"Id": "fn", "Arn": function}])
    sent = events.emit(
        HUB, REGION, "aws.ssm", "EC2 Automation Execution Status-change Notification", {"Status": "Failed"}
    )
    [message] = sqs.receive_message(QueueUrl=dlq).get("Messages", [])
    assert json.loads(message["Body"])["id"] == sent["id"]
