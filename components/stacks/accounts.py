"""Which child accounts a stack covers: from config, or found in AWS Organizations.

Both stacks discover the same way: the child stack to declare its spokes, the central stack
(:mod:`.central_accounts`) to name the accounts and project their compliance data.

Discovery runs at preview time (the program needs the list to declare providers), with the
deploying credentials, which must be able to read Organizations (the management account or a
delegated administrator). Deciding is pure (:func:`select_accounts`); reading is a thin boto3
adapter (:func:`list_ou_accounts`) that pages every call and walks nested OUs. Any failure is
one :class:`~components.errors.DiscoveryError` line naming the OU and AWS's error code.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from ..config import AccountConfig, CentralConfig, ChildConfig
from ..errors import DiscoveryError

#: An account name in config is 1-50 characters; Organizations allows longer names.
_MAX_NAME = 50


@dataclass(frozen=True)
class OrgAccount:
    """An account as Organizations lists it (only what the decision needs)."""

    id: str
    name: str
    status: str


def select_accounts(found: Iterable[OrgAccount], central_account_id: str, exclude: Iterable[str]) -> list[OrgAccount]:
    """ACTIVE accounts, without the central account and the excluded ones, each once, sorted by id.

    Sorted so the program declares providers in a stable order (previews diff cleanly); an
    account found under two listed OUs (an OU and its parent) is kept once.
    """
    skip = {central_account_id, *exclude}
    chosen: dict[str, OrgAccount] = {}
    for account in found:
        if account.status != "ACTIVE" or account.id in skip:
            continue
        chosen.setdefault(account.id, account)
    return [chosen[key] for key in sorted(chosen)]


def _config_name(name: str, account_id: str) -> str:
    """A name that fits the config model (names are labels in outputs, never identifiers)."""
    cleaned = re.sub(r"\s+", " ", name).strip()[:_MAX_NAME]
    return cleaned or account_id


def list_ou_accounts(client: Any, parent_id: str) -> Iterator[OrgAccount]:
    """Every account under ``parent_id`` (an OU or the root), nested OUs included, paged."""
    accounts = client.get_paginator("list_accounts_for_parent")
    children = client.get_paginator("list_children")
    pending = [parent_id]
    while pending:
        parent = pending.pop()
        for page in accounts.paginate(ParentId=parent):
            for item in page.get("Accounts", []):
                # "State" replaces "Status" in the Organizations API (2025); accept either.
                status = item.get("State") or item.get("Status") or ""
                yield OrgAccount(id=item["Id"], name=item.get("Name") or item["Id"], status=str(status).upper())
        for page in children.paginate(ParentId=parent, ChildType="ORGANIZATIONAL_UNIT"):
            pending.extend(child["Id"] for child in page.get("Children", []))


def discover_accounts(cfg: ChildConfig | CentralConfig, client: Any = None) -> list[AccountConfig]:
    """The child accounts under ``cfg.discover.ous``, as config entries (stack regions apply)."""
    if cfg.discover is None:
        raise DiscoveryError("org-patching:discover is not set: nothing to discover")
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    found: list[OrgAccount] = []
    for ou in cfg.discover.ous:
        try:
            organizations = client or boto3.client("organizations")
            found.extend(list_ou_accounts(organizations, ou))
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "Unknown")
            message = error.response.get("Error", {}).get("Message", "")
            raise DiscoveryError(f"AWS Organizations: cannot list accounts under {ou}: {code}: {message}") from None
        except BotoCoreError as error:
            raise DiscoveryError(f"AWS Organizations: cannot list accounts under {ou}: {error}") from None
    selected = select_accounts(found, cfg.central_account_id, cfg.discover.exclude)
    if not selected:
        raise DiscoveryError(
            f"org-patching:discover: no ACTIVE child account under {', '.join(cfg.discover.ous)} "
            "(after excluding the central account and org-patching:discover.exclude)"
        )
    return [AccountConfig(id=a.id, name=_config_name(a.name, a.id)) for a in selected]


def child_accounts(cfg: ChildConfig, client: Any = None) -> list[AccountConfig]:
    """The accounts of this stack: the configured list, else the discovered one."""
    if cfg.accounts is not None:
        return list(cfg.accounts)
    return discover_accounts(cfg, client)
