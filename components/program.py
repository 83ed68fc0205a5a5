"""The program: which stack to build, from validated config. ``__main__.py`` and ``patchctl``
both call ``build``; nothing here reads the stack's name.
"""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_aws as aws

from .config import CentralConfig, ChildConfig
from .hub.hub import PatchingHub, PatchingHubArgs
from .partitions import partition_of

#: Version of the stack-output contract (``schemas/*.schema.json``). Bump the major on any
#: breaking change: app teams read these through StackReferences.
OUTPUTS_VERSION = "1.1"

MANAGED_BY_TAGS = {"managed-by": "org-patching"}

#: Tags other tools (SSM Quick Setup) add to resources we manage; ignored to avoid drift.
IGNORED_TAG_PREFIXES = ["QSConfigName-", "QSConfigId-"]


def hub_provider(cfg: CentralConfig) -> aws.Provider:
    """The central account's provider: pinned to that account, so running with the wrong
    credentials fails at preview instead of deploying the hub somewhere else."""
    return aws.Provider(
        cfg.central_account_id,
        region=cfg.home_region,
        allowed_account_ids=[cfg.central_account_id],
        default_tags=aws.ProviderDefaultTagsArgs(tags={**cfg.tags, **MANAGED_BY_TAGS}),
        ignore_tags=aws.ProviderIgnoreTagsArgs(key_prefixes=IGNORED_TAG_PREFIXES),
    )


def build_central(cfg: CentralConfig) -> PatchingHub:
    provider = hub_provider(cfg)
    hub = PatchingHub(
        "hub",
        PatchingHubArgs(config=cfg, partition=partition_of(cfg.home_region)),
        opts=pulumi.ResourceOptions(provider=provider),
    )
    for key, value in central_outputs(cfg, hub).items():
        pulumi.export(key, value)
    return hub


def central_outputs(cfg: CentralConfig, hub: PatchingHub) -> dict[str, Any]:
    """The central stack's outputs (schema: ``schemas/central-outputs.schema.json``)."""
    lake = hub.compliance
    outputs: dict[str, Any] = {
        "outputsVersion": OUTPUTS_VERSION,
        "orgId": cfg.org_id,
        "centralAccountId": cfg.central_account_id,
        "homeRegion": cfg.home_region,
        "compliance": {
            "keyArn": lake.key.arn,
            "inventoryBucket": lake.inventory.bucket.bucket,
            "inventoryPrefix": "inventory",
            "patchLogBucket": lake.patch_logs.bucket.bucket,
            "patchListBucket": lake.patch_lists.bucket.bucket,
            "athenaResultsBucket": lake.athena_results.bucket.bucket,
            "glueDatabase": lake.database.name,
            "athenaWorkgroup": lake.workgroup.name,
            "namedQueries": sorted(lake.queries),
        },
    }
    outputs.update(hub.extra_outputs())
    return outputs


def build_child(cfg: ChildConfig) -> Any:
    from .spoke.program import build_spokes

    return build_spokes(cfg)


def build(cfg: CentralConfig | ChildConfig) -> Any:
    if isinstance(cfg, CentralConfig):
        return build_central(cfg)
    return build_child(cfg)
