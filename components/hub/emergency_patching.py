"""``EmergencyPatching``: push a zero-day patch to the organization in controlled waves.

The seed looped over every account inside one 60-second Lambda (assume-role + invoke per
account, serially). Here Step Functions orchestrates and SSM Automation is the distributed
engine: each wave is ONE ``StartAutomationExecution`` per runbook whose ``TargetLocations``
name the accounts/OUs × Regions, with SSM's own rate control
(``TargetLocationMaxConcurrency``/``TargetLocationMaxErrors``). The central API calls per wave
therefore do not grow with the number of accounts (see ``bench/bench_emergency.py``).

Flow (``emergency_patching.asl.json``, beside this file): validate the request (a tiny Lambda,
``lambda_src/emergency_validate``: a bad field fails the execution with error ``InvalidInput``
naming the field, before anything starts) → per wave: optional human approval (the approval gate,
``emergency_approval.py``, keeps the task token and mails the approvers through the KMS-encrypted
topic without it; an approver answers with ``patchctl emergency approve``, authenticated by IAM,
never the requester, once per wave) → start the runbooks → poll
``DescribeAutomationExecutions`` (filtered to the execution: a bounded response) until
terminal → stop the rollout when a wave is not ``Success`` (SSM ends it ``Failed`` when a
target location exceeded its error threshold) → summary
output and an EventBridge event (source ``org-patching``, detail-type
``Emergency Patching Rollout Finished``) on the default bus.

What the runbooks must accept (the spoke's ``RUNBOOK_STANDALONE``/``RUNBOOK_ASG``; for a
multi-account automation the runbook must also exist in the hub account's home Region, where
SSM reads it before running it in each target location):

* standalone (``patch_instances.yaml``): ``AutomationAssumeRole`` (the hub's administration
  role), ``PatchGroup`` (the wave: every instance tagged ``Patch Group=<Wave>``, whatever
  window it is on), ``Operation``, ``RebootOption``, ``InstallOverrideList``,
  ``MaxConcurrency``, ``MaxErrors``;
* ASG (``patch_asgs.yaml``): ``AutomationAssumeRole``, ``PatchGroup``, ``Operation``,
  ``InstallOverrideList``, ``MinHealthyPercentage``.

Who may start or approve: grant ``lambda:InvokeFunction`` on the approval gate
(``naming.EMERGENCY_APPROVAL_FUNCTION``) to the operators' roles, and ``states:DescribeExecution``,
``states:ListExecutions``, ``states:StopExecution`` for ``patchctl emergency status|list|cancel``
(identity policies in the org's SSO permission sets; not created here). Do not grant operators
``states:StartExecution`` or ``states:SendTaskSuccess``: an execution not started through the gate
cannot be approved, and the gate is what refuses the requester.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import pulumi
import pulumi_aws as aws

from .. import naming, packaging
from ..config import EmergencyConfig
from ..policy_documents import allow, document, to_json
from .emergency_approval import EmergencyApproval, EmergencyApprovalArgs
from .emergency_policy import state_machine_policy

ASL_FILE = Path(__file__).with_name("emergency_patching.asl.json")
#: Placeholders of the ASL file, filled from Outputs by :func:`render_definition`.
PLACEHOLDERS = ("Partition", "ValidateFunctionArn", "ApprovalFunctionArn", "EventSource")
DETAIL_TYPE = "Emergency Patching Rollout Finished"


def render_definition(values: Mapping[str, str], template: str | None = None) -> str:
    """The ASL with every ``${Name}`` replaced; unknown or missing placeholders are errors.

    Tests render the same file with moto's ARNs, so what runs on the interpreter is exactly
    what is deployed.
    """
    text = ASL_FILE.read_text() if template is None else template
    missing = [name for name in PLACEHOLDERS if name not in values]
    if missing:
        raise ValueError(f"emergency_patching.asl.json: no value for ${{{missing[0]}}}")
    for name in PLACEHOLDERS:
        text = text.replace("${" + name + "}", values[name])
    if "${" in text:
        start = text.index("${")
        raise ValueError(f"emergency_patching.asl.json: unknown placeholder {text[start : text.index('}', start) + 1]}")
    json.loads(text)  # a substitution must never break the JSON
    return text


class RolloutDefaults(Protocol):
    """Where a rollout's defaults come from: the central stack's config (``CentralConfig``) or
    the component's own :class:`EmergencyPatchingArgs`; both have these three."""

    @property
    def emergency(self) -> EmergencyConfig: ...

    @property
    def regions(self) -> Sequence[str]: ...

    @property
    def home_region(self) -> str: ...


