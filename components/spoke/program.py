"""The child stack: spokes in every child account and region, through one provider per account.

* Accounts come from config or from AWS Organizations (:mod:`.accounts`), decided before any
  resource is declared, so a discovery error leaves nothing half-declared.
* One ``aws.Provider`` per account, named by the account id (renaming a provider replaces
  everything under it), assuming the deploy role there, pinned with ``allowed_account_ids``;
  regions are per resource (``region=``, pulumi-aws 7), so providers grow with accounts only.
* The hub's outputs come through a ``StackReference`` to ``org-patching:hubStack``.
* Outputs for app teams: ``schemas/child-outputs.schema.json`` (``outputsVersion``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from .. import naming
from ..config import AccountConfig, ChildConfig
from ..contract import DEFAULT_WINDOW, contract_summary
from ..partitions import partition_of
from ..runbooks import load_runbooks
from .account_baseline import AccountBaseline, AccountBaselineArgs, HubData
from .accounts import child_accounts
from .regional_spoke import RegionalSpoke, RegionalSpokeArgs, RoleArns

#: Version of the child stack's output contract (``schemas/child-outputs.schema.json``).
OUTPUTS_VERSION = "1.0"
MANAGED_BY_TAGS = {"managed-by": "org-patching"}
#: Tags SSM Quick Setup adds to resources it touches; ignored so they never show as drift.
IGNORED_TAG_PREFIXES = ["QSConfigName-", "QSConfigId-"]
SESSION_NAME = "org-patching-child-stack"


@dataclass
class AccountSpokes:
    """What the child stack built in one account."""

    account: AccountConfig
    provider: aws.Provider
    baseline: AccountBaseline
    home_region: str
    regions: dict[str, RegionalSpoke]


def account_provider(cfg: ChildConfig, account_id: str) -> aws.Provider:
    """The provider of one child account: assumes the deploy role there and refuses any other
    account, so wrong credentials fail at preview instead of deploying somewhere else."""
    partition = partition_of(cfg.home_region)
    return aws.Provider(
        account_id,
        region=cfg.home_region,
        assume_roles=[
            aws.ProviderAssumeRoleArgs(
                role_arn=f"arn:{partition}:iam::{account_id}:role/{cfg.deploy_role_name}",
                external_id=cfg.external_id,
                session_name=SESSION_NAME,
            )
        ],
        allowed_account_ids=[account_id],
        default_tags=aws.ProviderDefaultTagsArgs(tags={**cfg.tags, **MANAGED_BY_TAGS}),
        ignore_tags=aws.ProviderIgnoreTagsArgs(key_prefixes=IGNORED_TAG_PREFIXES),
    )


def hub_data(cfg: ChildConfig, hub: pulumi.StackReference) -> HubData:
    """The hub outputs the spokes use. The automation administration role is the hub's output
    ``emergency.administrationRoleArn`` when the hub exports it, else its contract name."""
    partition = partition_of(cfg.home_region)
    compliance = hub.require_output("compliance")
    fallback = f"arn:{partition}:iam::{cfg.central_account_id}:role/{naming.AUTOMATION_ADMINISTRATION_ROLE}"
    emergency = hub.get_output("emergency")

    def administration_role(section: Any) -> str:
        if isinstance(section, dict) and isinstance(section.get("administrationRoleArn"), str):
            return str(section["administrationRoleArn"])
        return fallback

    return HubData(
        key_arn=compliance.apply(lambda c: str(c["keyArn"])),
        inventory_bucket=compliance.apply(lambda c: str(c["inventoryBucket"])),
        inventory_prefix=compliance.apply(lambda c: str(c.get("inventoryPrefix") or "inventory")),
        patch_log_bucket=compliance.apply(lambda c: str(c["patchLogBucket"])),
        patch_list_bucket=compliance.apply(lambda c: str(c["patchListBucket"])),
        region=cfg.home_region,
        administration_role_arn=emergency.apply(administration_role),
    )


def home_region_of(cfg: ChildConfig, regions: list[str]) -> str:
    """Where an account's own functions run: the stack's home region if the account is patched
    there, else its first region."""
    return cfg.home_region if cfg.home_region in regions else regions[0]


def build_spokes(cfg: ChildConfig) -> dict[str, AccountSpokes]:
    accounts = child_accounts(cfg)  # before any resource: a discovery error declares nothing
    runbooks = load_runbooks()
    hub = pulumi.StackReference(cfg.hub_stack)
    data = hub_data(cfg, hub)
    built: dict[str, AccountSpokes] = {}
    for account in accounts:
        regions = cfg.regions_of(account)
        home = home_region_of(cfg, regions)
        provider = account_provider(cfg, account.id)
        opts = pulumi.ResourceOptions(provider=provider)
        partition = partition_of(home)
        baseline = AccountBaseline(
            f"{account.id}",
            AccountBaselineArgs(
                account_id=account.id, org_id=cfg.org_id, partition=partition, home_region=home, hub=data
            ),
            opts=opts,
        )
        roles = RoleArns(
            automation_execution=baseline.automation_execution_role.arn,
            maintenance_window=baseline.maintenance_window_role.arn,
            tag_remediation=baseline.tag_remediation_role.arn,
            window_tagging=baseline.window_tagging_role.arn,
            override_list=baseline.override_list_role.arn,
            event_forwarding=baseline.event_forwarding_role.arn,
        )
        spokes: dict[str, RegionalSpoke] = {}
        for region in regions:
            spokes[region] = RegionalSpoke(
                f"{account.id}-{region}",
                RegionalSpokeArgs(
                    account_id=account.id,
                    region=region,
                    partition=partition_of(region),
                    patching=cfg.patching,
                    hub=data,
                    roles=roles,
                    home_region=home,
                    account_regions=regions,
                    runbooks=runbooks,
                ),
                # No depends_on on the baseline: every use of a role goes through its ARN (an
                # Output), so Pulumi orders each resource after exactly the role it needs.
                opts=opts,
            )
        built[account.id] = AccountSpokes(account, provider, baseline, home, spokes)
    for key, value in child_outputs(cfg, built).items():
        pulumi.export(key, value)
    return built


def child_outputs(cfg: ChildConfig, built: dict[str, AccountSpokes]) -> dict[str, Any]:
    """The child stack's outputs for app teams (schema: ``schemas/child-outputs.schema.json``)."""
    window = cfg.patching.default_window
    accounts: dict[str, Any] = {}
    for account_id, spokes in built.items():
        regions: dict[str, Any] = {}
        for region, spoke in spokes.regions.items():
            regions[region] = {
                "maintenanceWindows": {
                    DEFAULT_WINDOW: {
                        "id": spoke.window.id,
                        "schedule": window.schedule,
                        "scheduleTimezone": window.schedule_timezone,
                        "durationHours": window.duration_hours,
                        "cutoffHours": window.cutoff_hours,
                        "operation": window.operation,
                        "rebootOption": window.reboot_option,
                    }
                },
                "patchGroups": {group: dict(by_os) for group, by_os in spoke.patch_groups.items()},
                "runbooks": {
                    "standalone": naming.RUNBOOK_STANDALONE,
                    "autoScalingGroups": naming.RUNBOOK_ASG,
                },
                "windowTaggingFunction": naming.WINDOW_TAGGING_FUNCTION,
            }
        accounts[account_id] = {
            "name": spokes.account.name,
            "homeRegion": spokes.home_region,
            "instanceProfile": {
                "name": spokes.baseline.instance_profile.name,
                "arn": spokes.baseline.instance_profile.arn,
            },
            "automationExecutionRoleArn": spokes.baseline.automation_execution_role.arn,
            "regions": regions,
        }
    return {
        "outputsVersion": OUTPUTS_VERSION,
        "orgId": cfg.org_id,
        "centralAccountId": cfg.central_account_id,
        "tagContract": contract_summary(),
        "accounts": accounts,
    }
