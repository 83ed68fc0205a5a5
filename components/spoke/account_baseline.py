"""``AccountBaseline``: the IAM every child account needs once (IAM is global, not per region).

Roles (names from :mod:`components.naming`, a contract with the hub, the runbooks and the
Service Catalog product), one method each:

* the patching instance role and instance profile ``InstanceProfileforPatching``;
* the SSM Automation execution role, assumed by the hub's automation administration role
  (emergency waves) and by SSM in this account (maintenance-window runbooks);
* the maintenance-window service role;
* one execution role per Lambda (tag remediation, window tagging, override lists);
* the Service Catalog launch role of the self-service maintenance-window product;
* the EventBridge role that forwards other regions' Config events to the account's home
  region, where the one tag-remediation function of the account runs.

What each role may do is written in :mod:`.baseline_policies` and :mod:`.automation_policy`.
Each role carries its permissions inline (``inline_policies``): role and policy are created in
one call, so no function or window ever sees the role without its permissions (the IAM
eventual-consistency race of a separate ``RolePolicy``), Pulumi removes inline policies added
out of band, and the account's IAM costs one resource per role (the resource budget).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

from .. import naming
from ..config import InstanceProfilesConfig
from ..policy_documents import Document, Statement, document, to_json
from . import automation_policy, baseline_policies, profile_check
from .baseline_policies import AccountScope, service_trust
from .hub_data import HubData

SSM_CORE_POLICY = "AmazonSSMManagedInstanceCore"


@dataclass
class RoleArns:
    """The baseline's roles a regional spoke passes to its windows, tasks, functions and rules."""

    automation_execution: pulumi.Input[str]
    maintenance_window: pulumi.Input[str]
    tag_remediation: pulumi.Input[str]
    window_tagging: pulumi.Input[str]
    override_list: pulumi.Input[str]
    event_forwarding: pulumi.Input[str]


@dataclass
class AccountBaselineArgs:
    account_id: str
    org_id: str
    partition: str
    #: Where the account's own functions run (the tag-remediation events are forwarded there).
    home_region: str
    hub: HubData
    #: The tag sweep's profile check: which repairs the tag-remediation role may make (:mod:`.profile_check`).
    instance_profiles: InstanceProfilesConfig = field(default_factory=InstanceProfilesConfig)


