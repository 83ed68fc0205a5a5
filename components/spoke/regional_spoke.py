"""``RegionalSpoke``: what every child account needs in every region it patches.

* Patch baselines, one per operating system, each registered as the OS's DEFAULT baseline: an
  instance whose ``Patch Group`` has no registered baseline uses the default one, so every
  patch group (Default, Dev, Test, Prod) resolves to ours with 2 resources per OS instead of
  5 (baseline + 4 patch-group registrations). Staged approval (Dev before Prod) adds a baseline
  and a patch-group registration per OS and stage; it is opt-in (``patching.stagedApproval``)
  because it does not fit the resource budget (see ``docs/child-stack.md``).
* ``Default_maintenance_window`` with two Automation tasks: the standalone runbook and the ASG
  runbook. The tasks have no registered targets: each runbook selects its instances/ASGs by
  the ``maintenance_window`` tag itself at run time (Automation tasks with targets would start
  one execution per instance), with its own MaxConcurrency/MaxErrors.
* The runbooks (SSM Automation documents, YAML from ``components/spoke/runbooks``).
* Inventory: AWS-GatherSoftwareInventory daily on instances with a ``Patch Group`` tag (the
  contract's instances, not ``InstanceIds=*``, which clashes with Quick Setup/DHMC inventory
  associations: one inventory association per instance), and a resource data sync into the
  hub's inventory bucket encrypted with the hub's key.
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

from .. import naming
from ..config import PatchingConfig
from . import functions, patch_rules, runbook_loader
from .account_baseline import DEAD_LETTER_QUEUE, FUNCTION_LOG_GROUP, HubData
from .tags import DEFAULT_WINDOW, MAINTENANCE_WINDOW_TAG, PATCH_GROUP_TAG, PATCH_GROUPS, WINDOW_NAMES

#: EventBridge allows 5 targets per rule: one sweep rule per 5 regions.
TARGETS_PER_RULE = 5
COMPLIANCE_RULE = "org-patching-patch-tags-noncompliant"
SWEEP_RULE = "org-patching-tag-sweep"
INVENTORY_ASSOCIATION = "org-patching-inventory"


@dataclass
class RoleArns:
    automation_execution: pulumi.Input[str]
    maintenance_window: pulumi.Input[str]
    tag_remediation: pulumi.Input[str]
    window_tagging: pulumi.Input[str]
    override_list: pulumi.Input[str]
    event_forwarding: pulumi.Input[str]


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
    #: Runbook name -> YAML content (rendered once per program).
    runbooks: Mapping[str, str] = field(default_factory=dict)

    @property
    def is_home(self) -> bool:
        return self.region == self.home_region


def runbook_parameters(
    content: str, wanted: Mapping[str, pulumi.Input[str]]
) -> list[aws.ssm.MaintenanceWindowTaskTaskInvocationParametersAutomationParametersParameterArgs]:
    """The task's runbook parameters: those of ``wanted`` that the runbook declares (a runbook
    rejects an execution with an undeclared parameter)."""
    declared = runbook_loader.declared_parameters(content)
    return [
        aws.ssm.MaintenanceWindowTaskTaskInvocationParametersAutomationParametersParameterArgs(name=key, values=[value])
        for key, value in wanted.items()
        if key in declared
    ]


class RegionalSpoke(pulumi.ComponentResource):
    baselines: dict[str, aws.ssm.PatchBaseline]
    window: aws.ssm.MaintenanceWindow
    documents: dict[str, aws.ssm.Document]
    tasks: list[aws.ssm.MaintenanceWindowTask]
    inventory: aws.ssm.Association
    data_sync: aws.ssm.ResourceDataSync
    config_rule: aws.cfg.Rule
    window_tagging: aws.lambda_.Function
    tag_remediation: aws.lambda_.Function | None = None
    override_list: aws.lambda_.Function

    def __init__(self, name: str, args: RegionalSpokeArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("org-patching:spoke:RegionalSpoke", name, None, opts)
        region, account, arn = args.region, args.account_id, f"arn:{args.partition}"
        here = pulumi.ResourceOptions(parent=self)
        patching, window_cfg, hub = args.patching, args.patching.default_window, args.hub

        # --- patch baselines ---------------------------------------------------------------------
        self.baselines = {}
        self.patch_groups: dict[str, dict[str, pulumi.Output[str]]] = {group: {} for group in PATCH_GROUPS}
        days = patching.approve_after_days.model_dump()
        for os_name in patching.operating_systems:
            short = patch_rules.SHORT_NAMES[os_name]
            for stage in patch_rules.stages(days, patching.staged_approval, os_name):
                suffix = short if stage.name == "default" else f"{short}-{stage.name}"
                approval = (
                    "approved when published (AWS allows no delay for this OS)"
                    if stage.approve_after_days is None
                    else f"approved {stage.approve_after_days} days after release"
                )
                baseline = aws.ssm.PatchBaseline(
                    f"{name}-{suffix}",
                    name=f"org-patching-{suffix}",
                    description=(
                        f"org-patching: {os_name}, {approval}"
                        + ("" if stage.patch_groups else " (default baseline: every unregistered patch group)")
                    ),
                    operating_system=os_name,
                    approved_patches_compliance_level=patching.compliance_level,
                    approval_rules=[
                        aws.ssm.PatchBaselineApprovalRuleArgs(
                            approve_after_days=stage.approve_after_days,
                            compliance_level=patching.compliance_level,
                            enable_non_security=False if os_name == "WINDOWS" else None,
                            patch_filters=[
                                aws.ssm.PatchBaselineApprovalRulePatchFilterArgs(key=key, values=list(values))
                                for key, values in patch_rules.APPROVAL_FILTERS[os_name].items()
                            ],
                        )
                    ],
                    region=region,
                    opts=here,
                )
                self.baselines[suffix] = baseline
                if not stage.patch_groups:
                    aws.ssm.DefaultPatchBaseline(
                        f"{name}-{suffix}-default",
                        baseline_id=baseline.id,
                        operating_system=os_name,
                        region=region,
                        opts=here,
                    )
                    for group in PATCH_GROUPS:
                        self.patch_groups[group].setdefault(os_name, baseline.id)
                for group in stage.patch_groups:
                    aws.ssm.PatchGroup(
                        f"{name}-{suffix}-{group.lower()}",
                        baseline_id=baseline.id,
                        patch_group=group,
                        region=region,
                        opts=here,
                    )
                    self.patch_groups[group][os_name] = baseline.id

        # --- runbooks ----------------------------------------------------------------------------
        self.documents = {
            runbook: aws.ssm.Document(
                f"{name}-{runbook}",
                name=runbook,
                document_type="Automation",
                document_format="YAML",
                content=content,
                region=region,
                opts=here,
            )
            for runbook, content in args.runbooks.items()
        }

        # --- default maintenance window ------------------------------------------------------------
        self.window = aws.ssm.MaintenanceWindow(
            f"{name}-default-window",
            name=DEFAULT_WINDOW,
            description="org-patching: default window of every instance and ASG without a team window",
            schedule=window_cfg.schedule,
            schedule_timezone=window_cfg.schedule_timezone,
            duration=window_cfg.duration_hours,
            cutoff=window_cfg.cutoff_hours,
            allow_unassociated_targets=False,
            region=region,
            opts=here,
        )
        common: dict[str, pulumi.Input[str]] = {
            "AutomationAssumeRole": args.roles.automation_execution,
            "MaintenanceWindow": DEFAULT_WINDOW,
            "Operation": window_cfg.operation,
            "RebootOption": window_cfg.reboot_option,
            "MaxConcurrency": window_cfg.max_concurrency,
            "MaxErrors": window_cfg.max_errors,
            # The instance role may write only under its own account's prefix of the log bucket.
            "OutputS3BucketName": hub.patch_log_bucket,
            # The runbook appends accountid=/region=/executionid= partitions.
            "OutputS3KeyPrefix": f"{account}/patching",
        }
        asg_only: dict[str, pulumi.Input[str]] = {
            "MinHealthyPercentage": str(window_cfg.asg_min_healthy_percentage),
        }
        self.tasks = []
        plan = [(naming.RUNBOOK_STANDALONE, "patch-instances", 1, common)]
        if window_cfg.include_asgs:
            plan.append((naming.RUNBOOK_ASG, "patch-asgs", 2, {**common, **asg_only}))
        for runbook, suffix, priority, wanted in plan:
            document = self.documents[runbook]
            self.tasks.append(
                aws.ssm.MaintenanceWindowTask(
                    f"{name}-{suffix}",
                    window_id=self.window.id,
                    name=f"org-patching-{suffix}",
                    description=f"org-patching: {runbook} on {MAINTENANCE_WINDOW_TAG}={DEFAULT_WINDOW}",
                    task_type="AUTOMATION",
                    task_arn=document.name,
                    priority=priority,
                    service_role_arn=args.roles.maintenance_window,
                    cutoff_behavior="CANCEL_TASK",
                    task_invocation_parameters=aws.ssm.MaintenanceWindowTaskTaskInvocationParametersArgs(
                        automation_parameters=aws.ssm.MaintenanceWindowTaskTaskInvocationParametersAutomationParametersArgs(
                            document_version="$DEFAULT",
                            parameters=runbook_parameters(args.runbooks[runbook], wanted),
                        )
                    ),
                    region=region,
                    opts=here,
                )
            )

        # --- inventory -----------------------------------------------------------------------------
        self.inventory = aws.ssm.Association(
            f"{name}-inventory",
            association_name=INVENTORY_ASSOCIATION,
            name="AWS-GatherSoftwareInventory",
            schedule_expression=patching.inventory_schedule,
            # Instances in the tag contract (the tag remediation gives every patchable instance a
            # Patch Group); InstanceIds=* would collide with an existing inventory association.
            targets=[aws.ssm.AssociationTargetArgs(key="tag-key", values=[PATCH_GROUP_TAG])],
            parameters={
                "applications": "Enabled",
                "awsComponents": "Enabled",
                "networkConfig": "Enabled",
                "windowsUpdates": "Enabled",
                "instanceDetailedInformation": "Enabled",
                "services": "Enabled",
                "windowsRoles": "Enabled",
                "customInventory": "Enabled",
                "billingInfo": "Enabled",
            },
            output_location=aws.ssm.AssociationOutputLocationArgs(
                s3_bucket_name=hub.patch_log_bucket,
                s3_key_prefix=f"{account}/inventory-execution-logs/{region}",
                s3_region=hub.region,
            ),
            region=region,
            opts=here,
        )
        self.data_sync = aws.ssm.ResourceDataSync(
            f"{name}-data-sync",
            name=naming.RESOURCE_DATA_SYNC,
            s3_destination=aws.ssm.ResourceDataSyncS3DestinationArgs(
                bucket_name=hub.inventory_bucket,
                region=hub.region,
                prefix=hub.inventory_prefix,
                kms_key_arn=hub.key_arn,
                sync_format="JsonSerDe",
            ),
            region=region,
            opts=here,
        )

        # --- tag compliance --------------------------------------------------------------------------
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
            opts=here,
        )
        self.compliance_rule = aws.cloudwatch.EventRule(
            f"{name}-noncompliant",
            name=COMPLIANCE_RULE,
            description="org-patching: a resource became NON_COMPLIANT with the patch-tags Config rule",
            event_pattern=json.dumps(compliance_event_pattern()),
            region=region,
            opts=here,
        )

        # --- functions -----------------------------------------------------------------------------
        layer = functions.powertools_layer(args.partition, region)
        self.log_group = aws.cloudwatch.LogGroup(
            f"{name}-functions-logs",
            name=FUNCTION_LOG_GROUP,
            retention_in_days=functions.LOG_RETENTION_DAYS,
            region=region,
            opts=here,
        )

        def function(suffix: str, source: str, function_name: str, role: pulumi.Input[str], **extra: Any) -> Any:
            return aws.lambda_.Function(
                f"{name}-{suffix}",
                name=function_name,
                description=f"org-patching: {suffix} (lambda_src/{source})",
                runtime=functions.RUNTIME,
                handler="app.handler",
                code=functions.archive(source),
                role=role,
                layers=[layer],
                architectures=["x86_64"],
                environment=aws.lambda_.FunctionEnvironmentArgs(
                    variables={
                        "POWERTOOLS_SERVICE_NAME": function_name,
                        "POWERTOOLS_LOG_LEVEL": "INFO",
                        "AWS_ACCOUNT_ID": account,
                        "RETRY_MODE": "standard",
                        "MAX_ATTEMPTS": "10",
                        **extra.pop("variables", {}),
                    }
                ),
                logging_config=aws.lambda_.FunctionLoggingConfigArgs(log_format="JSON", log_group=self.log_group.name),
                region=region,
                opts=here,  # the log group's name (an Output) orders it after the group
                **extra,
            )

        self.window_tagging = function(
            "window-tagging", "window_tagging", naming.WINDOW_TAGGING_FUNCTION, args.roles.window_tagging, timeout=300
        )

        if args.is_home:
            self._home_functions(name, args, function)
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
                region=region,
                opts=here,
            )

        self.register_outputs(
            {
                "maintenanceWindowId": self.window.id,
                "baselineIds": {key: baseline.id for key, baseline in self.baselines.items()},
            }
        )

    def _home_functions(self, name: str, args: RegionalSpokeArgs, function: Any) -> None:
        """The account's own functions: one tag-remediation function serves every region of the
        account (clients per region from the event), so a region costs a forwarding rule and a
        sweep target instead of a function, its permission, schedule and dead-letter queue."""
        region, account, arn = args.region, args.account_id, f"arn:{args.partition}"
        here = pulumi.ResourceOptions(parent=self)
        self.dead_letters = aws.sqs.Queue(
            f"{name}-tag-remediation-dlq",
            name=DEAD_LETTER_QUEUE,
            sqs_managed_sse_enabled=True,
            message_retention_seconds=14 * 24 * 3600,
            region=region,
            opts=here,
        )
        self.tag_remediation = function(
            "tag-remediation",
            "tag_remediation",
            naming.TAG_REMEDIATION_FUNCTION,
            args.roles.tag_remediation,
            timeout=900,
            memory_size=512,
            # Failed asynchronous invocations (after Lambda's two retries) land here.
            dead_letter_config=aws.lambda_.FunctionDeadLetterConfigArgs(target_arn=self.dead_letters.arn),
        )
        self.override_list = function(
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
        assert self.tag_remediation is not None
        aws.lambda_.Permission(
            f"{name}-tag-remediation-events",
            function=self.tag_remediation.name,
            action="lambda:InvokeFunction",
            principal="events.amazonaws.com",
            source_account=account,
            # The compliance rule and the sweep rules of this region (both named org-patching-*).
            source_arn=f"{arn}:events:{region}:{account}:rule/org-patching-*",
            region=region,
            opts=here,
        )
        aws.cloudwatch.EventTarget(
            f"{name}-noncompliant-remediate",
            rule=self.compliance_rule.name,
            target_id="tag-remediation",
            arn=self.tag_remediation.arn,
            retry_policy=aws.cloudwatch.EventTargetRetryPolicyArgs(
                maximum_event_age_in_seconds=3600, maximum_retry_attempts=20
            ),
            region=region,
            opts=here,
        )
        regions = list(args.account_regions) or [region]
        for index in range(0, len(regions), TARGETS_PER_RULE):
            chunk = regions[index : index + TARGETS_PER_RULE]
            suffix = "" if index == 0 else f"-{index // TARGETS_PER_RULE + 1}"
            rule = aws.cloudwatch.EventRule(
                f"{name}-sweep{suffix}",
                name=f"{SWEEP_RULE}{suffix}",
                description="org-patching: daily tag sweep of every region of the account",
                schedule_expression=args.patching.tag_sweep_schedule,
                region=region,
                opts=here,
            )
            for swept in chunk:
                aws.cloudwatch.EventTarget(
                    f"{name}-sweep-{swept}",
                    rule=rule.name,
                    target_id=f"sweep-{swept}",
                    arn=self.tag_remediation.arn,
                    input=json.dumps(sweep_event(account, swept)),
                    region=region,
                    opts=here,
                )


def required_tags_parameters() -> dict[str, str]:
    """REQUIRED_TAGS input: the two managed keys and every value the contract allows."""
    return {
        "tag1Key": MAINTENANCE_WINDOW_TAG,
        "tag1Value": ",".join(WINDOW_NAMES),
        "tag2Key": PATCH_GROUP_TAG,
        "tag2Value": ",".join(PATCH_GROUPS),
    }


def compliance_event_pattern() -> dict[str, Any]:
    """Only transitions TO non-compliant of our rule (the seed reacted to every change, also to
    COMPLIANT and deleted resources)."""
    return {
        "source": ["aws.config"],
        "detail-type": ["Config Rules Compliance Change"],
        "detail": {
            "configRuleName": [naming.CONFIG_RULE],
            "messageType": ["ComplianceChangeNotification"],
            "newEvaluationResult": {"complianceType": ["NON_COMPLIANT"]},
        },
    }


def sweep_event(account: str, region: str) -> dict[str, Any]:
    """The scheduled event one sweep target sends: a Scheduled Event naming the region to sweep."""
    return {
        "version": "0",
        "id": f"org-patching-sweep-{region}",
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": account,
        "region": region,
        "resources": [],
        "detail": {},
    }