def validate_environment(
    defaults: RolloutDefaults,
    administration_role_arn: str,
    patch_log_bucket: str,
    approval_timeout_seconds: int | None = None,
) -> dict[str, str]:
    """Environment variables of the validation Lambda (its configuration contract).

    ``patch_log_bucket``: the hub's patch-log bucket, every wave's ``OutputS3BucketName`` (the
    runbook requires it: SendCommand refuses an empty bucket name)."""
    if not patch_log_bucket:
        raise ValueError("emergency patching: the patch-log bucket is required (every wave writes its command output)")
    emergency = defaults.emergency
    return {
        "PATCH_LOG_BUCKET": patch_log_bucket,
        "DEFAULT_WAVES": ",".join(emergency.waves),
        "APPROVAL_BEFORE": ",".join(emergency.approval_before),
        "DEFAULT_REGIONS": ",".join(defaults.regions or [defaults.home_region]),
        "MAX_CONCURRENCY": emergency.max_concurrency,
        "MAX_ERRORS": emergency.max_errors,
        "TARGET_LOCATION_MAX_CONCURRENCY": emergency.target_location_max_concurrency,
        "TARGET_LOCATION_MAX_ERRORS": emergency.target_location_max_errors,
        "POLL_SECONDS": str(emergency.poll_seconds),
        "APPROVAL_TIMEOUT_SECONDS": str(approval_timeout_seconds or emergency.approval_timeout_hours * 3600),
        "EXECUTION_ROLE_NAME": naming.AUTOMATION_EXECUTION_ROLE,
        "ADMINISTRATION_ROLE_ARN": administration_role_arn,
        "RUNBOOK_STANDALONE": naming.RUNBOOK_STANDALONE,
        "RUNBOOK_ASG": naming.RUNBOOK_ASG,
    }


@dataclass
class EmergencyPatchingArgs:
    """The hub account's provider comes through ``opts`` (parent or ``providers``)."""

    emergency: EmergencyConfig
    org_id: str
    #: The hub account and its home Region (the state machine, the runbooks and the function).
    account_id: str
    home_region: str
    #: Retention of the log groups (``compliance.cloudwatchLogRetentionDays``).
    log_retention_days: int
    #: Regions the child stacks patch: a rollout's default (empty: the home Region).
    regions: Sequence[str] = ()
    partition: str = "aws"
    #: The hub's patch-log bucket (``ComplianceLake.patch_logs``): the standalone runbook's
    #: ``OutputS3BucketName`` in every wave. Required (an empty name is refused at construction).
    patch_log_bucket: pulumi.Input[str] = ""
    #: CMK for the approval topic (the ComplianceLake key works: its key policy delegates to
    #: the hub account's IAM). ``None``: the AWS managed key ``alias/aws/sns``.
    topic_kms_key_arn: pulumi.Input[str] | None = None
    #: CMK for the log groups; its key policy must allow ``logs.<region>.amazonaws.com``
    #: (the ComplianceLake key does not). ``None``: CloudWatch Logs' own encryption.
    log_kms_key_arn: pulumi.Input[str] | None = None
    #: YAML content of ``RUNBOOK_STANDALONE``/``RUNBOOK_ASG`` (``render_runbook(name)`` of the
    #: spoke), created as Automation documents in the hub's home Region: a multi-account
    #: automation runs the *caller's* document in every target location. Empty: the documents
    #: are managed elsewhere (e.g. the hub is also a spoke of its own home Region).
    runbooks: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    #: Accounts the runbooks are shared with (ModifyDocumentPermission takes account ids only, no OU or
    #: organization; at most 1,000): a custom runbook run with TargetLocations must be shared with every
    #: target account, or it fails there (issue 12 item 9; the emulator's rule: ``unshared_document``).
    shared_with: Sequence[str] = ()


