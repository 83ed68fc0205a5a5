"""The hub's emergency patching, deployed on the emulator from the component's own parts:
the ASL file (``render_definition``), the validation Lambda's source and environment
(``validate_environment``), the runbooks, and the names in ``components.naming``.

Approval requests published to the SNS topic arrive in an SQS queue (moto delivers SNS to
SQS), so the operator's answer — ``send_task_success`` with the task token from the message
— is what a person would run.
"""

from __future__ import annotations

import io
import json
import time
import uuid
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from components import naming, packaging
from components.config import CentralConfig
from components.hub.emergency_patching import render_definition, validate_environment

VALIDATE_FUNCTION = "org-patching-emergency-validate"


@dataclass
class EmergencyHub:
    session: Any
    machine_arn: str
    approvals_queue: str
    events_queue: str
    approval_topic: str

    def start(self, request: Mapping[str, Any]) -> str:
        # An explicit name: moto names every unnamed execution "None", so a second one would clash.
        return str(
            self.session.client("stepfunctions").start_execution(
                stateMachineArn=self.machine_arn, name=f"rollout-{uuid.uuid4()}", input=json.dumps(request)
            )["executionArn"]
        )

    def finish(
        self,
        execution: str,
        on_approval: Callable[[dict[str, Any]], None] | None = None,
        timeout_seconds: float = 60,
    ) -> dict[str, Any]:
        """Wait for the execution (it runs on moto's interpreter thread), answering approvals."""
        sqs = self.session.client("sqs")
        sfn = self.session.client("stepfunctions")
        deadline = time.monotonic() + timeout_seconds
        while time.monotonic() < deadline:
            for message in sqs.receive_message(QueueUrl=self.approvals_queue, WaitTimeSeconds=0).get("Messages", []):
                body = json.loads(json.loads(message["Body"])["Message"])
                sqs.delete_message(QueueUrl=self.approvals_queue, ReceiptHandle=message["ReceiptHandle"])
                if on_approval is None:
                    raise RuntimeError(f"unexpected approval request: {body}")
                on_approval(body)
            described: dict[str, Any] = sfn.describe_execution(executionArn=execution)
            if described["status"] != "RUNNING":
                return described
            time.sleep(0.05)
        raise TimeoutError(f"the rollout {execution} did not finish within {timeout_seconds} s")

    def approve(self, body: Mapping[str, Any]) -> None:
        self.session.client("stepfunctions").send_task_success(taskToken=body["task_token"], output="true")

    def events(self) -> list[dict[str, Any]]:
        messages = self.session.client("sqs").receive_message(QueueUrl=self.events_queue, MaxNumberOfMessages=10)
        return [json.loads(m["Body"]) for m in messages.get("Messages", [])]

    def history(self, execution: str) -> list[dict[str, Any]]:
        events: list[dict[str, Any]] = self.session.client("stepfunctions").get_execution_history(
            executionArn=execution, maxResults=1000
        )["events"]
        return events


def deploy_emergency_hub(
    session: Any, cfg: CentralConfig, runbooks: Mapping[str, str], patch_log_bucket: str | None = None
) -> EmergencyHub:
    """What ``EmergencyPatching`` deploys, in the hub account of ``session``.

    ``runbooks``: ``{document name: content}`` (a multi-account automation runs the hub's copy).
    ``patch_log_bucket``: the hub's patch-log bucket (every wave's ``OutputS3BucketName``); by
    default one is created in the hub account.
    """
    if patch_log_bucket is None:
        patch_log_bucket = f"org-patching-patch-logs-{cfg.central_account_id}"  # the demo world's name
        s3 = session.client("s3")
        if patch_log_bucket not in {b["Name"] for b in s3.list_buckets().get("Buckets", [])}:
            s3.create_bucket(Bucket=patch_log_bucket)
    iam = session.client("iam")
    trust = json.dumps({"Version": "2012-10-17", "Statement": []})
    validate_role = iam.create_role(RoleName="org-patching-emergency-validate", AssumeRolePolicyDocument=trust)
    admin = iam.create_role(RoleName=naming.AUTOMATION_ADMINISTRATION_ROLE, AssumeRolePolicyDocument=trust)
    package = io.BytesIO()
    with zipfile.ZipFile(package, "w") as archive:
        for name, path in packaging.archive_files("emergency_validate").items():
            archive.write(path, name)
    function_arn = session.client("lambda").create_function(
        FunctionName=VALIDATE_FUNCTION,
        Runtime="python3.12",
        Role=validate_role["Role"]["Arn"],
        Handler="app.handler",
        Code={"ZipFile": package.getvalue()},
        Environment={"Variables": validate_environment(cfg, admin["Role"]["Arn"], patch_log_bucket)},
    )["FunctionArn"]
    ssm = session.client("ssm")
    for name, content in runbooks.items():
        document_format = "JSON" if content.lstrip().startswith("{") else "YAML"
        ssm.create_document(Name=name, Content=content, DocumentType="Automation", DocumentFormat=document_format)

    sqs = session.client("sqs")

    def queue(name: str) -> tuple[str, str]:
        url = sqs.create_queue(QueueName=name)["QueueUrl"]
        return url, sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]

    approvals_url, approvals_arn = queue("org-patching-approvals")
    events_url, events_arn = queue("org-patching-events")
    sns = session.client("sns")
    topic = sns.create_topic(Name="org-patching-approvals")["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=approvals_arn)
    events = session.client("events")
    events.put_rule(Name="org-patching-rollout-finished", EventPattern=json.dumps({"source": [naming.EVENT_SOURCE]}))
    events.put_targets(Rule="org-patching-rollout-finished", Targets=[{"Id": "sqs", "Arn": events_arn}])
    definition = render_definition(
        {
            "Partition": "aws",
            "ValidateFunctionArn": function_arn,
            "ApprovalTopicArn": topic,
            "EventSource": naming.EVENT_SOURCE,
        }
    )
    machine = session.client("stepfunctions").create_state_machine(
        name=naming.EMERGENCY_STATE_MACHINE,
        roleArn=f"arn:aws:iam::{cfg.central_account_id}:role/org-patching-emergency",
        definition=definition,
        type="STANDARD",
    )["stateMachineArn"]
    return EmergencyHub(session, machine, approvals_url, events_url, topic)
