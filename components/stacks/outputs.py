"""The stacks' outputs: one versioned document per stack, assembled from the sections the
components own (``PatchingHub.outputs()``, ``AccountBaseline.outputs()``,
``RegionalSpoke.outputs()``).

The documents are an API: app teams read them through StackReferences, and the JSON Schemas
``schemas/central-outputs.schema.json`` and ``schemas/child-outputs.schema.json`` check them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pulumi

from ..config import CentralConfig, ChildConfig
from ..contract import contract_summary
from ..hub.hub import PatchingHub
from .child import AccountSpokes

#: Versions of the stacks' output contracts. Bump the major on any breaking change, the minor
#: when a key is added (1.1: the central stack's ``bootstrap`` and ``accountStacks``; 1.2: ``events``;
#: 1.3: ``accountNames``; 1.4: ``notices``; 1.5: ``regions``, which the child stack checks its own against).
CENTRAL_OUTPUTS_VERSION = "1.5"
#: 1.1: a patch group's baseline may be the hub's BaselineOverride file (s3://...) instead of a pb- id.
#: 1.2: ``runbooks`` are the ARNs of the hub's shared copies in the Region (a window task's TaskArn and
#: StartAutomationExecution's DocumentName take a name or an ARN alike, so a program passing them on still works).
CHILD_OUTPUTS_VERSION = "1.2"


def central_outputs(cfg: CentralConfig, hub: PatchingHub) -> dict[str, Any]:
    """The central stack's outputs (schema: ``schemas/central-outputs.schema.json``)."""
    return {
        "outputsVersion": CENTRAL_OUTPUTS_VERSION,
        "orgId": cfg.org_id,
        "centralAccountId": cfg.central_account_id,
        "homeRegion": cfg.home_region,
        # where the hub shares its runbooks (its home Region and org-patching:regions, as EmergencyPatching copies
        # them): a child stack fails on any other Region (components/stacks/hub_regions.py)
        "regions": [cfg.home_region, *[region for region in cfg.regions if region != cfg.home_region]],
        # account -> the child stack (shard) that enrolls it: app teams reference the right shard
        "accountStacks": cfg.account_stacks(),
        # account -> name (Organizations' for discovered accounts, overridden by org-patching:accountNames):
        # `patchctl report --accounts` reads this document, so the report names accounts
        "accountNames": {
            account: cfg.account_names[account] for account in cfg.accounts if account in cfg.account_names
        },
        **hub.outputs(),
    }


def child_outputs(cfg: ChildConfig, built: Mapping[str, AccountSpokes]) -> dict[str, Any]:
    """The child stack's outputs for app teams (schema: ``schemas/child-outputs.schema.json``)."""
    accounts = {
        account_id: {
            "name": spokes.account.name,
            "homeRegion": spokes.home_region,
            **spokes.baseline.outputs(),
            "regions": {region: spoke.outputs() for region, spoke in spokes.regions.items()},
        }
        for account_id, spokes in built.items()
    }
    return {
        "outputsVersion": CHILD_OUTPUTS_VERSION,
        "orgId": cfg.org_id,
        "centralAccountId": cfg.central_account_id,
        "tagContract": contract_summary(),
        "accounts": accounts,
    }


def export(outputs: Mapping[str, Any]) -> None:
    """Every top-level key of a stack's document becomes one stack output."""
    for key, value in outputs.items():
        pulumi.export(key, value)
