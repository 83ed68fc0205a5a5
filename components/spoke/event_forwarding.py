"""``PatchEventForwarding``: every child account-region sends its patch events to the hub's bus.

The target needs a role EventBridge assumes to put events on the hub's bus (AWS requires a role on
a target bus in another account when that account grants access through the organization rather
than by account id: PutTargets API reference, ``Target.RoleArn``; and for any cross-Region bus
target). That is the account's one EventBridge role, ``org-patching-event-forwarding`` of
:class:`components.spoke.account_baseline.AccountBaseline`, which also forwards Config events to the
home region's bus (both are EventBridge putting events on a bus; one role instead of two saves a
role and its policy per account: the resource budget). Per region: ONE rule whose pattern carries
every kind through ``$or`` (:func:`components.event_patterns.forwarded_pattern`) and its one target:
2 resources per account-region, within the allowance issue 16 gives (<= 2.25 per account-region).

The hub's bus ARN is built from the central stack's ``homeRegion`` output, the central account
and the contract name ``org-patching-patch-events`` (``components/naming.py``), so the child needs
no new output read before the hub has deployed its bus (deploy order: central, then child).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from .. import event_patterns, naming

#: EventBridge retries a failed delivery to the hub for up to a day (the daily sync would catch up anyway).
MAX_EVENT_AGE_SECONDS = 24 * 3600
MAX_RETRIES = 185


@dataclass
class PatchEventForwardingArgs:
    account_id: str
    partition: str
    regions: Sequence[str]
    central_account_id: str
    #: The hub's region (the central stack's ``homeRegion`` output).
    hub_region: pulumi.Input[str]
    #: The account's EventBridge role (``AccountBaseline``'s event-forwarding role, allowed to put on the hub's bus).
    role_arn: pulumi.Input[str]


def hub_bus_arn(partition: str, hub_region: pulumi.Input[str], central_account_id: str) -> pulumi.Output[str]:
    """``arn:<partition>:events:<hub region>:<central account>:event-bus/org-patching-patch-events``."""
    return pulumi.Output.concat(
        f"arn:{partition}:events:", hub_region, f":{central_account_id}:event-bus/{naming.PATCH_EVENT_BUS}"
    )


class PatchEventForwarding(pulumi.ComponentResource):
    rules: dict[str, aws.cloudwatch.EventRule]
    targets: dict[str, aws.cloudwatch.EventTarget]

    def __init__(self, name: str, args: PatchEventForwardingArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("org-patching:spoke:PatchEventForwarding", name, None, opts)
        here = pulumi.ResourceOptions(parent=self)
        bus = hub_bus_arn(args.partition, args.hub_region, args.central_account_id)
        pattern = json.dumps(event_patterns.forwarded_pattern(), separators=(",", ":"))
        self.rules, self.targets = {}, {}
        for region in args.regions:
            rule = self.rules[region] = aws.cloudwatch.EventRule(
                f"{name}-{region}",
                name=naming.PATCH_EVENT_FORWARDING_RULE,
                description="org-patching: patch runs and compliance, runbooks, window tasks, failed custom resources",
                event_pattern=pattern,
                region=region,
                opts=here,
            )
            self.targets[region] = aws.cloudwatch.EventTarget(
                f"{name}-{region}",
                rule=rule.name,
                target_id="hub-patch-events",
                arn=bus,
                role_arn=args.role_arn,
                retry_policy=aws.cloudwatch.EventTargetRetryPolicyArgs(
                    maximum_event_age_in_seconds=MAX_EVENT_AGE_SECONDS, maximum_retry_attempts=MAX_RETRIES
                ),
                region=region,
                opts=here,
            )
        self.register_outputs({})
