"""``AccountBaseline``: the IAM every child account needs once (IAM is global, not per region).

Roles (names from :mod:`components.naming`, a contract with the hub, the runbooks and the
Service Catalog product), one method each:

* the patching instance role and instance profile ``InstanceProfileforPatching`` (also the role SSM's
  Default Host Management Configuration gives instances without a profile, when it is on);
* the SSM Automation execution role, assumed by the hub's automation administration role
  (emergency waves) and by SSM in this account (maintenance-window runbooks);
* the maintenance-window service role;
* one execution role per Lambda (tag remediation, window tagging, override lists);
* the Service Catalog launch role of the self-service maintenance-window product;
* the EventBridge role that forwards other regions' Config events to the account's home
  region, where the one tag-remediation function of the account runs, and the account's patch
  events to the hub's bus (``components/spoke/event_forwarding.py``).

What each role may do is written in :mod:`.baseline_policies` and :mod:`.automation_policy`. Every role carries
the permissions boundary ``org-patching-child-role-boundary`` (the bootstrap StackSet's policy, by ARN: no resource
here), which the deploy role must put on any role it writes.
Each role's permissions are one inline policy named ``org-patching``, declared as its own
``aws.iam.RolePolicy`` (the Role's ``inline_policies`` input is deprecated in pulumi-aws, and the
test suite fails on pulumi-aws deprecation warnings). The ARNs the spokes get
(:meth:`AccountBaseline.role_arns`) resolve only once the role's policy exists too, so no function,
window or rule is created while its role still lacks its permissions. Upgrading from the inline
form keeps every role (no replacement): the provider leaves the inline policy alone once the Role
stops managing it, and the ``RolePolicy`` of the same name takes it over (PutRolePolicy overwrites).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

from .. import naming
from ..config import InstanceProfilesConfig
from ..policy_documents import Document, Statement, document, to_json
from ..runbooks import baseline_choice
from . import automation_policy, baseline_policies, profile_check, unmanaged_findings
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
    #: The shard's BaselineOverride file (``s3://``), tagged on the automation execution role for the windows that
    #: pass none (``components/runbooks/baseline_choice.py``); ``None`` with staged approval.
    baseline_override: pulumi.Input[str] | None = None
    #: Whether SSM's Default Host Management Configuration uses the instance role (it then trusts SSM too).
    default_host_management: bool = False
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
    #: Each role's ``org-patching`` policy, by role name.
    policies: dict[str, aws.iam.RolePolicy]

    def __init__(self, name: str, args: AccountBaselineArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("org-patching:spoke:AccountBaseline", name, None, opts)
        self._name = name
        self._baseline_override = args.baseline_override
        self._default_host_management = args.default_host_management
        self._instance_profiles = args.instance_profiles
        self._scope = AccountScope(
            account_id=args.account_id,
            org_id=args.org_id,
            partition=args.partition,
            home_region=args.home_region,
            hub=args.hub,
        )
        self.policies = {}
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
        self,
        suffix: str,
        role_name: str,
        description: str,
        trust: Document,
        statements: list[Statement],
        tags: Mapping[str, pulumi.Input[str]] | None = None,
    ) -> aws.iam.Role:
        """One role and its ``org-patching`` inline policy (a ``RolePolicy``, kept in ``self.policies``)."""
        child = pulumi.ResourceOptions(parent=self)
        role = aws.iam.Role(
            f"{self._name}-{suffix}",
            name=role_name,
            description=f"org-patching: {description}",
            assume_role_policy=to_json(trust),
            max_session_duration=3600,
            # the cap the deploy role must put on every role it writes (docs/enrollment.md, "Permissions boundary")
            permissions_boundary=naming.child_role_boundary_arn(self._scope.partition, self._scope.account_id),
            tags=dict(tags) if tags else None,
            opts=child,
        )
        self.policies[role_name] = aws.iam.RolePolicy(
            f"{self._name}-{suffix}-policy",
            role=role.name,
            name=naming.INLINE_POLICY,
            policy=to_json(document(*statements)),
            opts=child,
        )
        return role

    def _ready(self, role: aws.iam.Role, role_name: str) -> pulumi.Output[str]:
        """The role's ARN, resolved once its policy exists too: whatever uses it waits for both."""
        return pulumi.Output.all(role.arn, self.policies[role_name].id).apply(lambda values: str(values[0]))

    def _lambda_trust(self) -> Document:
        return service_trust("lambda.amazonaws.com", self._scope.account_id)

    def _instance_role_and_profile(self) -> None:
        """The role of every patched instance, with SSM's managed core policy, and its profile."""
        self.instance_role = self._role(
            "instance",
            naming.INSTANCE_ROLE,
            "EC2 instances patched by SSM (profile InstanceProfileforPatching)",
            baseline_policies.instance_trust(self._default_host_management),
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
            tags=None if self._baseline_override is None else {baseline_choice.ROLE_TAG: self._baseline_override},
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
                *unmanaged_findings.statements(self._scope, self._instance_profiles),
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
            "forwards Config compliance events to the account's home region and patch events to the hub",
            service_trust("events.amazonaws.com", self._scope.account_id),
            baseline_policies.event_forwarding(self._scope),
        )

    def instance_role_ready(self) -> pulumi.Output[str]:
        """The instance role's name, once its policy and the SSM core attachment exist (DHMC's setting names it)."""
        return pulumi.Output.all(
            self.instance_role.name, self.policies[naming.INSTANCE_ROLE].id, self.instance_core.id
        ).apply(lambda values: str(values[0]))

    def outputs(self) -> dict[str, Any]:
        """This account's part of the child stack's outputs (``schemas/child-outputs.schema.json``)."""
        return {
            "instanceProfile": {"name": self.instance_profile.name, "arn": self.instance_profile.arn},
            "automationExecutionRoleArn": self.automation_execution_role.arn,
        }

    def role_arns(self) -> RoleArns:
        """The roles the account's regional spokes use (ARNs are Outputs: each use waits for its role)."""
        return RoleArns(
            automation_execution=self._ready(self.automation_execution_role, naming.AUTOMATION_EXECUTION_ROLE),
            maintenance_window=self._ready(self.maintenance_window_role, naming.MAINTENANCE_WINDOW_ROLE),
            tag_remediation=self._ready(self.tag_remediation_role, naming.TAG_REMEDIATION_ROLE),
            window_tagging=self._ready(self.window_tagging_role, naming.WINDOW_TAGGING_ROLE),
            override_list=self._ready(self.override_list_role, naming.OVERRIDE_LIST_ROLE),
            event_forwarding=self._ready(self.event_forwarding_role, naming.EVENT_FORWARDING_ROLE),
        )