class EmergencyPatching(pulumi.ComponentResource):
    administration_role: aws.iam.Role
    administration_policy: aws.iam.RolePolicy
    approval_topic: aws.sns.Topic
    approver_subscriptions: list[aws.sns.TopicSubscription]
    approval: EmergencyApproval
    validate_role: aws.iam.Role
    validate_log_group: aws.cloudwatch.LogGroup
    validate_function: aws.lambda_.Function
    log_group: aws.cloudwatch.LogGroup
    role: aws.iam.Role
    role_policy: aws.iam.RolePolicy
    state_machine: aws.sfn.StateMachine
    runbook_documents: list[aws.ssm.Document]

    def __init__(self, name: str, args: EmergencyPatchingArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("org-patching:hub:EmergencyPatching", name, None, opts)
        if not args.patch_log_bucket:
            raise ValueError("EmergencyPatchingArgs.patch_log_bucket: required (every wave writes its command output)")
        child = pulumi.ResourceOptions(parent=self)
        partition, account, region = args.partition, args.account_id, args.home_region
        arn = f"arn:{partition}"
        retention = args.log_retention_days

        # --- SSM Automation administration role (multi-account automations start here) ------
        self.administration_role = aws.iam.Role(
            f"{name}-automation-administration",
            name=naming.AUTOMATION_ADMINISTRATION_ROLE,
            description="org-patching: SSM Automation fans emergency runbooks out to the organization",
            assume_role_policy=to_json(
                document(
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": "ssm.amazonaws.com"},
                        "Action": "sts:AssumeRole",
                        # Only automations of the hub account's home Region (where the state machine starts
                        # the waves) may take this role (issue 13 item 1: the confused deputy): global keys
                        # aws:SourceAccount/aws:SourceArn, which SSM sets when it assumes a role for an automation.
                        "Condition": {
                            "StringEquals": {"aws:SourceAccount": account},
                            "ArnLike": {"aws:SourceArn": f"{arn}:ssm:{region}:{account}:automation-execution/*"},
                        },
                    }
                )
            ),
            opts=child,
        )
        self.administration_policy = aws.iam.RolePolicy(
            f"{name}-automation-administration",
            role=self.administration_role.id,
            policy=to_json(
                document(
                    # The account part is "*" because the targets are every account of the
                    # organization (listed per execution, or expanded from OUs by SSM); the
                    # aws:ResourceOrgID condition keeps it to roles inside our organization.
                    allow(
                        ["sts:AssumeRole"],
                        [f"{arn}:iam::*:role/{naming.AUTOMATION_EXECUTION_ROLE}"],
                        sid="AssumeExecutionRoleInOrganization",
                        conditions={"StringEquals": {"aws:ResourceOrgID": args.org_id}},
                    ),
                    # OU targets: SSM expands them with this call. Organizations' list actions
                    # have no resource-level permissions, hence "*".
                    allow(["organizations:ListAccountsForParent"], "*", sid="ExpandOrganizationalUnits"),
                )
            ),
            opts=child,
        )

        # --- the runbooks the waves start (read in the hub, run in every target location) ----
        unknown = sorted(set(args.runbooks) - {naming.RUNBOOK_STANDALONE, naming.RUNBOOK_ASG})
        if unknown:
            raise ValueError(f"EmergencyPatchingArgs.runbooks: {unknown[0]!r} is not a runbook the waves start")
        # One copy per Region the children patch, shared with the organization's accounts: the home Region's for
        # the waves, and every Region's for the child maintenance windows, which run it by ARN
        # (components/shared_runbooks.py). The home copy keeps its URN (no region suffix).
        self.runbook_documents = [
            aws.ssm.Document(
                f"{name}-{document_name}" + ("" if copy_region == region else f"-{copy_region}"),
                name=document_name,
                document_type="Automation",
                document_format="YAML",
                content=content,
                permissions=_share(args.shared_with, args.account_id),
                region=None if copy_region == region else copy_region,  # the home copy: the provider's Region
                opts=child,
            )
            for copy_region in [region, *sorted(set(args.regions) - {region})]
            for document_name, content in sorted(args.runbooks.items())
        ]

        # --- approval topic ---------------------------------------------------------------
        self.approval_topic = aws.sns.Topic(
            f"{name}-approval",
            display_name="org-patching emergency approvals",
            kms_master_key_id=args.topic_kms_key_arn or "alias/aws/sns",
            opts=child,
        )
        self.approver_subscriptions = [
            aws.sns.TopicSubscription(
                f"{name}-approver-{index}",
                topic=self.approval_topic.arn,
                protocol="email",
                endpoint=email,
                opts=child,
            )
            for index, email in enumerate(args.emergency.approvers)
        ]

        # --- the approval gate (keeps the task token; authenticates and records approvers) --
        self.approval = EmergencyApproval(
            f"{name}-approval-gate",
            EmergencyApprovalArgs(
                partition=partition,
                account_id=account,
                region=region,
                log_retention_days=retention,
                topic_arn=self.approval_topic.arn,
                kms_key_arn=args.topic_kms_key_arn,
                log_kms_key_arn=args.log_kms_key_arn,
            ),
            parent=self,
        )

        # --- validation Lambda ------------------------------------------------------------
        self.validate_role = aws.iam.Role(
            f"{name}-validate",
            description="org-patching: emergency request validation (logs only)",
            assume_role_policy=to_json(
                document(
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": "lambda.amazonaws.com"},
                        "Action": "sts:AssumeRole",
                        "Condition": {"StringEquals": {"aws:SourceAccount": account}},
                    }
                )
            ),
            opts=child,
        )
        self.validate_log_group = aws.cloudwatch.LogGroup(
            f"{name}-validate",
            name=naming.lambda_log_group(naming.EMERGENCY_VALIDATE_FUNCTION),
            retention_in_days=retention,
            kms_key_id=args.log_kms_key_arn,
            opts=child,
        )
        self.validate_log_policy = aws.iam.RolePolicy(
            f"{name}-validate-logs",
            role=self.validate_role.id,
            policy=to_json(
                document(
                    allow(
                        ["logs:CreateLogStream", "logs:PutLogEvents"],
                        [pulumi.Output.concat(self.validate_log_group.arn, ":*")],
                    )
                )
            ),
            opts=child,
        )
        self.validate_function = aws.lambda_.Function(
            f"{name}-validate",
            name=naming.EMERGENCY_VALIDATE_FUNCTION,
            description="org-patching: validate an emergency patching request and plan its waves",
            runtime=packaging.RUNTIME,
            architectures=["arm64"],
            handler="app.handler",
            timeout=10,
            memory_size=128,
            role=self.validate_role.arn,
            # app.py, the tag contract (the waves are its patch groups) and the shared runtime; the
            # Powertools layer brings the parser and its pydantic.
            code=packaging.archive("emergency_validate"),
            layers=[packaging.powertools_layer(partition, region, "arm64")],
            environment=aws.lambda_.FunctionEnvironmentArgs(
                variables=pulumi.Output.all(self.administration_role.arn, args.patch_log_bucket).apply(
                    lambda values: validate_environment(args, values[0], values[1])
                )
            ),
            logging_config=aws.lambda_.FunctionLoggingConfigArgs(
                log_format="JSON", log_group=self.validate_log_group.name
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.validate_log_policy]),
        )

        # --- state machine ----------------------------------------------------------------
        self.log_group = aws.cloudwatch.LogGroup(
            f"{name}-state-machine",
            name=naming.EMERGENCY_STATE_MACHINE_LOG_GROUP,
            retention_in_days=retention,
            kms_key_id=args.log_kms_key_arn,
            opts=child,
        )
        machine_arn = f"{arn}:states:{region}:{account}:stateMachine:{naming.EMERGENCY_STATE_MACHINE}"
        self.role = aws.iam.Role(
            f"{name}-state-machine",
            description="org-patching: the emergency patching state machine",
            assume_role_policy=to_json(
                document(
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": "states.amazonaws.com"},
                        "Action": "sts:AssumeRole",
                        "Condition": {
                            "StringEquals": {"aws:SourceAccount": account},
                            "ArnLike": {"aws:SourceArn": machine_arn},
                        },
                    }
                )
            ),
            opts=child,
        )
        self.role_policy = aws.iam.RolePolicy(
            f"{name}-state-machine",
            role=self.role.id,
            policy=to_json(
                state_machine_policy(
                    partition,
                    account,
                    region,
                    validate_function_arn=self.validate_function.arn,
                    administration_role_arn=self.administration_role.arn,
                    approval_function_arn=self.approval.function.arn,
                )
            ),
            opts=child,
        )
        definition = pulumi.Output.all(self.validate_function.arn, self.approval.function.arn).apply(
            lambda values: render_definition(
                {
                    "Partition": partition,
                    "ValidateFunctionArn": values[0],
                    "ApprovalFunctionArn": values[1],
                    "EventSource": naming.EVENT_SOURCE,
                }
            )
        )
        self.state_machine = aws.sfn.StateMachine(
            f"{name}-state-machine",
            name=naming.EMERGENCY_STATE_MACHINE,
            type="STANDARD",
            role_arn=self.role.arn,
            definition=definition,
            logging_configuration=aws.sfn.StateMachineLoggingConfigurationArgs(
                level="ALL",
                # No execution data: the approval step's input holds the task token (issue 13 item 7).
                include_execution_data=False,
                log_destination=pulumi.Output.concat(self.log_group.arn, ":*"),
            ),
            tracing_configuration=aws.sfn.StateMachineTracingConfigurationArgs(enabled=True),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.role_policy]),
        )

        self.register_outputs(
            {
                "stateMachineArn": self.state_machine.arn,
                "approvalTopicArn": self.approval_topic.arn,
                "approvalFunctionName": self.approval.function.name,
                "administrationRoleArn": self.administration_role.arn,
                "logGroupName": self.log_group.name,
            }
        )

    def outputs(self) -> dict[str, Any]:
        """The ``emergency`` section of the central stack's outputs."""
        return {
            "stateMachineArn": self.state_machine.arn,
            "approvalTopicArn": self.approval_topic.arn,
            "approvalFunctionName": self.approval.function.name,
            "administrationRoleArn": self.administration_role.arn,
        }


#: ModifyDocumentPermission: a document is shared with at most 1,000 accounts (AWS Systems Manager User Guide,
#: "Sharing SSM documents"); botocore's AccountIdList allows 20 per call (the provider sends batches).
MAX_SHARED_ACCOUNTS = 1000


def _share(accounts: Sequence[str], hub_account: str) -> dict[str, str] | None:
    """The document's ``permissions``: shared with every child account (never the hub itself)."""
    targets = sorted({a for a in accounts if a != hub_account})
    if not targets:
        return None
    if len(targets) > MAX_SHARED_ACCOUNTS:
        raise ValueError(
            f"EmergencyPatchingArgs.shared_with: {len(targets)} accounts; an SSM document can be shared with at "
            f"most {MAX_SHARED_ACCOUNTS}"
        )
    return {"type": "Share", "account_ids": ",".join(targets)}


#: The hub's other shared documents (the change calendar) are shared the same way.
share_with = _share
