"""Typed, validated stack configuration for both stacks of the program.

Every key lives in the ``org-patching:`` namespace (``Pulumi.<stack>.yaml``). The same loader
serves ``pulumi up`` (values from the engine) and ``patchctl preview`` (values read from the
YAML file), so a bad value fails the same way in both: one line naming the key path and the
bad value, before any resource is registered (nothing is half-created).

Which stack is built is chosen by ``org-patching:stack`` (``central`` | ``child``), never by
the stack's name, so shards such as ``child-eu`` work unchanged. The value types (ids, regions,
schedules...) are in :mod:`components.config_types`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError, field_validator, model_validator

from .config_errors import (
    NAMESPACE,
    PathError,
    closest_key,
    describe_validation_error,
    keys_at,
    unknown_key_message,
)
from .config_files import SECRET_PLACEHOLDER, offline_config, read_yaml, secret_hint
from .config_freeze import ChangeFreezeConfig
from .config_notices import NoticesConfig
from .config_types import (
    AccountId,
    Email,
    Model,
    OrgId,
    OuId,
    RateLimit,
    Region,
    RoleArn,
    RoleName,
    Schedule,
    StackName,
    unique,
)
from .errors import ConfigError
from .naming import CHILD_DEPLOY_ROLE

#: The child stack of an organization that does not shard (``org-patching:childStacks`` empty).
DEFAULT_CHILD_STACK = "child"

__all__ = [
    "NAMESPACE",
    "SECRET_PLACEHOLDER",
    "CentralConfig",
    "ChildConfig",
    "PathError",
    "describe_validation_error",
    "load_from_engine",
    "load_stack_file",
    "parse_config",
]


# --------------------------------------------------------------------------- patching


PatchOperation = Literal["Scan", "Install"]
RebootOption = Literal["RebootIfNeeded", "NoReboot"]
ComplianceLevel = Literal["CRITICAL", "HIGH", "MEDIUM", "LOW", "INFORMATIONAL", "UNSPECIFIED"]


class MaintenanceWindowConfig(Model):
    """The default window every account/region gets (Friday 05:00 UTC, like the seed)."""

    schedule: Schedule = "cron(0 5 ? * FRI *)"
    schedule_timezone: str = "UTC"
    duration_hours: int = Field(default=4, ge=1, le=24)
    cutoff_hours: int = Field(default=1, ge=0, le=23)
    operation: PatchOperation = "Install"
    reboot_option: RebootOption = "RebootIfNeeded"
    max_concurrency: RateLimit = "10%"
    max_errors: RateLimit = "10%"
    include_asgs: bool = True
    asg_min_healthy_percentage: int = Field(default=90, ge=0, le=100)

    @model_validator(mode="after")
    def _cutoff_before_end(self) -> MaintenanceWindowConfig:
        if self.cutoff_hours >= self.duration_hours:
            # SSM rejects a cutoff that is not smaller than the duration (the seed's
            # Duration=1 with a fixed Cutoff=1 is exactly this).
            raise ValueError(
                f"cutoffHours ({self.cutoff_hours}) must be smaller than durationHours ({self.duration_hours})"
            )
        return self


class ApprovalConfig(Model):
    """How long a patch waits after release before a patch group installs it.

    Staged approval: Dev gets patches first, Prod last (defaults 0/3/7 days; Default follows
    the seed's 7 days).
    """

    dev: int = Field(default=0, ge=0, le=360)
    test: int = Field(default=3, ge=0, le=360)
    prod: int = Field(default=7, ge=0, le=360)
    default: int = Field(default=7, ge=0, le=360)


class PatchScanConfig(Model):
    """The daily patch scan: ``AWS-RunPatchBaseline`` ``Operation=Scan`` (never a reboot) on every managed
    instance of every account-region, so a new instance has compliance data within a day, not at its first
    window (``components/spoke/host_management.py``)."""

    enabled: bool = True
    schedule: Schedule = "rate(1 day)"


class DefaultHostManagementConfig(Model):
    """Default Host Management Configuration (DHMC): SSM manages instances that have no instance profile,
    with the account's DHMC role (``components/spoke/host_management.py``). ``enabled: false`` is the opt-out
    (an organization that manages the setting elsewhere, e.g. Quick Setup)."""

    enabled: bool = True


class InstanceProfilesConfig(Model):
    """The tag sweep's check of instances SSM does not manage (``lambda_src/lambda_shared/instance_profiles.py``).

    Every sweep lists the instances the tag contract patches that SSM does not manage, with the reason, and
    repairs what the config allows: ``attachWhenMissing`` attaches the patching instance profile to an instance
    that has none; ``appProfiles`` decides what happens to an instance whose own (app-owned) profile's role lacks
    ``AmazonSSMManagedInstanceCore``: ``report`` only, or ``attachPolicy`` (Quick Setup's option: attach that one
    AWS managed policy to the role). The function role gets each permission only while its option is on.
    """

    check: bool = True
    attach_when_missing: bool = True
    app_profiles: Literal["report", "attachPolicy"] = "report"


class PatchingConfig(Model):
    """Patch baselines and windows of every spoke."""

    #: Each listed OS gets our baseline registered as its default (2 resources per
    #: account-region); an OS not listed keeps AWS's predefined default baseline, so its
    #: instances are still patched. Six by default keeps a spoke within 30 resources per
    #: account-region (bench/bench_child.py); add DEBIAN, ROCKY_LINUX, ORACLE_LINUX… as needed.
    operating_systems: list[str] = Field(
        default_factory=lambda: [
            "AMAZON_LINUX_2",
            "AMAZON_LINUX_2023",
            "REDHAT_ENTERPRISE_LINUX",
            "UBUNTU",
            "WINDOWS",
            "SUSE",
        ]
    )
    approve_after_days: ApprovalConfig = Field(default_factory=ApprovalConfig)
    #: One baseline per OS and environment whose delay differs from ``default`` (Dev before
    #: Prod). Off by default: it costs 2 resources per OS and stage in every account-region.
    staged_approval: bool = False
    compliance_level: ComplianceLevel = "CRITICAL"
    default_window: MaintenanceWindowConfig = Field(default_factory=MaintenanceWindowConfig)
    inventory_schedule: Schedule = "rate(1 day)"
    tag_sweep_schedule: Schedule = "rate(1 day)"
    #: AWS Config in the child account-regions. ``existing``: a configuration recorder is there
    #: (Control Tower and most landing zones record EC2 and ASGs), so the REQUIRED_TAGS rule and its
    #: NON_COMPLIANT events drive tag remediation within minutes. ``none``: no recorder (AWS refuses
    #: ``PutConfigRule`` there with NoAvailableConfigurationRecorderException), so no Config rule is
    #: deployed and the scheduled tag sweep (``tagSweepSchedule``) is what keeps tags right.
    config_recorder: Literal["existing", "none"] = "existing"
    patch_scan: PatchScanConfig = Field(default_factory=PatchScanConfig)
    default_host_management: DefaultHostManagementConfig = Field(default_factory=DefaultHostManagementConfig)
    instance_profiles: InstanceProfilesConfig = Field(default_factory=InstanceProfilesConfig)

    @field_validator("operating_systems")
    @classmethod
    def _known_os(cls, values: list[str]) -> list[str]:
        from .ssm_model import operating_systems  # botocore's enum, loaded lazily

        allowed = operating_systems()
        for value in values:
            if value not in allowed:
                raise ValueError(f"{value!r} is not an SSM OperatingSystem ({', '.join(sorted(allowed))})")
        if not values:
            raise ValueError("at least one operating system is needed")
        return unique(values, "operating system")

    @model_validator(mode="after")
    def _staging_is_possible(self) -> PatchingConfig:
        from .spoke.patch_rules import APPROVED_WHEN_PUBLISHED  # the AWS rule and its source

        unstageable = [os_name for os_name in self.operating_systems if os_name in APPROVED_WHEN_PUBLISHED]
        if self.staged_approval and unstageable:
            # SSM refuses ApproveAfterDays/ApproveUntilDate in an Ubuntu or Debian baseline.
            raise ValueError(
                f"stagedApproval cannot stage {', '.join(unstageable)}: AWS patch baselines for Ubuntu Server and "
                "Debian Server take no ApproveAfterDays/ApproveUntilDate (patches are approved when published), so "
                "Dev cannot get them before Prod. Set stagedApproval: false, or remove "
                f"{', '.join(unstageable)} from operatingSystems (see docs/aws-rules.md)"
            )
        return self


# --------------------------------------------------------------------------- central


class ComplianceConfig(Model):
    """The compliance data lake in the hub."""

    inventory_retention_days: int = Field(default=400, ge=30, le=3650)
    log_retention_days: int = Field(default=365, ge=30, le=3650)
    archive_after_days: int = Field(default=90, ge=30, le=3650)
    athena_bytes_scanned_cutoff_mb: int = Field(default=10_240, ge=10, le=10_485_760)
    cloudwatch_log_retention_days: int = Field(default=365)

    @field_validator("cloudwatch_log_retention_days")
    @classmethod
    def _cw_retention(cls, value: int) -> int:
        allowed = (
            1,
            3,
            5,
            7,
            14,
            30,
            60,
            90,
            120,
            150,
            180,
            365,
            400,
            545,
            731,
            1096,
            1827,
            2192,
            2557,
            2922,
            3288,
            3653,
        )
        if value not in allowed:
            raise ValueError(f"{value} is not a CloudWatch Logs retention period ({', '.join(map(str, allowed))})")
        return value

    @model_validator(mode="after")
    def _archive_before_expiry(self) -> ComplianceConfig:
        if self.archive_after_days >= min(self.inventory_retention_days, self.log_retention_days):
            raise ValueError("archiveAfterDays must be smaller than both retention periods")
        return self


class EmergencyConfig(Model):
    """Emergency patching across the organization (Step Functions + SSM Automation)."""

    approvers: list[Email] = Field(default_factory=list)
    #: Wave order; a wave patches ``<Wave>_maintenance_window`` (add ``Default`` for the default
    #: window). Plain defaults: pydantic copies them per instance, and mypy checks them.
    waves: list[Literal["Dev", "Test", "Prod", "Default"]] = Field(default=["Dev", "Test", "Prod"], min_length=1)
    approval_before: list[Literal["Dev", "Test", "Prod", "Default"]] = Field(default=["Prod"])
    max_concurrency: RateLimit = "10%"
    max_errors: RateLimit = "5%"
    target_location_max_concurrency: RateLimit = "10"
    target_location_max_errors: RateLimit = "1"
    approval_timeout_hours: int = Field(default=24, ge=1, le=168)
    #: How often a running wave's automation is polled (seconds; a request may override it).
    poll_seconds: int = Field(default=60, ge=0, le=3600)


class InspectorConfig(Model):
    """The opt-in hub rule that turns Amazon Inspector findings into emergency requests (README, "Emergency patching").

    Off by default: with ``enabled: true`` every ACTIVE EC2 package-vulnerability finding of the delegated
    administrator's view, at or above ``minimumSeverity`` and with a fix available, starts (once per vulnerability
    and instance while one is pending) an approved-as-configured emergency wave for exactly that instance."""

    enabled: bool = False
    minimum_severity: Literal["LOW", "MEDIUM", "HIGH", "CRITICAL"] = "CRITICAL"
    reboot_option: Literal["RebootIfNeeded", "NoReboot"] = "RebootIfNeeded"


class EventsConfig(Model):
    """Patch events in the hub: the lake's copy of every forwarded event and the failure alerts."""

    #: Subscribed to the alert topic by email (each confirms once); chat tools subscribe by their own endpoints.
    alert_emails: list[Email] = Field(default_factory=list)
    #: Days the events bucket keeps an event (the daily snapshot keeps its own retention).
    retention_days: int = Field(default=400, ge=30, le=3650)
    #: Days a failure's execution id is remembered, so a late redelivery is not alerted again.
    dedupe_days: int = Field(default=14, ge=1, le=365)


