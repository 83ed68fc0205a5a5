"""``DeployRoleBootstrap``: the child deploy role in every member account, with no action by anyone.

The child stack's providers assume ``naming.CHILD_DEPLOY_ROLE`` in each child account. AWS's
``OrganizationAccountAccessRole`` trusts only the management account, so a central stack in a
delegated-administrator account could not use it. This component deploys a service-managed
CloudFormation StackSet (template ``deploy_role_bootstrap.yaml`` beside this file) to the
configured OUs or the root, with auto-deployment: an account that joins a target OU gets the role,
and loses it when it leaves (``retain_stacks_on_account_removal=False``).

The role trusts only ``bootstrap.deployPrincipalArn`` with ``aws:PrincipalOrgID`` = the org, allows
3-hour sessions (long ``up-child`` runs) and may manage only the child stack's resource types under
the org-patching names. IAM is global, so one stack instance per account (home region) suffices.

``callAs`` is ``SELF`` in the management account and ``DELEGATED_ADMIN`` in a registered StackSets
delegated administrator (docs/enrollment.md has the commands for both).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pulumi
import pulumi_aws as aws

from .. import naming
from ..config import BootstrapConfig

TEMPLATE_FILE = Path(__file__).with_name("deploy_role_bootstrap.yaml")
#: Sized for hundreds of accounts: a quarter of the accounts at a time, and a few failing accounts
#: (suspended, SCP-denied) do not stop the rollout to the rest (SOFT: concurrency stays at the maximum).
MAX_CONCURRENT_PERCENTAGE = 25
FAILURE_TOLERANCE_PERCENTAGE = 10


@dataclass
class DeployRoleBootstrapArgs:
    """The hub account's provider comes through ``opts``; ``region`` is where the one instance per
    account lives (IAM is global)."""

    config: BootstrapConfig
    org_id: str
    region: str


class DeployRoleBootstrap(pulumi.ComponentResource):
    stack_set: aws.cloudformation.StackSet
    instances: aws.cloudformation.StackSetInstance
    role_name: str

    def __init__(self, name: str, args: DeployRoleBootstrapArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("org-patching:hub:DeployRoleBootstrap", name, None, opts)
        cfg = args.config
        assert cfg.deploy_principal_arn is not None  # validated: required while enabled
        self.role_name = naming.CHILD_DEPLOY_ROLE
        self.stack_set = aws.cloudformation.StackSet(
            f"{name}-stack-set",
            name=naming.DEPLOY_ROLE_STACK_SET,
            description="org-patching: the child stack's deploy role in every member account",
            permission_model="SERVICE_MANAGED",
            call_as=cfg.call_as,
            auto_deployment=aws.cloudformation.StackSetAutoDeploymentArgs(
                enabled=True, retain_stacks_on_account_removal=False
            ),
            # StackSets may run operations for other stack sets of the org at the same time.
            managed_execution=aws.cloudformation.StackSetManagedExecutionArgs(active=True),
            capabilities=["CAPABILITY_NAMED_IAM"],
            template_body=TEMPLATE_FILE.read_text(),
            parameters={"DeployPrincipalArn": cfg.deploy_principal_arn, "OrganizationId": args.org_id},
            operation_preferences=aws.cloudformation.StackSetOperationPreferencesArgs(
                failure_tolerance_percentage=FAILURE_TOLERANCE_PERCENTAGE,
                max_concurrent_percentage=MAX_CONCURRENT_PERCENTAGE,
                region_concurrency_type="PARALLEL",
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.instances = aws.cloudformation.StackSetInstance(
            f"{name}-instances",
            stack_set_name=self.stack_set.name,
            call_as=cfg.call_as,
            stack_set_instance_region=args.region,
            deployment_targets=aws.cloudformation.StackSetInstanceDeploymentTargetsArgs(
                organizational_unit_ids=list(cfg.targets)
            ),
            operation_preferences=aws.cloudformation.StackSetInstanceOperationPreferencesArgs(
                concurrency_mode="SOFT_FAILURE_TOLERANCE",
                failure_tolerance_percentage=FAILURE_TOLERANCE_PERCENTAGE,
                max_concurrent_percentage=MAX_CONCURRENT_PERCENTAGE,
                region_concurrency_type="PARALLEL",
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.register_outputs({"roleName": self.role_name})
