"""The hub's emergency patching, deployed on the emulator from the component's own parts:
the ASL file (``render_definition``), the validation Lambda's source and environment
(``validate_environment``), the runbooks, and the names in ``components.naming``.

Rollouts start, and waves are approved, through the approval gate exactly as
``patchctl emergency start|approve`` does it (``patchctl.emergency.gate``): as a named person
(an assumed role session of the hub account), with a signed identity proof. The gate's approval
requests, published to the SNS topic, arrive in an SQS queue (moto delivers SNS to SQS); they
name the execution and the wave, never the task token.
"""

from __future__ import annotations

import io
import json
import time
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import boto3

from components import naming, packaging
from components.config import CentralConfig
from components.hub.change_calendar import calendar_content
from components.hub.emergency_patching import render_definition, validate_environment
from patchctl.emergency import gate
from patchctl.emergency.hub import HubRef

VALIDATE_FUNCTION = "org-patching-emergency-validate"
#: The role people assume in the hub to operate rollouts (their session name says who they are).
#: A person's role in the central team's account (not one the program deploys, so the IAM replay
#: leaves it to the organization's own access management).
OPERATOR_ROLE = "central-team-operator"
REQUESTER, APPROVER = "alice", "bob"


@dataclass
class EmergencyHub:
    session: Any
    machine_arn: str
    approvals_queue: str
    events_queue: str
    approval_topic: str
    approval_function: str
    approval_table: str

    @property
    def ref(self) -> HubRef:
        return HubRef(self.session.region_name, self.machine_arn, self.approval_function)

    def person(self, name: str) -> Any:
        """A session of ``name`` in the hub (the operator role, with their name as the session name)."""
        account = self.machine_arn.split(":")[4]
        creds = self.session.client("sts").assume_role(
            RoleArn=f"arn:aws:iam::{account}:role/{OPERATOR_ROLE}", RoleSessionName=name
        )["Credentials"]
        return boto3.session.Session(
            aws_access_key_id=creds["AccessKeyId"],
            aws_secret_access_key=creds["SecretAccessKey"],
            aws_session_token=creds["SessionToken"],
            region_name=self.session.region_name,
        )

    def start(self, request: Mapping[str, Any], by: str = REQUESTER) -> str:
        """Start through the gate as ``by``; the request is checked by the state machine (a bad one fails there)."""
        return str(gate.start(self.person(by), self.ref, dict(request), check=False)["execution_arn"])

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

        def answer_requests() -> None:
            for message in sqs.receive_message(QueueUrl=self.approvals_queue, WaitTimeSeconds=0).get("Messages", []):
                body = json.loads(json.loads(message["Body"])["Message"])
                sqs.delete_message(QueueUrl=self.approvals_queue, ReceiptHandle=message["ReceiptHandle"])
                if on_approval is None:
                    raise RuntimeError(f"unexpected approval request: {body}")
                on_approval(body)

        while time.monotonic() < deadline:
            answer_requests()
            described: dict[str, Any] = sfn.describe_execution(executionArn=execution)
            if described["status"] != "RUNNING":
                answer_requests()  # a request published just before the execution ended (e.g. timed out)
                return described
            time.sleep(0.05)
        raise TimeoutError(f"the rollout {execution} did not finish within {timeout_seconds} s")

    def approve(self, body: Mapping[str, Any], by: str = APPROVER) -> dict[str, Any]:
        """Answer an approval request as ``by``, as ``patchctl emergency approve`` does."""
        return gate.answer(self.person(by), self.ref, body["execution"], body["wave"])

    def reject(self, body: Mapping[str, Any], reason: str, by: str = APPROVER) -> dict[str, Any]:
        return gate.answer(self.person(by), self.ref, body["execution"], body["wave"], approve=False, reason=reason)

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
    region = session.region_name
    machine_arn = f"arn:aws:states:{region}:{cfg.central_account_id}:stateMachine:{naming.EMERGENCY_STATE_MACHINE}"
    ssm = session.client("ssm")
    for name, content in runbooks.items():
        document_format = "JSON" if content.lstrip().startswith("{") else "YAML"
        ssm.create_document(Name=name, Content=content, DocumentType="Automation", DocumentFormat=document_format)
        # shared with the organization's accounts, as EmergencyPatching's documents are (20 ids per call)
        shared = [a for a in cfg.accounts if a != cfg.central_account_id]
        for start in range(0, len(shared), 20):
            ssm.modify_document_permission(
                Name=name, PermissionType="Share", AccountIdsToAdd=shared[start : start + 20]
            )

    # the organization's change calendar (components/hub/change_calendar.py), shared like the runbooks
    ssm.create_document(
        Name=naming.CHANGE_CALENDAR,
        Content=calendar_content(cfg.change_freeze),
        DocumentType="ChangeCalendar",
        DocumentFormat="TEXT",
    )
    sqs = session.client("sqs")

    def queue(name: str) -> tuple[str, str]:
        url = sqs.create_queue(QueueName=name)["QueueUrl"]
        return url, sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]

    approvals_url, approvals_arn = queue("org-patching-approvals")
    events_url, events_arn = queue("org-patching-events")
    sns = session.client("sns")
    topic = sns.create_topic(Name="org-patching-approvals")["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=approvals_arn)
    session.client("dynamodb").create_table(
        TableName=naming.EMERGENCY_APPROVAL_TABLE,
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
    )
    gate_role = iam.create_role(RoleName="org-patching-emergency-approval", AssumeRolePolicyDocument=trust)
    gate_package = io.BytesIO()
    with zipfile.ZipFile(gate_package, "w") as archive:
        for name, path in packaging.archive_files("emergency_approval").items():
            archive.write(path, name)
    gate_arn = session.client("lambda").create_function(
        FunctionName=naming.EMERGENCY_APPROVAL_FUNCTION,
        Runtime="python3.12",
        Role=gate_role["Role"]["Arn"],
        Handler="app.handler",
        Code={"ZipFile": gate_package.getvalue()},
        Environment={
            "Variables": {
                "TABLE_NAME": naming.EMERGENCY_APPROVAL_TABLE,
                "TOPIC_ARN": topic,
                "STATE_MACHINE_ARN": machine_arn,
                "CHANGE_CALENDAR": naming.CHANGE_CALENDAR,
            }
        },
    )["FunctionArn"]
    events = session.client("events")
    events.put_rule(Name="org-patching-rollout-finished", EventPattern=json.dumps({"source": [naming.EVENT_SOURCE]}))
    events.put_targets(Rule="org-patching-rollout-finished", Targets=[{"Id": "sqs", "Arn": events_arn}])
    definition = render_definition(
        {
            "Partition": "aws",
            "ValidateFunctionArn": function_arn,
            "ApprovalFunctionArn": gate_arn,
            "EventSource": naming.EVENT_SOURCE,
        }
    )
    machine = session.client("stepfunctions").create_state_machine(
        name=naming.EMERGENCY_STATE_MACHINE,
        roleArn=f"arn:aws:iam::{cfg.central_account_id}:role/org-patching-emergency",
        definition=definition,
        type="STANDARD",
    )["stateMachineArn"]
    assert machine == machine_arn, machine
    return EmergencyHub(
        session,
        machine,
        approvals_url,
        events_url,
        topic,
        naming.EMERGENCY_APPROVAL_FUNCTION,
        naming.EMERGENCY_APPROVAL_TABLE,
    )
