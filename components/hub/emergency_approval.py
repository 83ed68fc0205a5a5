"""The emergency rollout's approval gate: a table, a function and their permissions.

Why: approving used to mean holding the task token, which travelled in the SNS message and the
state machine's logs. The gate (``lambda_src/emergency_approval``) keeps the token, authenticates
every person through IAM (``lambda:InvokeFunction`` plus a signed STS identity proof), refuses the
requester and answers each wave once (a DynamoDB conditional write). ``docs/security.md``
describes the model; grant operators ``lambda:InvokeFunction`` on :attr:`EmergencyApproval.function`
(and not ``states:SendTaskSuccess``/``states:StartExecution``).
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from .. import naming, packaging
from ..policy_documents import Statement, allow, document, to_json


@dataclass
class EmergencyApprovalArgs:
    partition: str
    account_id: str
    region: str
    log_retention_days: int
    topic_arn: pulumi.Input[str]
    #: The hub key: the table's encryption and the topic's (publishing needs the key too).
    kms_key_arn: pulumi.Input[str] | None
    log_kms_key_arn: pulumi.Input[str] | None = None


def approval_policy(
    args: EmergencyApprovalArgs, table_arn: pulumi.Input[str], log_group_arn: pulumi.Input[str]
) -> list[Statement]:
    """What the gate does: its table, the topic, starting and answering the emergency state machine."""
    arn = f"arn:{args.partition}"
    machine = f"{arn}:states:{args.region}:{args.account_id}:stateMachine:{naming.EMERGENCY_STATE_MACHINE}"
    statements = [
        allow(["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"], [table_arn], sid="Record"),
        allow(["sns:Publish"], [args.topic_arn], sid="AskApprovers"),
        allow(["states:StartExecution"], [machine], sid="StartRollout"),
        # An "ask" is believed only when the execution's history shows the approval task with that token
        # (Service Authorization Reference: GetExecutionHistory takes the execution resource type).
        allow(
            ["states:GetExecutionHistory"],
            [f"{arn}:states:{args.region}:{args.account_id}:execution:{naming.EMERGENCY_STATE_MACHINE}:*"],
            sid="VerifyAsk",
        ),
        # Is a change freeze on? (SAR: GetCalendarState takes the document resource type.)
        allow(
            ["ssm:GetCalendarState"],
            [naming.change_calendar_arn(args.partition, args.region, args.account_id)],
            sid="ReadChangeFreeze",
        ),
        # Service Authorization Reference: SendTaskSuccess/SendTaskFailure have no resource type ("*"); the
        # token itself names the task, and only this role (not the operators) is given them.
        allow(["states:SendTaskSuccess", "states:SendTaskFailure"], "*", sid="AnswerApproval"),
        allow(["logs:CreateLogStream", "logs:PutLogEvents"], [pulumi.Output.concat(log_group_arn, ":*")], sid="Logs"),
    ]
    if args.kms_key_arn is not None:
        statements.append(
            allow(
                ["kms:GenerateDataKey", "kms:Decrypt"],
                [args.kms_key_arn],
                sid="EncryptedTableAndTopic",
                conditions={
                    "StringEquals": {
                        "kms:ViaService": [f"sns.{args.region}.amazonaws.com", f"dynamodb.{args.region}.amazonaws.com"]
                    }
                },
            )
        )
    return statements


def topic_policy(
    topic_arn: pulumi.Input[str], partition: str, account: str, publisher_role_arn: pulumi.Input[str]
) -> dict[str, object]:
    """Only the gate publishes; the hub account's principals may subscribe and read; TLS only."""
    return document(
        allow(["sns:Publish"], [topic_arn], sid="GatePublishes", principal={"AWS": publisher_role_arn}),
        allow(
            ["sns:Subscribe", "sns:GetTopicAttributes", "sns:ListSubscriptionsByTopic"],
            [topic_arn],
            sid="HubAccountSubscribes",
            principal={"AWS": f"arn:{partition}:iam::{account}:root"},
        ),
        {
            "Sid": "DenyOtherPublishers",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "sns:Publish",
            "Resource": topic_arn,
            "Condition": {"ArnNotEquals": {"aws:PrincipalArn": publisher_role_arn}},
        },
        {
            "Sid": "DenyInsecureTransport",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "sns:*",
            "Resource": topic_arn,
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        },
    )