class CatalogConfig(Model):
    """The self-service "Patching maintenance window" Service Catalog product."""

    share_with_organization: bool = True
    share_with_ous: list[OuId] = Field(default_factory=list)
    principal_role_names: list[RoleName] = Field(default_factory=lambda: ["OrganizationAccountAccessRole"])


class BootstrapConfig(Model):
    """The StackSet that creates the child deploy role (``naming.CHILD_DEPLOY_ROLE``) in every
    member account of ``targets``, trusted only by ``deployPrincipalArn`` within the organization.

    ``callAs``: ``SELF`` when the central stack runs in the management account,
    ``DELEGATED_ADMIN`` when it runs in a StackSets delegated administrator (docs/enrollment.md).
    """

    enabled: bool = True
    #: The role in the central account that runs ``pulumi up -s child`` (e.g. the GitHub OIDC role).
    deploy_principal_arn: RoleArn | None = None
    #: OU ids or the root id (``r-xxxx``); accounts that join them later get the role automatically.
    targets: list[OuId] = Field(default_factory=list)
    call_as: Literal["SELF", "DELEGATED_ADMIN"] = "DELEGATED_ADMIN"

    @field_validator("targets")
    @classmethod
    def _unique_targets(cls, values: list[str]) -> list[str]:
        return unique(values, "target")

    def problem(self) -> tuple[str, str] | None:
        """(key, message) when enabled but incomplete. Checked by ``CentralConfig``, so an omitted
        section (enabled by default) is reported under ``bootstrap.<key>`` too."""
        if self.enabled and self.deploy_principal_arn is None:
            return "deployPrincipalArn", "is required while bootstrap is enabled (or set bootstrap.enabled: false)"
        if self.enabled and not self.targets:
            return "targets", "needs at least one OU or root id while bootstrap is enabled"
        return None


