"""Demo step of issue 16 item 1: the team hears about its window before it fires.

The hub's notices function, as deployed by the applier, is invoked the way its schedule invokes it, with the
scheduled event of the check one hour before the team window's next run (``NextExecutionTime`` of the live window,
as SSM computes it from the schedule the team chose in the product). It reads the child account through the
deployed reader role; what the team's topic then delivers to a subscribed queue is what the step shows.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from components import naming
from devkit.demo.narrative import Narrator
from devkit.demo.world import World
from devkit.emulator import Emulator

#: The check the step stands for: the scheduled run one hour before the window.
BEFORE = timedelta(hours=1)


@dataclass
class NoticesResult:
    #: the team window and when it runs next (UTC, as the live window says)
    window: str = ""
    runs_at: str = ""
    #: what the function answered (the dedupe keys it sent) and what the team's topic delivered
    sent: list[str] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)
    #: a second check at the same time sends nothing (one notice per window run)
    repeated: list[str] = field(default_factory=list)


def step_pre_patch_notice(emu: Emulator, world: World, say: Narrator, window: str, team: str) -> NoticesResult:
    """Invoke the deployed notices function before ``window`` runs; read what ``team``'s topic delivered."""
    deployed = world.central_outputs["notices"]
    topic = deployed["topics"].get(naming.notice_topic(team)) or deployed["topics"][naming.notice_topic("platform")]
    hub = emu.session(world.hub_account, world.home_region)
    sqs = hub.client("sqs")
    inbox = sqs.create_queue(QueueName=f"demo-{team}-team-inbox")["QueueUrl"]
    inbox_arn = sqs.get_queue_attributes(QueueUrl=inbox, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    hub.client("sns").subscribe(TopicArn=topic, Protocol="sqs", Endpoint=inbox_arn)

    account, region = world.asg["account"], world.asg["region"]
    (live,) = (
        emu.session(account, region)
        .client("ssm")
        .describe_maintenance_windows(Filters=[{"Key": "Name", "Values": [window]}])["WindowIdentities"]
    )
    runs_at = datetime.fromisoformat(str(live["NextExecutionTime"]).replace("Z", "+00:00"))
    check = {"detail-type": "Scheduled Event", "source": "aws.events", "time": f"{runs_at - BEFORE:%Y-%m-%dT%H:%M:%SZ}"}

    def invoke() -> dict[str, Any]:
        answer = hub.client("lambda").invoke(FunctionName=deployed["function"], Payload=json.dumps(check).encode())
        payload: dict[str, Any] = json.loads(answer["Payload"].read())
        if answer.get("FunctionError"):
            raise RuntimeError(f"the notices function failed: {payload}")
        return payload

    result = NoticesResult(window=window, runs_at=f"{runs_at:%Y-%m-%dT%H:%MZ}")
    result.sent = list(invoke()["sent"])
    result.repeated = list(invoke()["sent"])
    messages = sqs.receive_message(QueueUrl=inbox, MaxNumberOfMessages=10).get("Messages", [])
    result.messages = [json.loads(m["Body"])["Message"] for m in messages]
    say.fact(
        f"check at {check['time']}: {len(result.sent)} notice(s) sent, the same check again sent {len(result.repeated)}"
    )
    for message in result.messages:
        for line in message.splitlines():
            say.fact(f"  {line}")
    return result
