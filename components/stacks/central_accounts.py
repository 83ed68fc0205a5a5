"""The central stack's account list: the configured one, else the one AWS Organizations holds.

The central stack needs the accounts for Athena's partition projection (an account missing there is
stored but never queried), for sharing the emergency runbooks, for the shard map (``accountStacks``)
and for the names the report shows (``accountNames``). Typed by hand, that list drifts from the child
shards; with ``org-patching:discover`` the central stack finds it exactly as a child stack does
(:func:`.accounts.discover_accounts`: same OUs, same exclusions, same one-line errors), so an account
that joins a discovered OU is covered at the central stack's next ``up``.

Config stays the override: ``accounts`` (instead of ``discover``) fixes the list, ``accountNames`` fixes
a name, ``childStacks`` pins a placement. A discovered account no shard lists is placed by the stable
hash of :mod:`.shards`, so discovering more accounts never moves one already placed.
"""

from __future__ import annotations

from typing import Any

from ..config import NAMESPACE, CentralConfig
from ..errors import DiscoveryError
from .accounts import discover_accounts
from .shards import assign_shards


def resolve_central(cfg: CentralConfig, client: Any = None) -> CentralConfig:
    """``cfg`` with ``accounts``, ``accountNames`` and ``childStacks`` filled from Organizations when it
    discovers; unchanged otherwise. Runs before any resource is declared (an error declares nothing)."""
    if cfg.discover is None:
        return cfg
    found = discover_accounts(cfg, client)
    ids = [account.id for account in found]
    strangers = sorted(set(cfg.account_names) - set(ids))
    if strangers:
        raise DiscoveryError(
            f"{NAMESPACE}:accountNames: {', '.join(strangers)} not found under "
            f"{', '.join(cfg.discover.ous)} (or excluded): remove the name or fix the id"
        )
    names = {account.id: account.name for account in found} | dict(cfg.account_names)
    stacks = dict(cfg.child_stacks)
    if stacks:
        stacks = {shard: members for shard, members in assign_shards(ids, list(stacks), stacks).items() if members}
    return cfg.model_copy(update={"accounts": ids, "account_names": names, "child_stacks": stacks})