# --------------------------------------------------------------------------- child


class AccountConfig(Model):
    id: AccountId
    name: str = Field(min_length=1, max_length=50)
    regions: list[Region] | None = None

    @field_validator("regions")
    @classmethod
    def _unique_regions(cls, values: list[str] | None) -> list[str] | None:
        if values is not None:
            if not values:
                raise ValueError("an account's region list cannot be empty (omit it to use org-patching:regions)")
            unique(values, "region")
        return values


class DiscoveryConfig(Model):
    """Discover child accounts from AWS Organizations at preview time."""

    ous: list[OuId] = Field(min_length=1)
    exclude: list[AccountId] = Field(default_factory=list)


class StackConfig(Model):
    """Keys both stacks share."""

    stack: Literal["central", "child"]
    org_id: OrgId
    central_account_id: AccountId
    home_region: Region
    tags: dict[str, str] = Field(default_factory=dict)
    patching: PatchingConfig = Field(default_factory=PatchingConfig)


class CentralConfig(StackConfig):
    stack: Literal["central"]
    compliance: ComplianceConfig = Field(default_factory=ComplianceConfig)
    emergency: EmergencyConfig = Field(default_factory=EmergencyConfig)
    catalog: CatalogConfig = Field(default_factory=CatalogConfig)
    events: EventsConfig = Field(default_factory=EventsConfig)
    inspector: InspectorConfig = Field(default_factory=InspectorConfig)
    notices: NoticesConfig = Field(default_factory=NoticesConfig)
    #: The organization's change freezes (the hub's Change Calendar, ``components/config_freeze.py``).
    change_freeze: ChangeFreezeConfig = Field(default_factory=ChangeFreezeConfig)
    #: Enabled by default, so ``deployPrincipalArn`` and ``targets`` are required unless turned off.
    bootstrap: BootstrapConfig = Field(default_factory=BootstrapConfig)
    #: Regions the child stacks patch: the emergency rollout and catalog default to them.
    regions: list[Region] = Field(default_factory=list)
    #: Child account ids, for Athena partition projection over the compliance data (an
    #: account missing here is stored but not queried until it is added). Empty with ``discover``:
    #: the list is then found in AWS Organizations at preview time (``components/stacks/central_accounts.py``).
    accounts: list[AccountId] = Field(default_factory=list)
    #: Find the accounts in AWS Organizations, exactly as a child stack does (``components/stacks/accounts.py``).
    discover: DiscoveryConfig | None = None
    #: Account id -> name, shown by the report (``accountNames`` output). Overrides the names Organizations
    #: gives discovered accounts; names listed accounts.
    account_names: dict[AccountId, str] = Field(default_factory=dict)
    #: Which child stack (shard) enrolls which account: stack name -> account ids. Empty: every
    #: account is in the one stack ``child``. Exported as ``accountStacks`` (account -> stack), so
    #: an app team finds its shard through the central stack. The rule is explicit on purpose:
    #: adding an account never moves another (docs/child-stack.md, "Shards").
    child_stacks: dict[StackName, list[AccountId]] = Field(default_factory=dict)

    @field_validator("regions")
    @classmethod
    def _unique_regions(cls, values: list[str]) -> list[str]:
        return unique(values, "region")

    @field_validator("accounts")
    @classmethod
    def _unique_accounts(cls, values: list[str]) -> list[str]:
        return unique(values, "account")

    @field_validator("account_names")
    @classmethod
    def _names_fit(cls, values: dict[str, str]) -> dict[str, str]:
        for account, name in values.items():
            if not name.strip() or len(name) > 50:
                raise ValueError(f"the name of {account} must be 1-50 characters")
        return values

    @model_validator(mode="after")
    def _accounts_or_discovery(self) -> CentralConfig:
        if not self.accounts and self.discover is None:
            raise PathError(("accounts",), "is required (or set org-patching:discover to find accounts)")
        if self.accounts and self.discover is not None:
            raise PathError(("discover",), "set either org-patching:accounts or org-patching:discover, not both")
        for index, account in enumerate(self.accounts):
            if account == self.central_account_id:
                raise PathError(("accounts", index), f"{account!r} is the central account; it is never a child")
        strangers = [a for a in self.account_names if self.discover is None and a not in self.accounts]
        if strangers:
            raise PathError(("accountNames",), f"account {strangers[0]} is not in org-patching:accounts")
        return self

    @model_validator(mode="after")
    def _every_account_in_one_shard(self) -> CentralConfig:
        if self.discover is not None:
            # Discovered accounts are not known yet: central_accounts.resolve_central places them
            # (listed placements kept, new accounts by the stable hash) and checks the result.
            return self
        seen: dict[str, str] = {}
        for stack, accounts in self.child_stacks.items():
            for account in accounts:
                if account not in self.accounts:
                    raise PathError(("childStacks", stack), f"account {account} is not in org-patching:accounts")
                if account in seen:
                    raise PathError(
                        ("childStacks", stack), f"account {account} is already in child stack {seen[account]!r}"
                    )
                seen[account] = stack
        missing = [a for a in self.accounts if self.child_stacks and a not in seen]
        if missing:
            raise PathError(("childStacks",), f"account(s) {', '.join(missing)} are in no child stack")
        return self

    def account_stacks(self) -> dict[str, str]:
        """Account id -> the child stack that enrolls it (the ``accountStacks`` output)."""
        if not self.child_stacks:
            return {account: DEFAULT_CHILD_STACK for account in self.accounts}
        return {account: stack for stack, accounts in self.child_stacks.items() for account in accounts}

    @model_validator(mode="after")
    def _bootstrap_complete(self) -> CentralConfig:
        problem = self.bootstrap.problem()
        if problem:
            raise PathError(("bootstrap", problem[0]), problem[1])
        return self


