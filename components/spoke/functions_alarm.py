"""``FunctionsAlarm``: ONE CloudWatch alarm per child account over its functions' errors and dead letters.

The account's home region holds its functions (tag remediation, override lists, the region's window tagging) and
the tag-remediation dead-letter queue (``components/spoke/regional_spoke.py``). A metric-math alarm adds their
``AWS/Lambda`` ``Errors`` and the queue's visible messages (CloudWatch User Guide, "Creating a CloudWatch alarm
based on a metric math expression": up to 10 metrics per alarm); it has no action. Its state change, "CloudWatch
Alarm State Change" on the region's default bus, travels to the hub through the forwarding rule the region
already has (``components.event_patterns.forwarded_pattern``), where the failure-alerts function turns each
change into ALARM into one alert on the platform team's topic. One resource per account: 0.25 per account-region
at 4 regions, instead of an alarm and a topic per function and region.

Not covered: window tagging outside the home region (CloudWatch alarms read metrics of their own region only).
Its failures still reach the platform team: a custom resource that fails or never answers ends ``*_FAILED`` and
is alerted as a failed custom resource.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from .. import naming

#: Five minutes, like the hub's function alarms.
PERIOD_SECONDS = 300
#: (query id, namespace, metric, dimension name, dimension value, statistic) of every summed metric.
METRICS: tuple[tuple[str, str, str, str, str, str], ...] = (
    ("remediation", "AWS/Lambda", "Errors", "FunctionName", naming.TAG_REMEDIATION_FUNCTION, "Sum"),
    ("overrides", "AWS/Lambda", "Errors", "FunctionName", naming.OVERRIDE_LIST_FUNCTION, "Sum"),
    ("tagging", "AWS/Lambda", "Errors", "FunctionName", naming.WINDOW_TAGGING_FUNCTION, "Sum"),
    ("deadletters", "AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", naming.DEAD_LETTER_QUEUE, "Maximum"),
)
#: A missing point (no invocation in the period) counts as 0, so one failing function is enough to alarm.
EXPRESSION = " + ".join(f"FILL({query}, 0)" for query, *_ in METRICS)


@dataclass
class FunctionsAlarmArgs:
    #: The account's home region, where its functions and dead-letter queue are.
    region: str


class FunctionsAlarm(pulumi.ComponentResource):
    alarm: aws.cloudwatch.MetricAlarm

    def __init__(self, name: str, args: FunctionsAlarmArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("org-patching:spoke:FunctionsAlarm", name, None, opts)
        queries = [
            aws.cloudwatch.MetricAlarmMetricQueryArgs(
                id=query,
                return_data=False,
                metric=aws.cloudwatch.MetricAlarmMetricQueryMetricArgs(
                    namespace=namespace,
                    metric_name=metric,
                    dimensions={dimension: value},
                    period=PERIOD_SECONDS,
                    stat=statistic,
                ),
            )
            for query, namespace, metric, dimension, value, statistic in METRICS
        ]
        queries.append(
            aws.cloudwatch.MetricAlarmMetricQueryArgs(
                id="failures", expression=EXPRESSION, label="function errors and dead letters", return_data=True
            )
        )
        self.alarm = aws.cloudwatch.MetricAlarm(
            f"{name}-alarm",
            name=naming.CHILD_FUNCTIONS_ALARM,
            alarm_description=(
                "org-patching: a function of this account failed an invocation, or an event was dead-lettered "
                "(its state change is forwarded to the hub's failure alerts)"
            ),
            comparison_operator="GreaterThanThreshold",
            threshold=0,
            evaluation_periods=1,
            treat_missing_data="notBreaching",
            metric_queries=queries,
            region=args.region,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.register_outputs({})
