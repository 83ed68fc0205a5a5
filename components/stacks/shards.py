"""Which child stack (shard) enrolls an account, by a rule that never moves an account once placed.

``assign_shards`` keeps every account where the persisted assignment (``org-patching:childStacks`` of the
central stack) already has it, and places each new account by a stable hash of its id (sha256 mod the
number of shards): the result for an account depends on nothing but its id and the shard list, so adding
accounts never moves existing ones. Moving one on purpose is a ``pulumi state move`` of its top-level
resources (:func:`account_urns`; ``patchctl shards move`` prints the commands), never a destroy and
recreate.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence

PROJECT = "org-patching"


def hash_shard(account_id: str, shards: Sequence[str]) -> str:
    """The shard a new account goes to: sha256 of its id, mod the number of shards."""
    if not shards:
        raise ValueError("at least one child stack is needed")
    digest = int.from_bytes(hashlib.sha256(account_id.encode()).digest()[:8], "big")
    return shards[digest % len(shards)]


def assign_shards(
    accounts: Iterable[str], shards: Sequence[str], current: Mapping[str, Sequence[str]]
) -> dict[str, list[str]]:
    """Shard -> accounts: ``current`` placements kept, new accounts by :func:`hash_shard`."""
    placed = {account: shard for shard, members in current.items() for account in members}
    result: dict[str, list[str]] = {shard: [] for shard in shards}
    for shard in current:
        result.setdefault(shard, [])
    for account in sorted(set(accounts)):
        result[placed.get(account) or hash_shard(account, shards)].append(account)
    return result


def account_urns(stack: str, account_id: str, regions: Sequence[str], project: str = PROJECT) -> list[str]:
    """The top-level resources of one account in a child stack: its provider and its components
    (``pulumi state move`` moves their children with them)."""
    prefix = f"urn:pulumi:{stack}::{project}::"
    urns = [
        f"{prefix}pulumi:providers:aws::{account_id}",
        f"{prefix}org-patching:spoke:AccountBaseline::{account_id}",
        *(f"{prefix}org-patching:spoke:RegionalSpoke::{account_id}-{region}" for region in regions),
        f"{prefix}org-patching:spoke:HostManagement::{account_id}-host-management",
        f"{prefix}org-patching:spoke:PatchEventForwarding::{account_id}-patch-events",
        f"{prefix}org-patching:spoke:NoticeReader::{account_id}-notice-reader",
        f"{prefix}org-patching:spoke:FunctionsAlarm::{account_id}-functions-alarm",
    ]
    return urns