class AccountBaseline(pulumi.ComponentResource):
    instance_role: aws.iam.Role
    instance_core: aws.iam.RolePolicyAttachment
    instance_profile: aws.iam.InstanceProfile
    automation_execution_role: aws.iam.Role
    maintenance_window_role: aws.iam.Role
    tag_remediation_role: aws.iam.Role
    window_tagging_role: aws.iam.Role
    override_list_role: aws.iam.Role
    catalog_launch_role: aws.iam.Role
    event_forwarding_role: aws.iam.Role

    def __init__(self, name: str, args: AccountBaselineArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("org-patching:spoke:AccountBaseline", name, None, opts)
        self._name = name
        self._instance_profiles = args.instance_profiles
        self._scope = AccountScope(
            account_id=args.account_id,
            org_id=args.org_id,
            partition=args.partition,
            home_region=args.home_region,
            hub=args.hub,
        )
        self._instance_role_and_profile()
        self.automation_execution_role = self._automation_execution_role()
        self.maintenance_window_role = self._maintenance_window_role()
        self.tag_remediation_role = self._tag_remediation_role()
        self.window_tagging_role = self._window_tagging_role()
        self.override_list_role = self._override_list_role()
        self.catalog_launch_role = self._catalog_launch_role()
        self.event_forwarding_role = self._event_forwarding_role()
        self.register_outputs(
            {
                "instanceProfileName": self.instance_profile.name,
                "instanceProfileArn": self.instance_profile.arn,
                "automationExecutionRoleArn": self.automation_execution_role.arn,
            }
        )

    def _role(
        self, suffix: str, role_name: str, description: str, trust: Document, statements: list[Statement]
    ) -> aws.iam.Role:
        """One role with its permissions inline (see the module docstring for why inline)."""
        return aws.iam.Role(
            f"{self._name}-{suffix}",
            name=role_name,
            description=f"org-patching: {description}",
            assume_role_policy=to_json(trust),
            inline_policies=[
                aws.iam.RoleInlinePolicyArgs(name=naming.INLINE_POLICY, policy=to_json(document(*statements)))
            ],
            max_session_duration=3600,
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _lambda_trust(self) -> Document:
        return service_trust("lambda.amazonaws.com", self._scope.account_id)

    def _instance_role_and_profile(self) -> None:
        """The role of every patched instance, with SSM's managed core policy, and its profile."""
        self.instance_role = self._role(
            "instance",
            naming.INSTANCE_ROLE,
            "EC2 instances patched by SSM (profile InstanceProfileforPatching)",
            baseline_policies.instance_trust(),
            baseline_policies.instance(self._scope),
        )
        child = pulumi.ResourceOptions(parent=self)
        self.instance_core = aws.iam.RolePolicyAttachment(
            f"{self._name}-instance-core",
            role=self.instance_role.name,
            policy_arn=f"{self._scope.arn}:iam::aws:policy/{SSM_CORE_POLICY}",
            opts=child,
        )
        self.instance_profile = aws.iam.InstanceProfile(
            f"{self._name}-instance-profile",
            name=naming.INSTANCE_PROFILE,
            role=self.instance_role.name,
            opts=child,
        )

    def _automation_execution_role(self) -> aws.iam.Role:
        return self._role(
            "automation-execution",
            naming.AUTOMATION_EXECUTION_ROLE,
            "runs the patching runbooks in this account (maintenance windows, hub emergency waves)",
            automation_policy.automation_execution_trust(self._scope),
            automation_policy.automation_execution(self._scope),
        )

    def _maintenance_window_role(self) -> aws.iam.Role:
        return self._role(
            "maintenance-window",
            naming.MAINTENANCE_WINDOW_ROLE,
            "maintenance windows start the patching runbooks",
            service_trust("ssm.amazonaws.com", self._scope.account_id),
            baseline_policies.maintenance_window(self._scope),
        )

    def _tag_remediation_role(self) -> aws.iam.Role:
        return self._role(
            "tag-remediation",
            naming.TAG_REMEDIATION_ROLE,
            "tag remediation function (Config events and the daily sweep, every region of the account)",
            self._lambda_trust(),
            [
                *baseline_policies.tag_remediation(self._scope),
                *profile_check.statements(self._scope, self._instance_profiles),
            ],
        )

    def _window_tagging_role(self) -> aws.iam.Role:
        return self._role(
            "window-tagging",
            naming.WINDOW_TAGGING_ROLE,
            "window tagging function (custom resource of the self-service window product)",
            self._lambda_trust(),
            baseline_policies.window_tagging(self._scope),
        )

    def _override_list_role(self) -> aws.iam.Role:
        return self._role(
            "override-list",
            naming.OVERRIDE_LIST_ROLE,
            "override list function (missing patches minus a team's exclusion list)",
            self._lambda_trust(),
            baseline_policies.override_list(self._scope),
        )

    def _catalog_launch_role(self) -> aws.iam.Role:
        return self._role(
            "catalog-launch",
            naming.CATALOG_LAUNCH_ROLE,
            "launch constraint of the self-service maintenance-window product",
            service_trust("servicecatalog.amazonaws.com", self._scope.account_id),
            baseline_policies.catalog_launch(self._scope),
        )

    def _event_forwarding_role(self) -> aws.iam.Role:
        return self._role(
            "event-forwarding",
            naming.EVENT_FORWARDING_ROLE,
            "forwards Config compliance events to the account's home region",
            service_trust("events.amazonaws.com", self._scope.account_id),
            baseline_policies.event_forwarding(self._scope),
        )

    def outputs(self) -> dict[str, Any]:
        """This account's part of the child stack's outputs (``schemas/child-outputs.schema.json``)."""
        return {
            "instanceProfile": {"name": self.instance_profile.name, "arn": self.instance_profile.arn},
            "automationExecutionRoleArn": self.automation_execution_role.arn,
        }

    def role_arns(self) -> RoleArns:
        """The roles the account's regional spokes use (ARNs are Outputs: each use waits for its role)."""
        return RoleArns(
            automation_execution=self.automation_execution_role.arn,
            maintenance_window=self.maintenance_window_role.arn,
            tag_remediation=self.tag_remediation_role.arn,
            window_tagging=self.window_tagging_role.arn,
            override_list=self.override_list_role.arn,
            event_forwarding=self.event_forwarding_role.arn,
        )