class ChildConfig(StackConfig):
    stack: Literal["child"]
    #: Fully qualified name of the central stack (``org/org-patching/central``).
    hub_stack: str = Field(min_length=1)
    accounts: list[AccountConfig] | None = None
    regions: list[Region] = Field(min_length=1)
    discover: DiscoveryConfig | None = None
    #: The role the hub's bootstrap StackSet creates; ``OrganizationAccountAccessRole`` only
    #: works when the child stack runs with management-account credentials.
    deploy_role_name: RoleName = CHILD_DEPLOY_ROLE
    external_id: str | None = Field(default=None, min_length=2, max_length=1224)

    @field_validator("regions")
    @classmethod
    def _unique_regions(cls, values: list[str]) -> list[str]:
        return unique(values, "region")

    @field_validator("accounts")
    @classmethod
    def _unique_accounts(cls, values: list[AccountConfig] | None) -> list[AccountConfig] | None:
        if values is not None:
            if not values:
                raise ValueError("the account list is empty: list at least one account or use org-patching:discover")
            unique([a.id for a in values], "account")
        return values

    @model_validator(mode="after")
    def _accounts_or_discovery(self) -> ChildConfig:
        if self.accounts is None and self.discover is None:
            raise PathError(("accounts",), "is required (or set org-patching:discover to find accounts)")
        if self.accounts is not None and self.discover is not None:
            raise PathError(("discover",), "set either org-patching:accounts or org-patching:discover, not both")
        for index, account in enumerate(self.accounts or []):
            if account.id == self.central_account_id:
                raise PathError(
                    ("accounts", index, "id"), f"{account.id!r} is the central account; it is never a child"
                )
        if self.discover and self.central_account_id in self.discover.exclude:
            pass  # harmless: the central account is excluded anyway
        return self

    def regions_of(self, account: AccountConfig) -> list[str]:
        """An account's regions: its own list, else the stack's."""
        return list(account.regions or self.regions)


