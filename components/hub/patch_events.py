"""``PatchEvents``: patch events of the whole organization in the hub, minutes after they happen.

* **Bus**: ``org-patching-patch-events``; its policy lets ``events:PutEvents`` in from principals
  of the organization only (``aws:PrincipalOrgID``). Every child account-region forwards to it
  with one rule (``components/spoke/event_forwarding.py``; patterns in ``components/event_patterns.py``).
* **Lake**: the archive rule invokes ``org-patching-patch-events`` (``lambda_src/patch_events``),
  which writes each event as one JSON object under ``events/accountid=/region=/dt=`` of the
  events bucket (SSE-KMS with the hub's key, TLS-only, like every lake bucket); the
  ``patch_events`` Glue table projects those partitions, so Athena sees a run as soon as the
  object lands (``docs/patch-events.md`` has the lag). A Lambda rather than Firehose: Firehose's
  dynamic partitioning (JQ over each record) cannot be run offline, the function can, on the
  emulator, with the same code; at patch-event volumes (a few events per instance per window)
  one PUT per event costs less than a delivery stream's minimum.
* **Alerts**: one SNS topic (the hub's key, a topic policy naming its two publishers), fed by
  ``org-patching-failure-alerts`` (``lambda_src/failure_alerts``) from two rules: failures on the
  patch-event bus (window tasks, runbooks, custom resources) and the emergency rollout's on the
  hub's default bus; a DynamoDB table makes each failure one alert. CloudWatch alarms on the
  hub functions' ``Errors`` and on the dead-letter queue's depth publish to the same topic.
* **Dead letters**: one SQS queue for what EventBridge could not deliver to either function
  (targets' dead-letter config) and what the functions failed after Lambda's retries.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from .. import event_patterns, naming, packaging
from ..config import EventsConfig
from ..policy_documents import allow, document, org_principal_condition, service_trust, to_json
from ..secure_bucket import SecureBucket, SecureBucketArgs
from . import patch_event_table

#: One alarm period: a function error or a dead letter is alerted within five minutes.
ALARM_PERIOD_SECONDS = 300
#: How long EventBridge retries a target before the event goes to the dead-letter queue.
TARGET_MAX_EVENT_AGE_SECONDS = 3600
TARGET_MAX_RETRIES = 20


@dataclass
class PatchEventsArgs:
    config: EventsConfig
    org_id: str
    account_id: str
    region: str
    partition: str
    #: The compliance lake's key (buckets, topic, log groups), database and workgroup.
    key_arn: pulumi.Input[str]
    database_name: pulumi.Input[str]
    workgroup_name: pulumi.Input[str]
    #: Child accounts and regions (partition projection of the events table).
    accounts: Sequence[str]
    regions: Sequence[str]
    log_retention_days: int
    #: The emergency rollout: its failures are alerted, its validation function's errors alarmed.
    emergency_state_machine_arn: pulumi.Input[str]
    emergency_function_name: pulumi.Input[str]


class PatchEvents(pulumi.ComponentResource):
    bus: aws.cloudwatch.EventBus
    bus_policy: aws.cloudwatch.EventBusPolicy
    dead_letters: aws.sqs.Queue
    bucket: SecureBucket
    archive_function: aws.lambda_.Function
    alert_topic: aws.sns.Topic
    dedupe_table: aws.dynamodb.Table
    alerts_function: aws.lambda_.Function
    table: aws.glue.CatalogTable
    query: aws.athena.NamedQuery
    alarms: list[aws.cloudwatch.MetricAlarm]

    def __init__(self, name: str, args: PatchEventsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("org-patching:hub:PatchEvents", name, None, opts)
        self._name, self._args = name, args
        self._child = pulumi.ResourceOptions(parent=self)
        self._bus()
        self._dead_letter_queue()
        self._lake()
        self._alerts()
        self._alarms()
        self._queue_policy()
        self.register_outputs({"busArn": self.bus.arn, "alertTopicArn": self.alert_topic.arn})

    def outputs(self) -> dict[str, Any]:
        """The ``events`` section of the central stack's outputs."""
        return {
            "busArn": self.bus.arn,
            "busName": self.bus.name,
            "alertTopicArn": self.alert_topic.arn,
            "eventsBucket": self.bucket.bucket.bucket,
            "eventsPrefix": naming.PATCH_EVENTS_PREFIX,
            "table": naming.PATCH_EVENTS_TABLE,
        }

    # --- the bus ------------------------------------------------------------------------------

    def _bus(self) -> None:
        self.bus = aws.cloudwatch.EventBus(
            f"{self._name}-bus",
            name=naming.PATCH_EVENT_BUS,
            description="org-patching: patch events forwarded from every child account and region",
            opts=self._child,
        )
        self.bus_policy = aws.cloudwatch.EventBusPolicy(
            f"{self._name}-bus-policy",
            event_bus_name=self.bus.name,
            policy=to_json(
                document(
                    allow(
                        ["events:PutEvents"],
                        self.bus.arn,
                        sid="OrganizationForwardsPatchEvents",
                        principal="*",
                        conditions=org_principal_condition(self._args.org_id),
                    )
                )
            ),
            opts=self._child,
        )

    def _dead_letter_queue(self) -> None:
        self.dead_letters = aws.sqs.Queue(
            f"{self._name}-dlq",
            name=naming.PATCH_EVENTS_DEAD_LETTER_QUEUE,
            sqs_managed_sse_enabled=True,
            message_retention_seconds=14 * 24 * 3600,
            opts=self._child,
        )

    # --- the lake -----------------------------------------------------------------------------

    def _lake(self) -> None:
        args = self._args
        self.bucket = SecureBucket(
            f"{self._name}-bucket",
            SecureBucketArgs(
                kms_key_arn=args.key_arn, archive_after_days=0, expire_after_days=args.config.retention_days
            ),
            opts=self._child,
        )
        objects = pulumi.Output.concat(self.bucket.bucket.arn, f"/{naming.PATCH_EVENTS_PREFIX}/*")
        self.archive_function = self._function(
            "archive",
            "patch_events",
            naming.PATCH_EVENTS_FUNCTION,
            "writes every forwarded patch event into the compliance lake",
            [
                # lambda_src/patch_events: PutObject only (Service Authorization Reference, Amazon S3: object ARN)
                allow(["s3:PutObject"], [objects], sid="WriteEvents"),
                # SSE-KMS of the bucket: the writer generates the data key (AWS KMS: GenerateDataKey)
                allow(["kms:GenerateDataKey"], [args.key_arn], sid="EncryptEvents"),
            ],
            {"EVENTS_BUCKET": self.bucket.bucket.bucket, "EVENTS_PREFIX": naming.PATCH_EVENTS_PREFIX},
        )
        self._rule(
            "archive",
            naming.PATCH_EVENTS_ARCHIVE_RULE,
            "every forwarded patch event into the compliance lake",
            self.bus.name,
            pulumi.Output.from_input(json.dumps(event_patterns.archive_pattern())),
            self.archive_function,
        )
        table_args = self.bucket.bucket.bucket.apply(
            lambda bucket: patch_event_table.table_args(
                naming.PATCH_EVENTS_TABLE,
                naming.GLUE_DATABASE,
                bucket,
                naming.PATCH_EVENTS_PREFIX,
                args.accounts,
                args.regions,
            )
        )
        self.table = aws.glue.CatalogTable(
            f"{self._name}-table",
            name=naming.PATCH_EVENTS_TABLE,
            database_name=args.database_name,
            description=table_args["description"],
            table_type="EXTERNAL_TABLE",
            parameters=table_args["parameters"],
            partition_keys=table_args["partition_keys"],
            storage_descriptor=table_args["storage_descriptor"],
            opts=self._child,
        )
        self.query = aws.athena.NamedQuery(
            f"{self._name}-query",
            name=patch_event_table.NAMED_QUERY_NAME,
            description=patch_event_table.NAMED_QUERY_DESCRIPTION,
            database=args.database_name,
            workgroup=args.workgroup_name,
            query=patch_event_table.named_query_sql(naming.GLUE_DATABASE, naming.PATCH_EVENTS_TABLE),
            opts=self._child,
        )

    # --- the alerts ---------------------------------------------------------------------------

    def _alerts(self) -> None:
        args = self._args
        self.alert_topic = aws.sns.Topic(
            f"{self._name}-alerts",
            display_name="org-patching failures",
            kms_master_key_id=args.key_arn,
            opts=self._child,
        )
        self.topic_policy = aws.sns.TopicPolicy(
            f"{self._name}-alerts-policy",
            arn=self.alert_topic.arn,
            policy=to_json(
                document(
                    allow(
                        ["sns:Publish"],
                        self.alert_topic.arn,
                        sid="HubAlarmsPublish",
                        principal={"Service": "cloudwatch.amazonaws.com"},
                        conditions={"StringEquals": {"aws:SourceAccount": args.account_id}},
                    ),
                    {
                        "Sid": "TlsOnly",
                        "Effect": "Deny",
                        "Principal": "*",
                        "Action": "sns:Publish",
                        "Resource": self.alert_topic.arn,
                        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                    },
                )
            ),
            opts=self._child,
        )
        self.subscriptions = [
            aws.sns.TopicSubscription(
                f"{self._name}-alerts-{index}",
                topic=self.alert_topic.arn,
                protocol="email",
                endpoint=email,
                opts=self._child,
            )
            for index, email in enumerate(args.config.alert_emails)
        ]
        self.dedupe_table = aws.dynamodb.Table(
            f"{self._name}-dedupe",
            name=naming.FAILURE_ALERTS_TABLE,
            billing_mode="PAY_PER_REQUEST",
            hash_key="pk",
            attributes=[aws.dynamodb.TableAttributeArgs(name="pk", type="S")],
            ttl=aws.dynamodb.TableTtlArgs(attribute_name="expires", enabled=True),
            point_in_time_recovery=aws.dynamodb.TablePointInTimeRecoveryArgs(enabled=False),
            opts=self._child,
        )
        self.alerts_function = self._function(
            "alerts",
            "failure_alerts",
            naming.FAILURE_ALERTS_FUNCTION,
            "one alert per failure of a window, runbook, emergency wave or custom resource",
            [
                # lambda_src/failure_alerts: the claim (conditional put) and its release (Amazon DynamoDB actions)
                allow(["dynamodb:PutItem", "dynamodb:DeleteItem"], [self.dedupe_table.arn], sid="DedupeFailures"),
                allow(["sns:Publish"], [self.alert_topic.arn], sid="PublishAlerts"),
                # the topic is encrypted with the hub key (SNS: publishers need GenerateDataKey and Decrypt)
                allow(["kms:GenerateDataKey", "kms:Decrypt"], [args.key_arn], sid="EncryptAlerts"),
            ],
            {
                "ALERT_TOPIC_ARN": self.alert_topic.arn,
                "DEDUPE_TABLE": self.dedupe_table.name,
                "DEDUPE_DAYS": str(args.config.dedupe_days),
                "RUNBOOKS": ",".join(event_patterns.RUNBOOKS),
                # their failures are alerted as the window task's and the wave's (one alert per failure)
                "SUPPRESSED_STARTERS": f"{naming.MAINTENANCE_WINDOW_ROLE},{naming.AUTOMATION_ADMINISTRATION_ROLE}",
                "EMERGENCY_STATE_MACHINE_ARN": args.emergency_state_machine_arn,
                # the child accounts' functions alarm, forwarded when it enters ALARM (issue 16 item 2)
                "CHILD_ALARM": naming.CHILD_FUNCTIONS_ALARM,
            },
        )
        self._rule(
            "failures",
            naming.FAILURE_ALERTS_RULE,
            "failed window tasks, runbooks and custom resources of the organization",
            self.bus.name,
            pulumi.Output.from_input(json.dumps(event_patterns.forwarded_failures_pattern())),
            self.alerts_function,
        )
        self._rule(
            "rollout-failures",
            naming.FAILURE_ALERTS_RULE,
            "the emergency rollout stopped at a wave or failed",
            "default",
            pulumi.Output.from_input(args.emergency_state_machine_arn).apply(
                lambda arn: json.dumps(event_patterns.rollout_failures_pattern(arn))
            ),
            self.alerts_function,
        )

    def _alarms(self) -> None:
        args = self._args
        functions: list[tuple[str, pulumi.Input[str]]] = [
            ("archive", self.archive_function.name),
            ("alerts", self.alerts_function.name),
            ("emergency-validate", args.emergency_function_name),
        ]
        self.alarms = [
            aws.cloudwatch.MetricAlarm(
                f"{self._name}-{suffix}-errors",
                name=pulumi.Output.concat("org-patching-", function, "-errors"),
                alarm_description=pulumi.Output.concat("org-patching: function ", function, " failed an invocation"),
                namespace="AWS/Lambda",
                metric_name="Errors",
                dimensions={"FunctionName": function},
                statistic="Sum",
                period=ALARM_PERIOD_SECONDS,
                evaluation_periods=1,
                threshold=0,
                comparison_operator="GreaterThanThreshold",
                treat_missing_data="notBreaching",
                alarm_actions=[self.alert_topic.arn],
                opts=self._child,
            )
            for suffix, function in functions
        ]
        self.alarms.append(
            aws.cloudwatch.MetricAlarm(
                f"{self._name}-dlq-depth",
                name=f"{naming.PATCH_EVENTS_DEAD_LETTER_QUEUE}-depth",
                alarm_description="org-patching: an event was dead-lettered (a hub function could not take it)",
                namespace="AWS/SQS",
                metric_name="ApproximateNumberOfMessagesVisible",
                dimensions={"QueueName": self.dead_letters.name},
                statistic="Maximum",
                period=ALARM_PERIOD_SECONDS,
                evaluation_periods=1,
                threshold=0,
                comparison_operator="GreaterThanThreshold",
                treat_missing_data="notBreaching",
                alarm_actions=[self.alert_topic.arn],
                opts=self._child,
            )
        )

    def _queue_policy(self) -> None:
        """EventBridge may dead-letter into the queue for this component's rules only."""
        args = self._args
        rules = f"arn:{args.partition}:events:{args.region}:{args.account_id}:rule"
        self.queue_policy = aws.sqs.QueuePolicy(
            f"{self._name}-dlq-policy",
            queue_url=self.dead_letters.url,
            policy=to_json(
                document(
                    allow(
                        ["sqs:SendMessage"],
                        self.dead_letters.arn,
                        sid="RulesDeadLetter",
                        principal={"Service": "events.amazonaws.com"},
                        conditions={
                            # the archive rule (patch-event bus) and both failure rules (patch-event and default bus)
                            "ArnLike": {
                                "aws:SourceArn": [
                                    f"{rules}/{naming.PATCH_EVENT_BUS}/{naming.PREFIX}-*",
                                    f"{rules}/{naming.FAILURE_ALERTS_RULE}",
                                ]
                            }
                        },
                    )
                )
            ),
            opts=self._child,
        )

    # --- helpers ------------------------------------------------------------------------------

    def _function(
        self,
        suffix: str,
        source: str,
        function_name: str,
        description: str,
        statements: list[dict[str, Any]],
        variables: dict[str, pulumi.Input[str]],
    ) -> aws.lambda_.Function:
        """A hub function with its role (logs, the dead-letter queue and ``statements``) and log group."""
        args = self._args
        log_group = aws.cloudwatch.LogGroup(
            f"{self._name}-{suffix}",
            name=naming.lambda_log_group(function_name),
            retention_in_days=args.log_retention_days,
            kms_key_id=args.key_arn,  # every hub log group uses the hub key (issue 13 item 8)
            opts=self._child,
        )
        role = aws.iam.Role(
            f"{self._name}-{suffix}",
            description=f"org-patching: {description}",
            assume_role_policy=to_json(service_trust("lambda.amazonaws.com", source_account=args.account_id)),
            opts=self._child,
        )
        # The role's one inline policy (a RolePolicy: the Role's inline_policies input is deprecated).
        policy = aws.iam.RolePolicy(
            f"{self._name}-{suffix}-policy",
            role=role.name,
            name=naming.INLINE_POLICY,
            policy=to_json(
                document(
                    allow(
                        ["logs:CreateLogStream", "logs:PutLogEvents"],
                        [pulumi.Output.concat(log_group.arn, ":*")],
                        sid="Logs",
                    ),
                    # Lambda sends a failed asynchronous invocation to the function's dead-letter queue
                    allow(["sqs:SendMessage"], [self.dead_letters.arn], sid="DeadLetters"),
                    *statements,
                )
            ),
            opts=self._child,
        )
        return aws.lambda_.Function(
            f"{self._name}-{suffix}",
            name=function_name,
            description=f"org-patching: {description} (lambda_src/{source})",
            runtime=packaging.RUNTIME,
            architectures=["arm64"],
            handler="app.handler",
            timeout=60,
            memory_size=256,
            # the function waits for its role's policy too (no first invocation without its permissions)
            role=pulumi.Output.all(role.arn, policy.id).apply(lambda values: str(values[0])),
            code=packaging.archive(source),
            layers=[packaging.powertools_layer(args.partition, args.region, "arm64")],
            dead_letter_config=aws.lambda_.FunctionDeadLetterConfigArgs(target_arn=self.dead_letters.arn),
            environment=aws.lambda_.FunctionEnvironmentArgs(
                variables={
                    "POWERTOOLS_SERVICE_NAME": function_name,
                    "POWERTOOLS_LOG_LEVEL": "INFO",
                    "AWS_RETRY_MODE": "standard",
                    "AWS_MAX_ATTEMPTS": "10",
                    **variables,
                }
            ),
            logging_config=aws.lambda_.FunctionLoggingConfigArgs(log_format="JSON", log_group=log_group.name),
            opts=self._child,
        )

    def _rule(
        self,
        suffix: str,
        rule_name: str,
        description: str,
        bus: pulumi.Input[str],
        pattern: pulumi.Output[str],
        function: aws.lambda_.Function,
    ) -> aws.cloudwatch.EventRule:
        """A rule on ``bus`` invoking ``function`` (permission, retries, dead letters)."""
        rule = aws.cloudwatch.EventRule(
            f"{self._name}-{suffix}",
            name=rule_name,
            description=f"org-patching: {description}",
            event_bus_name=bus,
            event_pattern=pattern,
            opts=self._child,
        )
        aws.lambda_.Permission(
            f"{self._name}-{suffix}",
            function=function.name,
            action="lambda:InvokeFunction",
            principal="events.amazonaws.com",
            source_arn=rule.arn,
            opts=self._child,
        )
        aws.cloudwatch.EventTarget(
            f"{self._name}-{suffix}",
            rule=rule.name,
            event_bus_name=bus,
            target_id=suffix,
            arn=function.arn,
            retry_policy=aws.cloudwatch.EventTargetRetryPolicyArgs(
                maximum_event_age_in_seconds=TARGET_MAX_EVENT_AGE_SECONDS, maximum_retry_attempts=TARGET_MAX_RETRIES
            ),
            dead_letter_config=aws.cloudwatch.EventTargetDeadLetterConfigArgs(arn=self.dead_letters.arn),
            opts=self._child,
        )
        return rule
