"""The central stack: the hub in the central (delegated administrator) account's home region."""

from __future__ import annotations

import pulumi

from ..config import CentralConfig
from ..hub.hub import PatchingHub, PatchingHubArgs
from ..partitions import partition_of
from .providers import account_provider


def build_central(cfg: CentralConfig) -> PatchingHub:
    """Declare the hub on the central account's provider (its outputs: :mod:`.outputs`)."""
    provider = account_provider(cfg.central_account_id, cfg.home_region, cfg.tags)
    return PatchingHub(
        "hub",
        PatchingHubArgs(config=cfg, partition=partition_of(cfg.home_region)),
        opts=pulumi.ResourceOptions(provider=provider),
    )
