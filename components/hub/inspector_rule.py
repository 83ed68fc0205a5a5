"""``InspectorRule``: the opt-in hub rule from Amazon Inspector findings to emergency requests (issue 16 item 4).

Created only with ``org-patching:inspector.enabled: true``. The hub is the Inspector delegated administrator's
account, whose default bus receives the "Inspector2 Finding" events of every member account (Amazon Inspector User
Guide, "Amazon EventBridge event schema for Amazon Inspector events"); one rule there selects the ACTIVE EC2
package-vulnerability findings at or above the configured severity with a fix available, and invokes the function
(``lambda_src/inspector_findings``) that starts an emergency request for exactly that instance through the approval
gate. Dedupe reuses the failure-alert table (``naming.FAILURE_ALERTS_TABLE``: a string ``pk`` and the ``expires``
TTL, the same shape). All hub-side: nothing per account-region.

The pure parts (:func:`event_pattern`, :func:`function_environment`, :func:`function_statements`) are what the
demo deploys on the emulator too, so the tests judge the same pattern and policy.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from .. import naming, packaging
from ..config import InspectorConfig
from ..policy_documents import Statement, allow, document, service_trust, to_json

#: Inspector's finding severities, lowest first (Inspector2 API reference, Finding.severity).
SEVERITIES = ("INFORMATIONAL", "LOW", "MEDIUM", "HIGH", "CRITICAL")


def event_pattern(config: InspectorConfig) -> dict[str, Any]:
    """The rule's pattern: the findings the function acts on (it checks each field again)."""
    return {
        "source": ["aws.inspector2"],
        "detail-type": ["Inspector2 Finding"],
        "detail": {
            "type": ["PACKAGE_VULNERABILITY"],
            "status": ["ACTIVE"],
            "fixAvailable": ["YES"],
            "severity": list(SEVERITIES[SEVERITIES.index(config.minimum_severity) :]),
            # The resource type (detail.resources[].type, inside an array of objects) is checked by the function.
        },
    }


def function_environment(
    config: InspectorConfig, table_name: str, approval_function: str, state_machine_arn: str
) -> dict[str, str]:
    """The function's configuration contract (``lambda_src/inspector_findings/app.py``)."""
    return {
        "TABLE_NAME": table_name,
        "APPROVAL_FUNCTION": approval_function,
        "STATE_MACHINE_ARN": state_machine_arn,
        "MIN_SEVERITY": config.minimum_severity,
        "REBOOT_OPTION": config.reboot_option,
    }


def function_statements(
    table_arn: pulumi.Input[str], approval_function_arn: pulumi.Input[str], state_machine_arn: pulumi.Input[str]
) -> list[Statement]:
    """What the function does besides logging (Service Authorization Reference: GetItem/PutItem/DeleteItem on
    ``table``, lambda:InvokeFunction on ``function``, states:DescribeExecution on ``execution``)."""

    def of(arn: str) -> str:
        return arn.replace(":stateMachine:", ":execution:") + ":*"

    executions: pulumi.Input[str] = (
        of(state_machine_arn)
        if isinstance(state_machine_arn, str)
        else pulumi.Output.concat(state_machine_arn).apply(of)
    )
    return [
        allow(["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem"], [table_arn], sid="DedupeFindings"),
        # the rollout starts through the approval gate, as a person's does (never states:StartExecution)
        allow(["lambda:InvokeFunction"], [approval_function_arn], sid="StartThroughTheGate"),
        allow(["states:DescribeExecution"], [executions], sid="IsTheRolloutPending"),
    ]


@dataclass
class InspectorRuleArgs:
    config: InspectorConfig
    account_id: str
    region: str
    partition: str
    log_retention_days: int
    key_arn: pulumi.Input[str]
    table_name: pulumi.Input[str]
    table_arn: pulumi.Input[str]
    approval_function_name: pulumi.Input[str]
    approval_function_arn: pulumi.Input[str]
    state_machine_arn: pulumi.Input[str]
    dead_letters_arn: pulumi.Input[str]


class InspectorRule(pulumi.ComponentResource):
    function: aws.lambda_.Function
    rule: aws.cloudwatch.EventRule

    def __init__(self, name: str, args: InspectorRuleArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("org-patching:hub:InspectorRule", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        log_group = aws.cloudwatch.LogGroup(
            name,
            name=naming.lambda_log_group(naming.INSPECTOR_FINDINGS_FUNCTION),
            retention_in_days=args.log_retention_days,
            kms_key_id=args.key_arn,
            opts=child,
        )
        statements = [
            allow(
                ["logs:CreateLogStream", "logs:PutLogEvents"], [pulumi.Output.concat(log_group.arn, ":*")], sid="Logs"
            ),
            allow(["sqs:SendMessage"], [args.dead_letters_arn], sid="DeadLetters"),
            *function_statements(args.table_arn, args.approval_function_arn, args.state_machine_arn),
        ]
        role = aws.iam.Role(
            name,
            description="org-patching: Inspector findings into emergency requests",
            assume_role_policy=to_json(service_trust("lambda.amazonaws.com", source_account=args.account_id)),
            opts=child,
        )
        policy = aws.iam.RolePolicy(name, role=role.id, policy=to_json(document(*statements)), opts=child)
        environment = pulumi.Output.all(args.table_name, args.approval_function_name, args.state_machine_arn).apply(
            lambda values: function_environment(args.config, str(values[0]), str(values[1]), str(values[2]))
        )
        self.function = aws.lambda_.Function(
            name,
            name=naming.INSPECTOR_FINDINGS_FUNCTION,
            description="org-patching: Inspector findings into emergency requests (lambda_src/inspector_findings)",
            runtime=packaging.RUNTIME,
            architectures=["arm64"],
            handler="app.handler",
            timeout=60,
            memory_size=256,
            role=role.arn,
            code=packaging.archive("inspector_findings"),
            layers=[packaging.powertools_layer(args.partition, args.region, "arm64")],
            dead_letter_config=aws.lambda_.FunctionDeadLetterConfigArgs(target_arn=args.dead_letters_arn),
            environment=aws.lambda_.FunctionEnvironmentArgs(variables=environment),
            logging_config=aws.lambda_.FunctionLoggingConfigArgs(log_format="JSON", log_group=log_group.name),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[policy]),
        )
        self.rule = aws.cloudwatch.EventRule(
            name,
            name=naming.INSPECTOR_FINDINGS_RULE,
            description="org-patching: Inspector findings with a fix, at or above the configured severity",
            event_pattern=json.dumps(event_pattern(args.config)),
            opts=child,
        )
        aws.lambda_.Permission(
            name,
            function=self.function.name,
            action="lambda:InvokeFunction",
            principal="events.amazonaws.com",
            source_arn=self.rule.arn,
            opts=child,
        )
        aws.cloudwatch.EventTarget(
            name,
            rule=self.rule.name,
            target_id="inspector-findings",
            arn=self.function.arn,
            dead_letter_config=aws.cloudwatch.EventTargetDeadLetterConfigArgs(arn=args.dead_letters_arn),
            opts=child,
        )
        self.register_outputs({"functionName": self.function.name, "ruleName": self.rule.name})