def decode_value(value: Any) -> Any:
    """The engine hands structured config over as JSON text; YAML files as objects."""
    if isinstance(value, str) and value[:1] in ("{", "["):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


def parse_config(raw: Mapping[str, Any], source: str | None = None) -> CentralConfig | ChildConfig:
    """Validate a flat ``{"org-patching:key": value}`` mapping (other namespaces ignored)."""
    values: dict[str, Any] = {}
    for full_key, value in raw.items():
        namespace, _, key = str(full_key).partition(":")  # YAML keys may be numbers or null
        if namespace == NAMESPACE:
            values[key] = decode_value(value)
    stack = values.get("stack")
    if stack not in ("central", "child"):
        if stack is None:
            known = {*keys_at(CentralConfig, ()), *keys_at(ChildConfig, ())}
            misspelled = next((k for k in values if k not in known and closest_key(k, ["stack"])), None)
            if misspelled:
                raise ConfigError(f"{NAMESPACE}:{misspelled}", unknown_key_message(misspelled, ["stack"]), source)
            raise ConfigError(f"{NAMESPACE}:stack", "is required: 'central' or 'child'", source)
        raise ConfigError(f"{NAMESPACE}:stack", f"must be 'central' or 'child' (got {stack!r})", source)
    model = CentralConfig if stack == "central" else ChildConfig
    try:
        return model.model_validate(values)
    except ValidationError as error:
        raise ConfigError(*describe_validation_error(error, NAMESPACE, model), source) from None


def load_stack_file(path: str | Path, notes: list[str] | None = None) -> CentralConfig | ChildConfig:
    """Read ``Pulumi.<stack>.yaml`` (its ``config:`` section) and validate it.

    ``notes`` receives one line per value the offline reading replaced (secrets, ESC imports).
    """
    file = Path(path)
    document = read_yaml(file) or {}
    if not isinstance(document, dict) or not isinstance(document.get("config", {}), dict):
        raise ConfigError("config", "the file must have a 'config:' mapping", str(file))
    raw = offline_config(document, notes if notes is not None else [])
    try:
        return parse_config(raw, source=str(file))
    except ConfigError as error:
        raise secret_hint(error, document) from None


def load_from_engine() -> CentralConfig | ChildConfig:
    """The configuration of the stack being deployed (inside ``pulumi up``/``preview``)."""
    import pulumi.runtime.config as runtime_config

    raw = dict(runtime_config.get_config_env())
    raw.update(runtime_config.CONFIG.get())
    return parse_config(raw, source="stack config")
