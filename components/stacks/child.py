"""The child stack: spokes in every child account and region, through one provider per account.

* Accounts come from config or from AWS Organizations (:mod:`.accounts`), decided before any
  resource is declared, so a discovery error leaves nothing half-declared.
* One provider per account (:func:`.providers.account_provider`) assuming the deploy role there.
* The hub's outputs come through a ``StackReference`` to ``org-patching:hubStack``.
* Each component gets the part of the config it needs (``RegionalSpoke``: the patching
  sub-config), never the whole ``ChildConfig``.
* Outputs for app teams: :func:`.outputs.child_outputs`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from .. import naming
from ..config import AccountConfig, ChildConfig
from ..partitions import partition_of
from ..runbooks import runbook_sources
from ..spoke.account_baseline import AccountBaseline, AccountBaselineArgs
from ..spoke.baseline_override import uses_override
from ..spoke.event_forwarding import PatchEventForwarding, PatchEventForwardingArgs
from ..spoke.functions_alarm import FunctionsAlarm, FunctionsAlarmArgs
from ..spoke.host_management import HostManagement, HostManagementArgs
from ..spoke.hub_data import HubData
from ..spoke.notice_reader import NoticeReader, NoticeReaderArgs
from ..spoke.regional_spoke import RegionalSpoke, RegionalSpokeArgs
from .accounts import child_accounts
from .baseline_file import declare_baseline_file
from .hub_regions import checked_region
from .providers import DeployRole, account_provider


@dataclass
class AccountSpokes:
    """What the child stack built in one account."""

    account: AccountConfig
    provider: aws.Provider
    baseline: AccountBaseline
    home_region: str
    regions: dict[str, RegionalSpoke]


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
        inventory_prefix=compliance.apply(lambda c: str(c.get("inventoryPrefix") or naming.INVENTORY_PREFIX)),
        patch_log_bucket=compliance.apply(lambda c: str(c["patchLogBucket"])),
        patch_list_bucket=compliance.apply(lambda c: str(c["patchListBucket"])),
        # where the hub's buckets are: the central stack's own home region (a child stack may live
        # elsewhere); resource data sync writes cross-region to it
        region=hub.require_output("homeRegion").apply(str),
        administration_role_arn=emergency.apply(administration_role),
        account_id=cfg.central_account_id,
        # every Region's copy of the hub's change calendar (the automation role reads the one of its Region)
        change_calendar_arn=naming.change_calendar_arn(partition, "*", cfg.central_account_id),
    )


def home_region_of(cfg: ChildConfig, regions: list[str]) -> str:
    """Where an account's own functions run: the stack's home region if the account is patched
    there, else its first region."""
    return cfg.home_region if cfg.home_region in regions else regions[0]


def deploy_role(cfg: ChildConfig, account_id: str) -> DeployRole:
    """The deploy role of one child account (``org-patching:deployRoleName``/``externalId``)."""
    partition = partition_of(cfg.home_region)
    return DeployRole(
        role_arn=f"arn:{partition}:iam::{account_id}:role/{cfg.deploy_role_name}", external_id=cfg.external_id
    )


def build_child(cfg: ChildConfig) -> dict[str, AccountSpokes]:
    """Declare every account's baseline and regional spokes (outputs: :mod:`.outputs`)."""
    accounts = child_accounts(cfg)  # before any resource: a discovery error declares nothing
    runbooks = runbook_sources()  # the declared parameters of the hub's copies (the hub renders them)
    hub = pulumi.StackReference(cfg.hub_stack)
    data = hub_data(cfg, hub)
    # every provider of the stack waits for the hub's Regions to include the child's (one line if not)
    provider_region = checked_region(cfg, hub)
    # The org's baselines: one file in the hub (unless staged approval keeps them in the accounts). The default
    # window passes it to the hub's shared runbooks; the automation execution role carries it as a tag, which the
    # runbooks read when a window (a team's) passes none (components/runbooks/baseline_choice.py).
    override = declare_baseline_file(cfg, data, provider_region) if uses_override(cfg.patching) else None
    built: dict[str, AccountSpokes] = {}
    for account in accounts:
        regions = cfg.regions_of(account)
        home = home_region_of(cfg, regions)
        provider = account_provider(account.id, provider_region, cfg.tags, deploy_role(cfg, account.id))
        opts = pulumi.ResourceOptions(provider=provider)
        baseline = AccountBaseline(
            f"{account.id}",
            AccountBaselineArgs(
                account_id=account.id,
                org_id=cfg.org_id,
                partition=partition_of(home),
                home_region=home,
                hub=data,
                baseline_override=override,
                default_host_management=cfg.patching.default_host_management.enabled,
                instance_profiles=cfg.patching.instance_profiles,
            ),
            opts=opts,
        )
        roles = baseline.role_arns()
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
                    baseline_override=override,
                ),
                # No depends_on on the baseline: every use of a role goes through its ARN (an
                # Output), so Pulumi orders each resource after exactly the role it needs.
                opts=opts,
            )
        # The daily scan and DHMC (components/spoke/host_management.py), beside the spokes.
        HostManagement(
            f"{account.id}-host-management",
            HostManagementArgs(
                account_id=account.id,
                partition=partition_of(home),
                regions=regions,
                patching=cfg.patching,
                baseline_override=override,
                instance_role=baseline.instance_role_ready(),
            ),
            opts=opts,
        )
        PatchEventForwarding(
            f"{account.id}-patch-events",
            PatchEventForwardingArgs(
                account.id, partition_of(home), regions, cfg.central_account_id, data.region, roles.event_forwarding
            ),
            opts=opts,
        )
        # Issue 16: the hub's notices read the windows through this role; one alarm over the account's functions.
        NoticeReader(
            f"{account.id}-notice-reader",
            NoticeReaderArgs(account.id, cfg.org_id, partition_of(home), cfg.central_account_id),
            opts=opts,
        )
        FunctionsAlarm(f"{account.id}-functions-alarm", FunctionsAlarmArgs(home), opts=opts)
        built[account.id] = AccountSpokes(account, provider, baseline, home, spokes)
    return built
