"""``PrePatchNotices``: every window's team hears what its window will do, before it runs (issue 16 item 1).

Everything is in the hub, so a child account-region pays nothing for the notices but its share of one read-only
role per account (``components/spoke/notice_reader.py``):

* **Topics**: ``org-patching-notices-<team>`` for ``notices.defaultTeam`` and every team of ``notices.teams``
  (``topicPer: team``), or ``org-patching-notices-<account>-<region>`` for every child account and region of the
  central stack (``topicPer: accountRegion``). Each is encrypted with the hub's key; its policy lets principals of
  the organization publish and subscribe (a team's chat tool or queue in its own account), over TLS only.
  ``notices.teams`` lists each team's email subscribers.
* **Function** ``org-patching-pre-patch-notices`` (``lambda_src/pre_patch_notices``), invoked by the rule of the
  same name every ``notices.checkEveryMinutes``: it assumes every child account's reader role, reads the live
  windows and sends each team one notice per window run within ``notices.leadHours`` (dedupe in the failure
  alerts' table, which already keeps keys with a TTL). Its errors are alarmed to the alert topic.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from .. import naming, packaging
from ..config_notices import NoticesConfig
from ..policy_documents import allow, document, org_principal_condition, service_trust, to_json

#: One alarm period, like the other hub functions' alarms (``components/hub/patch_events.py``).
ALARM_PERIOD_SECONDS = 300


@dataclass
class PrePatchNoticesArgs:
    config: NoticesConfig
    org_id: str
    account_id: str
    region: str
    partition: str
    key_arn: pulumi.Input[str]
    #: Child accounts and the regions their windows are read in (the central stack's ``accounts``/``regions``).
    accounts: Sequence[str]
    regions: Sequence[str]
    log_retention_days: int
    #: The failure alerts' DynamoDB table (dedupe), dead-letter queue and alert topic (the function's alarm).
    dedupe_table_arn: pulumi.Input[str]
    dedupe_table_name: pulumi.Input[str]
    dedupe_days: int
    dead_letter_arn: pulumi.Input[str]
    alert_topic_arn: pulumi.Input[str]


def topic_names(config: NoticesConfig, accounts: Sequence[str], regions: Sequence[str]) -> list[str]:
    """The hub topics the configuration asks for (``topicPer``)."""
    if config.topic_per == "accountRegion":
        return [naming.notice_topic(account, region) for account in accounts for region in regions]
    return [naming.notice_topic(team) for team in config.topic_teams()]


class PrePatchNotices(pulumi.ComponentResource):
    topics: dict[str, aws.sns.Topic]
    function: aws.lambda_.Function
    rule: aws.cloudwatch.EventRule
    alarm: aws.cloudwatch.MetricAlarm

    def __init__(self, name: str, args: PrePatchNoticesArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("org-patching:hub:PrePatchNotices", name, None, opts)
        self._name, self._args = name, args
        self._child = pulumi.ResourceOptions(parent=self)
        self._topics()
        self._function()
        self._schedule()
        self.register_outputs({})

    def outputs(self) -> dict[str, Any]:
        """The ``notices`` section of the central stack's outputs."""
        return {
            "topicPer": self._args.config.topic_per,
            "topics": {topic_name: topic.arn for topic_name, topic in self.topics.items()},
            "function": self.function.name,
            "leadHours": self._args.config.lead_hours,
            "readerRole": naming.NOTICE_READER_ROLE,
        }

    def _topics(self) -> None:
        args = self._args
        self.topics = {}
        for topic_name in topic_names(args.config, args.accounts, args.regions):
            topic = self.topics[topic_name] = aws.sns.Topic(
                f"{self._name}-{topic_name}",
                name=topic_name,
                display_name="org-patching notices",
                kms_master_key_id=args.key_arn,
                opts=self._child,
            )
            aws.sns.TopicPolicy(
                f"{self._name}-{topic_name}",
                arn=topic.arn,
                policy=to_json(
                    document(
                        # Amazon SNS actions on a topic ARN (Service Authorization Reference, Amazon SNS):
                        # the organization's principals publish and subscribe (a team's own endpoints).
                        allow(
                            ["sns:Publish", "sns:Subscribe"],
                            topic.arn,
                            sid="OrganizationUsesNotices",
                            principal="*",
                            conditions=org_principal_condition(args.org_id),
                        ),
                        {
                            "Sid": "TlsOnly",
                            "Effect": "Deny",
                            "Principal": "*",
                            "Action": ["sns:Publish", "sns:Subscribe"],
                            "Resource": topic.arn,
                            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                        },
                    )
                ),
                opts=self._child,
            )
        if args.config.topic_per == "team":
            for team, emails in args.config.teams.items():
                for index, email in enumerate(emails):
                    aws.sns.TopicSubscription(
                        f"{self._name}-{team}-{index}",
                        topic=self.topics[naming.notice_topic(team)].arn,
                        protocol="email",
                        endpoint=email,
                        opts=self._child,
                    )

    def _function(self) -> None:
        args, cfg = self._args, self._args.config
        log_group = aws.cloudwatch.LogGroup(
            f"{self._name}-logs",
            name=naming.lambda_log_group(naming.PRE_PATCH_NOTICES_FUNCTION),
            retention_in_days=args.log_retention_days,
            kms_key_id=args.key_arn,
            opts=self._child,
        )
        readers = [f"arn:{args.partition}:iam::{account}:role/{naming.NOTICE_READER_ROLE}" for account in args.accounts]
        topic_arns = [topic.arn for topic in self.topics.values()]
        role = aws.iam.Role(
            f"{self._name}-role",
            # Named: every child account's reader role trusts exactly this role's ARN.
            name=naming.PRE_PATCH_NOTICES_ROLE,
            description="org-patching: pre-patch notices (reads the child accounts' windows, publishes notices)",
            assume_role_policy=to_json(service_trust("lambda.amazonaws.com", source_account=args.account_id)),
            opts=self._child,
        )
        # Its permissions as a RolePolicy (the Role's inline_policies input is deprecated in pulumi-aws).
        policy = aws.iam.RolePolicy(
            f"{self._name}-policy",
            name=naming.INLINE_POLICY,
            role=role.name,
            policy=to_json(
                document(
                    allow(
                        ["logs:CreateLogStream", "logs:PutLogEvents"],
                        [pulumi.Output.concat(log_group.arn, ":*")],
                        sid="Logs",
                    ),
                    allow(["sqs:SendMessage"], [args.dead_letter_arn], sid="DeadLetters"),
                    # AWS STS: AssumeRole on role ARNs, one per enrolled account (no wildcard)
                    allow(["sts:AssumeRole"], readers, sid="ReadChildWindows"),
                    # the claim and its release (Amazon DynamoDB actions on the table ARN)
                    allow(["dynamodb:PutItem", "dynamodb:DeleteItem"], [args.dedupe_table_arn], sid="Dedupe"),
                    allow(["sns:Publish"], topic_arns, sid="PublishNotices"),
                    # the topics use the hub key (SNS: publishers need GenerateDataKey and Decrypt)
                    allow(["kms:GenerateDataKey", "kms:Decrypt"], [args.key_arn], sid="EncryptNotices"),
                )
            ),
            opts=self._child,
        )
        prefix = f"arn:{args.partition}:sns:{args.region}:{args.account_id}:{naming.NOTICE_TOPIC_PREFIX}"
        self.function = aws.lambda_.Function(
            f"{self._name}-function",
            name=naming.PRE_PATCH_NOTICES_FUNCTION,
            description="org-patching: pre-patch notices to every window's team (lambda_src/pre_patch_notices)",
            runtime=packaging.RUNTIME,
            architectures=["arm64"],
            handler="app.handler",
            # every account and region is read in one run: a few calls per window, well within 5 minutes
            timeout=300,
            memory_size=256,
            role=role.arn,
            code=packaging.archive("pre_patch_notices"),
            layers=[packaging.powertools_layer(args.partition, args.region, "arm64")],
            dead_letter_config=aws.lambda_.FunctionDeadLetterConfigArgs(target_arn=args.dead_letter_arn),
            environment=aws.lambda_.FunctionEnvironmentArgs(
                variables={
                    "POWERTOOLS_SERVICE_NAME": naming.PRE_PATCH_NOTICES_FUNCTION,
                    "AWS_RETRY_MODE": "standard",
                    "AWS_MAX_ATTEMPTS": "10",
                    "ACCOUNTS": ",".join(args.accounts),
                    "REGIONS": ",".join(args.regions),
                    "PARTITION": args.partition,
                    "READER_ROLE": naming.NOTICE_READER_ROLE,
                    "TOPIC_ARN_PREFIX": prefix,
                    "TOPIC_PER": cfg.topic_per,
                    "TEAMS": ",".join(cfg.topic_teams()),
                    "DEFAULT_TEAM": cfg.default_team,
                    "LEAD_HOURS": str(cfg.lead_hours),
                    "MAX_LISTED": str(cfg.max_listed),
                    "DEDUPE_TABLE": args.dedupe_table_name,
                    "DEDUPE_DAYS": str(args.dedupe_days),
                    "STANDALONE_RUNBOOK": naming.RUNBOOK_STANDALONE,
                    "ASG_RUNBOOK": naming.RUNBOOK_ASG,
                }
            ),
            logging_config=aws.lambda_.FunctionLoggingConfigArgs(log_format="JSON", log_group=log_group.name),
            # no invocation before the role has its permissions (IAM is eventually consistent)
            opts=pulumi.ResourceOptions(parent=self, depends_on=[policy]),
        )
        self.alarm = aws.cloudwatch.MetricAlarm(
            f"{self._name}-errors",
            name=f"{naming.PRE_PATCH_NOTICES_FUNCTION}-errors",
            alarm_description="org-patching: pre-patch notices failed (an account-region not read, or a publish)",
            namespace="AWS/Lambda",
            metric_name="Errors",
            dimensions={"FunctionName": self.function.name},
            statistic="Sum",
            period=ALARM_PERIOD_SECONDS,
            evaluation_periods=1,
            threshold=0,
            comparison_operator="GreaterThanThreshold",
            treat_missing_data="notBreaching",
            alarm_actions=[args.alert_topic_arn],
            opts=self._child,
        )

    def _schedule(self) -> None:
        cfg = self._args.config
        self.rule = aws.cloudwatch.EventRule(
            f"{self._name}-schedule",
            name=naming.PRE_PATCH_NOTICES_RULE,
            description=f"org-patching: pre-patch notices, {cfg.lead_hours} h ahead of every window",
            schedule_expression=cfg.rule_schedule(),
            opts=self._child,
        )
        aws.lambda_.Permission(
            f"{self._name}-schedule",
            function=self.function.name,
            action="lambda:InvokeFunction",
            principal="events.amazonaws.com",
            source_arn=self.rule.arn,
            opts=self._child,
        )
        aws.cloudwatch.EventTarget(
            f"{self._name}-schedule",
            rule=self.rule.name,
            target_id="pre-patch-notices",
            arn=self.function.arn,
            retry_policy=aws.cloudwatch.EventTargetRetryPolicyArgs(
                maximum_event_age_in_seconds=3600, maximum_retry_attempts=2
            ),
            opts=self._child,
        )
