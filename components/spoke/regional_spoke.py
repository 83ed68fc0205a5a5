"""``RegionalSpoke``: what every child account needs in every region it patches.

* Patch baselines, one per operating system, each registered as the OS's DEFAULT baseline
  (:mod:`.patch_baselines`).
* ``Default_maintenance_window`` with two Automation tasks: the standalone runbook and the ASG
  runbook. The tasks have no registered targets: each runbook selects its instances/ASGs by
  the ``maintenance_window`` tag itself at run time (Automation tasks with targets would start
  one execution per instance), with its own MaxConcurrency/MaxErrors. The runbooks are the hub's
  shared copies in this Region, named by ARN (:mod:`components.shared_runbooks`): no document here.
* Inventory of the contract's instances and a resource data sync into the hub's inventory
  bucket (:mod:`.inventory`).
* The REQUIRED_TAGS Config rule and an EventBridge rule for its NON_COMPLIANT changes: in the
  account's home region it invokes the account's tag-remediation function; elsewhere it
  forwards the event to the home region's default bus (the function reads the region from the
  event). The home region also holds the account's functions (tag remediation with its
  dead-letter queue and daily sweep of every region, override lists).
* The window-tagging function the self-service product calls (a CloudFormation custom
  resource must be in the stack's region, so one per region) and the region's log group.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

from .. import naming, packaging
from ..config import PatchingConfig
from ..contract import DEFAULT_WINDOW, MAINTENANCE_WINDOW_TAG
from ..runbooks import declared_parameters
from ..shared_runbooks import shared_runbook_arn
from .account_baseline import RoleArns
from .hub_data import HubData
from .inventory import declare_inventory
from .patch_baselines import declare_patch_baselines, override_patch_groups
from .profile_check import function_variables as profile_check_variables
from .tag_compliance import compliance_event_pattern, required_tags_parameters, sweep_event
from .unmanaged_findings import function_variables as unmanaged_lake_variables

#: EventBridge allows 5 targets per rule: one sweep rule per 5 regions.
TARGETS_PER_RULE = 5
#: Retention of the functions' log group (audit: a year, like the hub's log groups).
LOG_RETENTION_DAYS = 365


@dataclass
class RegionalSpokeArgs:
    account_id: str
    region: str
    partition: str
    patching: PatchingConfig
    hub: HubData
    roles: RoleArns
    #: The account's home region (its functions run there); this spoke is home when equal.
    home_region: str
    #: Every region of the account (the home spoke sweeps them all).
    account_regions: Sequence[str] = field(default_factory=list)
    #: Runbook name -> YAML content (``runbook_sources()``, once per program): the parameters the hub's copy declares.
    runbooks: Mapping[str, str] = field(default_factory=dict)
    #: The hub's override file (``s3://``) when the baselines come from it: no baselines here then, and the
    #: window's tasks pass it as the runbooks' ``BaselineOverride``.
    baseline_override: pulumi.Input[str] | None = None

    @property
    def is_home(self) -> bool:
        return self.region == self.home_region


def runbook_parameters(
    content: str, wanted: Mapping[str, pulumi.Input[str]]
) -> list[aws.ssm.MaintenanceWindowTaskTaskInvocationParametersAutomationParametersParameterArgs]:
    """The task's runbook parameters: those of ``wanted`` that the runbook declares (a runbook
    rejects an execution with an undeclared parameter)."""
    declared = declared_parameters(content)
    return [
        aws.ssm.MaintenanceWindowTaskTaskInvocationParametersAutomationParametersParameterArgs(name=key, values=[value])
        for key, value in wanted.items()
        if key in declared
    ]


class RegionalSpoke(pulumi.ComponentResource):
    baselines: dict[str, aws.ssm.PatchBaseline]
    patch_groups: dict[str, dict[str, pulumi.Output[str]]]
    window: aws.ssm.MaintenanceWindow
    tasks: list[aws.ssm.MaintenanceWindowTask]
    inventory: aws.ssm.Association
    data_sync: aws.ssm.ResourceDataSync
    #: ``None`` when the stack says the account-regions have no Config recorder (``patching.configRecorder``).
    config_rule: aws.cfg.Rule | None
    compliance_rule: aws.cloudwatch.EventRule
    log_group: aws.cloudwatch.LogGroup
    window_tagging: aws.lambda_.Function
    tag_remediation: aws.lambda_.Function | None = None
    override_list: aws.lambda_.Function

    def __init__(self, name: str, args: RegionalSpokeArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("org-patching:spoke:RegionalSpoke", name, None, opts)
        self._name, self._args = name, args
        self._here = pulumi.ResourceOptions(parent=self)
        self._patch_baselines()
        self._default_window()
        self._inventory()
        self._tag_compliance()
        self._functions()
        self.register_outputs(
            {
                "maintenanceWindowId": self.window.id,
                "baselineIds": {key: baseline.id for key, baseline in self.baselines.items()},
            }
        )

    def outputs(self) -> dict[str, Any]:
        """This region's part of the child stack's outputs (``schemas/child-outputs.schema.json``)."""
        window = self._args.patching.default_window
        return {
            "maintenanceWindows": {
                DEFAULT_WINDOW: {
                    "id": self.window.id,
                    "schedule": window.schedule,
                    "scheduleTimezone": window.schedule_timezone,
                    "durationHours": window.duration_hours,
                    "cutoffHours": window.cutoff_hours,
                    "operation": window.operation,
                    "rebootOption": window.reboot_option,
                }
            },
            "patchGroups": {group: dict(by_os) for group, by_os in self.patch_groups.items()},
            # the hub's shared copies in this Region, by ARN (what a window task or StartAutomationExecution names)
            "runbooks": {
                "standalone": self._runbook_arn(naming.RUNBOOK_STANDALONE),
                "autoScalingGroups": self._runbook_arn(naming.RUNBOOK_ASG),
            },
            "windowTaggingFunction": naming.WINDOW_TAGGING_FUNCTION,
        }

    def _runbook_arn(self, runbook: str) -> str:
        args = self._args
        return shared_runbook_arn(args.partition, args.region, args.hub.account_id, runbook)

    def _patch_baselines(self) -> None:
        if self._args.baseline_override is not None:
            self.baselines = {}
            self.patch_groups = override_patch_groups(
                self._args.baseline_override, self._args.patching.operating_systems
            )
            return
        self.baselines, self.patch_groups = declare_patch_baselines(
            self._name, self._args.region, self._args.patching, self._here
        )

    def _default_window(self) -> None:
        """``Default_maintenance_window`` and its runbook tasks (no registered targets)."""
        name, args, window_cfg = self._name, self._args, self._args.patching.default_window
        self.window = aws.ssm.MaintenanceWindow(
            f"{name}-default-window",
            name=DEFAULT_WINDOW,
            description="org-patching: default window of every instance and ASG without a team window",
            schedule=window_cfg.schedule,
            schedule_timezone=window_cfg.schedule_timezone,
            duration=window_cfg.duration_hours,
            cutoff=window_cfg.cutoff_hours,
            allow_unassociated_targets=False,
            region=args.region,
            opts=self._here,
        )
        common: dict[str, pulumi.Input[str]] = {
            "AutomationAssumeRole": args.roles.automation_execution,
            "MaintenanceWindow": DEFAULT_WINDOW,
            "Operation": window_cfg.operation,
            "RebootOption": window_cfg.reboot_option,
            "MaxConcurrency": window_cfg.max_concurrency,
            "MaxErrors": window_cfg.max_errors,
            # The instance role may write only under its own account's prefix of the log bucket.
            "OutputS3BucketName": args.hub.patch_log_bucket,
            # The runbook appends accountid=/region=/executionid= partitions.
            # The runbook puts the account id first (the instance role writes only under its own prefix).
            "OutputS3KeyPrefix": "patching",
            # The hub's change calendar of this Region (components/hub/change_calendar.py): installs stop in a freeze.
            "ChangeCalendar": naming.change_calendar_arn(args.partition, args.region, args.hub.account_id),
        }
        if args.baseline_override is not None:
            # The shard's baselines (the hub's shared runbook has no default of its own).
            common["BaselineOverride"] = args.baseline_override
        asg_only: dict[str, pulumi.Input[str]] = {
            "MinHealthyPercentage": str(window_cfg.asg_min_healthy_percentage),
        }
        self.tasks = []
        plan = [(naming.RUNBOOK_STANDALONE, "patch-instances", naming.WINDOW_TASK_STANDALONE, 1, common)]
        if window_cfg.include_asgs:
            plan.append((naming.RUNBOOK_ASG, "patch-asgs", naming.WINDOW_TASK_ASG, 2, {**common, **asg_only}))
        for runbook, suffix, task_name, priority, wanted in plan:
            self.tasks.append(
                aws.ssm.MaintenanceWindowTask(
                    f"{name}-{suffix}",
                    window_id=self.window.id,
                    name=task_name,
                    description=f"org-patching: {runbook} on {MAINTENANCE_WINDOW_TAG}={DEFAULT_WINDOW}",
                    task_type="AUTOMATION",
                    task_arn=self._runbook_arn(runbook),
                    priority=priority,
                    service_role_arn=args.roles.maintenance_window,
                    cutoff_behavior="CANCEL_TASK",
                    task_invocation_parameters=aws.ssm.MaintenanceWindowTaskTaskInvocationParametersArgs(
                        automation_parameters=aws.ssm.MaintenanceWindowTaskTaskInvocationParametersAutomationParametersArgs(
                            document_version="$DEFAULT",
                            parameters=runbook_parameters(args.runbooks[runbook], wanted),
                        )
                    ),
                    region=args.region,
                    opts=self._here,
                )
            )

    def _inventory(self) -> None:
        args = self._args
        self.inventory, self.data_sync = declare_inventory(
            self._name, args.account_id, args.region, args.patching.inventory_schedule, args.hub, self._here
        )

    def _tag_compliance(self) -> None:
        """The REQUIRED_TAGS Config rule and the EventBridge rule of its NON_COMPLIANT changes.

        Without a configuration recorder (``patching.configRecorder: none``) AWS refuses the Config
        rule, so none is declared; the event rule stays (idle until a recorder and the rule exist)
        and the scheduled sweep keeps the tags right."""
        name, region = self._name, self._args.region
        self.config_rule = None
        if self._args.patching.config_recorder == "none":
            self._compliance_event_rule()
            return
        self.config_rule = aws.cfg.Rule(
            f"{name}-patch-tags",
            name=naming.CONFIG_RULE,
            description="org-patching: EC2 instances and ASGs carry the patching tags (tag contract)",
            source=aws.cfg.RuleSourceArgs(owner="AWS", source_identifier="REQUIRED_TAGS"),
            scope=aws.cfg.RuleScopeArgs(
                compliance_resource_types=["AWS::EC2::Instance", "AWS::AutoScaling::AutoScalingGroup"]
            ),
            input_parameters=json.dumps(required_tags_parameters()),
            region=region,
            opts=self._here,
        )
        self._compliance_event_rule()

    def _compliance_event_rule(self) -> None:
        name, region = self._name, self._args.region
        self.compliance_rule = aws.cloudwatch.EventRule(
            f"{name}-noncompliant",
            name=naming.COMPLIANCE_EVENT_RULE,
            description="org-patching: a resource became NON_COMPLIANT with the patch-tags Config rule",
            event_pattern=json.dumps(compliance_event_pattern()),
            region=region,
            opts=self._here,
        )

    def _functions(self) -> None:
        """The region's log group and window-tagging function; the account's own functions in
        its home region, else a rule target forwarding compliance events there."""
        name, args = self._name, self._args
        account, arn = args.account_id, f"arn:{args.partition}"
        self._layer = packaging.powertools_layer(args.partition, args.region)
        self.log_group = aws.cloudwatch.LogGroup(
            f"{name}-functions-logs",
            name=naming.FUNCTION_LOG_GROUP,
            retention_in_days=LOG_RETENTION_DAYS,
            region=args.region,
            opts=self._here,
        )
        self.window_tagging = self._function(
            "window-tagging", "window_tagging", naming.WINDOW_TAGGING_FUNCTION, args.roles.window_tagging, timeout=300
        )
        # The function's resource policy names only CloudFormation, for this account's stacks (docs/teams.md).
        aws.lambda_.Permission(
            f"{name}-window-tagging-cloudformation",
            action="lambda:InvokeFunction",
            function=self.window_tagging.name,
            principal="cloudformation.amazonaws.com",
            source_account=account,
            region=args.region,
            opts=self._here,
        )
        if args.is_home:
            self._home_functions()
        else:
            # The account's tag-remediation function runs in its home region: forward there.
            aws.cloudwatch.EventTarget(
                f"{name}-noncompliant-forward",
                rule=self.compliance_rule.name,
                target_id="home-region",
                arn=f"{arn}:events:{args.home_region}:{account}:event-bus/default",
                role_arn=args.roles.event_forwarding,
                retry_policy=aws.cloudwatch.EventTargetRetryPolicyArgs(
                    maximum_event_age_in_seconds=3600, maximum_retry_attempts=20
                ),
                region=args.region,
                opts=self._here,
            )

    def _function(
        self,
        suffix: str,
        source: str,
        function_name: str,
        role: pulumi.Input[str],
        variables: Mapping[str, pulumi.Input[str]] | None = None,
        **extra: Any,
    ) -> aws.lambda_.Function:
        """One org-patching function: code from ``lambda_src/<source>``, logs to the region's group."""
        return aws.lambda_.Function(
            f"{self._name}-{suffix}",
            name=function_name,
            description=f"org-patching: {suffix} (lambda_src/{source})",
            runtime=packaging.RUNTIME,
            handler="app.handler",
            code=packaging.archive(source),
            role=role,
            layers=[self._layer],
            architectures=["x86_64"],
            environment=aws.lambda_.FunctionEnvironmentArgs(
                variables={
                    "POWERTOOLS_SERVICE_NAME": function_name,
                    "POWERTOOLS_LOG_LEVEL": "INFO",
                    "AWS_ACCOUNT_ID": self._args.account_id,
                    # read by botocore itself (lambda_shared.clients): throttling at fleet scale is retried
                    "AWS_RETRY_MODE": "standard",
                    "AWS_MAX_ATTEMPTS": "10",
                    **(variables or {}),
                }
            ),
            logging_config=aws.lambda_.FunctionLoggingConfigArgs(log_format="JSON", log_group=self.log_group.name),
            region=self._args.region,
            opts=self._here,  # the log group's name (an Output) orders it after the group
            **extra,
        )

    def _home_functions(self) -> None:
        """The account's own functions: one tag-remediation function serves every region of the
        account (clients per region from the event), so a region costs a forwarding rule and a
        sweep target instead of a function, its permission, schedule and dead-letter queue."""
        name, args = self._name, self._args
        region, account, arn = args.region, args.account_id, f"arn:{args.partition}"
        self.dead_letters = aws.sqs.Queue(
            f"{name}-tag-remediation-dlq",
            name=naming.DEAD_LETTER_QUEUE,
            sqs_managed_sse_enabled=True,
            message_retention_seconds=14 * 24 * 3600,
            region=region,
            opts=self._here,
        )
        tag_remediation = self.tag_remediation = self._function(
            "tag-remediation",
            "tag_remediation",
            naming.TAG_REMEDIATION_FUNCTION,
            args.roles.tag_remediation,
            timeout=900,
            memory_size=512,
            variables={
                **profile_check_variables(args.patching.instance_profiles),
                **unmanaged_lake_variables(args.hub, args.patching.instance_profiles),
            },
            # Failed asynchronous invocations (after Lambda's two retries) land here.
            dead_letter_config=aws.lambda_.FunctionDeadLetterConfigArgs(target_arn=self.dead_letters.arn),
        )
        self.override_list = self._function(
            "override-list",
            "override_list",
            naming.OVERRIDE_LIST_FUNCTION,
            args.roles.override_list,
            timeout=300,
            variables={
                "PATCH_LISTS_BUCKET": args.hub.patch_list_bucket,
                # The role and the hub's bucket policy allow writes under <account>/ only.
                "PATCH_LISTS_PREFIX": f"{account}/override-lists",
            },
        )
        aws.lambda_.Permission(
            f"{name}-tag-remediation-events",
            function=tag_remediation.name,
            action="lambda:InvokeFunction",
            principal="events.amazonaws.com",
            source_account=account,
            # The compliance rule and the sweep rules of this region (both named org-patching-*).
            source_arn=f"{arn}:events:{region}:{account}:rule/{naming.PREFIX}-*",
            region=region,
            opts=self._here,
        )
        aws.cloudwatch.EventTarget(
            f"{name}-noncompliant-remediate",
            rule=self.compliance_rule.name,
            target_id="tag-remediation",
            arn=tag_remediation.arn,
            retry_policy=aws.cloudwatch.EventTargetRetryPolicyArgs(
                maximum_event_age_in_seconds=3600, maximum_retry_attempts=20
            ),
            region=region,
            opts=self._here,
        )
        regions = list(args.account_regions) or [region]
        for index in range(0, len(regions), TARGETS_PER_RULE):
            chunk = regions[index : index + TARGETS_PER_RULE]
            number = index // TARGETS_PER_RULE + 1
            suffix = "" if number == 1 else f"-{number}"
            rule = aws.cloudwatch.EventRule(
                f"{name}-sweep{suffix}",
                name=naming.sweep_rule(number),
                description="org-patching: daily tag sweep of every region of the account",
                schedule_expression=args.patching.tag_sweep_schedule,
                region=region,
                opts=self._here,
            )
            for swept in chunk:
                aws.cloudwatch.EventTarget(
                    f"{name}-sweep-{swept}",
                    rule=rule.name,
                    target_id=f"sweep-{swept}",
                    arn=tag_remediation.arn,
                    input=json.dumps(sweep_event(account, swept)),
                    region=region,
                    opts=self._here,
                )
