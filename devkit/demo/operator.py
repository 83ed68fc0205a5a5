"""The central team's own subscriptions to the deployed emergency hub.

The central stack deploys the state machine and the approval topic (``emergency`` outputs);
what an operator adds is where they read: an SQS queue subscribed to the approval topic (the
task token arrives there) and an EventBridge rule that copies the hub's finished-rollout events
to a second queue. Returns the demo's :class:`~devkit.demo.emergency.EmergencyHub` handle on
the DEPLOYED machine, so the rollout runs the rendered ASL, role and validation Lambda.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from components import naming
from devkit.demo.emergency import EmergencyHub

APPROVALS_QUEUE = "org-patching-operator-approvals"
EVENTS_QUEUE = "org-patching-operator-events"
EVENTS_RULE = "org-patching-operator-rollouts"


def subscribe_operator(session: Any, emergency_outputs: Mapping[str, Any]) -> EmergencyHub:
    """Subscribe the operator's queues to the deployed hub (``emergency_outputs``: the central
    stack's ``emergency`` section) and return a handle on its state machine."""
    sqs = session.client("sqs")

    def queue(name: str) -> tuple[str, str]:
        url = sqs.create_queue(QueueName=name)["QueueUrl"]
        return url, sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]

    approvals_url, approvals_arn = queue(APPROVALS_QUEUE)
    events_url, events_arn = queue(EVENTS_QUEUE)
    topic = str(emergency_outputs["approvalTopicArn"])
    session.client("sns").subscribe(TopicArn=topic, Protocol="sqs", Endpoint=approvals_arn)
    events = session.client("events")
    events.put_rule(Name=EVENTS_RULE, EventPattern=json.dumps({"source": [naming.EVENT_SOURCE]}))
    events.put_targets(Rule=EVENTS_RULE, Targets=[{"Id": "operator", "Arn": events_arn}])
    return EmergencyHub(
        session,
        str(emergency_outputs["stateMachineArn"]),
        approvals_url,
        events_url,
        topic,
        str(emergency_outputs["approvalFunctionName"]),
        naming.EMERGENCY_APPROVAL_TABLE,
    )