class EmergencyApproval:
    """The gate's resources, children of the ``EmergencyPatching`` component (``opts.parent``)."""

    table: aws.dynamodb.Table
    role: aws.iam.Role
    log_group: aws.cloudwatch.LogGroup
    role_policy: aws.iam.RolePolicy
    function: aws.lambda_.Function
    topic_policy: aws.sns.TopicPolicy

    def __init__(self, name: str, args: EmergencyApprovalArgs, parent: pulumi.Resource) -> None:
        child = pulumi.ResourceOptions(parent=parent)
        self.table = aws.dynamodb.Table(
            f"{name}-table",
            name=naming.EMERGENCY_APPROVAL_TABLE,
            billing_mode="PAY_PER_REQUEST",
            hash_key="pk",
            attributes=[aws.dynamodb.TableAttributeArgs(name="pk", type="S")],
            server_side_encryption=aws.dynamodb.TableServerSideEncryptionArgs(
                enabled=True, kms_key_arn=args.kms_key_arn
            ),
            point_in_time_recovery=aws.dynamodb.TablePointInTimeRecoveryArgs(enabled=True),
            deletion_protection_enabled=True,  # the record of who approved what
            opts=child,
        )
        self.role = aws.iam.Role(
            f"{name}-role",
            description="org-patching: the emergency approval gate",
            assume_role_policy=to_json(
                document(
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": "lambda.amazonaws.com"},
                        "Action": "sts:AssumeRole",
                        "Condition": {"StringEquals": {"aws:SourceAccount": args.account_id}},
                    }
                )
            ),
            opts=child,
        )
        self.log_group = aws.cloudwatch.LogGroup(
            f"{name}-logs",
            name=naming.lambda_log_group(naming.EMERGENCY_APPROVAL_FUNCTION),
            retention_in_days=args.log_retention_days,
            kms_key_id=args.log_kms_key_arn,
            opts=child,
        )
        self.role_policy = aws.iam.RolePolicy(
            f"{name}-policy",
            role=self.role.id,
            policy=to_json(document(*approval_policy(args, self.table.arn, self.log_group.arn))),
            opts=child,
        )
        machine = (
            f"arn:{args.partition}:states:{args.region}:{args.account_id}:stateMachine:{naming.EMERGENCY_STATE_MACHINE}"
        )
        self.function = aws.lambda_.Function(
            f"{name}-function",
            name=naming.EMERGENCY_APPROVAL_FUNCTION,
            description="org-patching: emergency approvals (who started, who approved, each wave once)",
            runtime=packaging.RUNTIME,
            architectures=["arm64"],
            handler="app.handler",
            timeout=15,
            memory_size=128,
            role=self.role.arn,
            code=packaging.archive("emergency_approval"),
            layers=[packaging.powertools_layer(args.partition, args.region, "arm64")],
            environment=aws.lambda_.FunctionEnvironmentArgs(
                variables={
                    "TABLE_NAME": naming.EMERGENCY_APPROVAL_TABLE,
                    "TOPIC_ARN": args.topic_arn,
                    "STATE_MACHINE_ARN": machine,
                    # the change freeze a start checks (components/hub/change_calendar.py)
                    "CHANGE_CALENDAR": naming.CHANGE_CALENDAR,
                }
            ),
            logging_config=aws.lambda_.FunctionLoggingConfigArgs(log_format="JSON", log_group=self.log_group.name),
            opts=pulumi.ResourceOptions(parent=parent, depends_on=[self.role_policy]),
        )
        self.topic_policy = aws.sns.TopicPolicy(
            f"{name}-topic-policy",
            arn=args.topic_arn,
            policy=to_json(topic_policy(args.topic_arn, args.partition, args.account_id, self.role.arn)),
            opts=child,
        )
