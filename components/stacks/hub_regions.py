"""A child stack patches only Regions where the hub shares its runbooks.

A child window runs the hub's copy of each runbook in the window's own Region, by ARN
(``components/shared_runbooks.py``); the central stack makes a copy only in its home Region and its
``org-patching:regions``. A child Region missing there deploys cleanly and then fails at the first
window ("document not found"). The central stack exports those Regions as ``regions`` (outputs 1.5),
and the child stack checks its own against them:

* offline (``patchctl preview``, the tests): the hub's outputs are known before the render, so
  :func:`check_hub_regions` refuses the config with one line before anything is declared;
* in the program (``pulumi preview``/``up``): the StackReference's ``regions`` goes through
  :func:`checked_region`, an Output every child account's provider takes its Region from, so the
  same line fails the run (a ``pulumi.RunError``, which the Pulumi language host prints as the one
  line, without a trace) before any resource in a child account is created.

A hub older than 1.5 exports no ``regions``: nothing to check against, so nothing is checked.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pulumi

from ..config import ChildConfig
from ..errors import ConfigError


class HubRegionsError(ConfigError, pulumi.RunError):
    """A child Region the hub does not share its runbooks in (one line: the key, the Regions, the fix)."""


def region_problem(cfg: ChildConfig, hub_regions: Sequence[str]) -> HubRegionsError | None:
    """The first config key naming a Region outside ``hub_regions``, as an error; ``None`` when all are inside."""
    places: list[tuple[str, list[str]]] = []
    accounts = cfg.accounts or []
    if not accounts or any(not account.regions for account in accounts):
        places.append(("org-patching:regions", list(cfg.regions)))
    places += [
        (f"org-patching:accounts[{index}].regions", list(account.regions))
        for index, account in enumerate(accounts)
        if account.regions
    ]
    for key, regions in places:
        missing = [region for region in regions if region not in hub_regions]
        if missing:
            verb = "is" if len(missing) == 1 else "are"
            return HubRegionsError(
                key,
                f"{', '.join(missing)} {verb} not in the central stack's regions ({', '.join(hub_regions)}), so the "
                "hub shares no runbooks there: add them to the central stack's org-patching:regions and run "
                "`pulumi up -s central` first",
            )
    return None


def hub_regions_of(hub_outputs: Any) -> list[str] | None:
    """The central stack's ``regions`` output, or ``None`` when it exports none (a hub before outputs 1.5)."""
    regions = hub_outputs.get("regions") if isinstance(hub_outputs, dict) else None
    return [str(region) for region in regions] if isinstance(regions, list) else None


def check_hub_regions(cfg: ChildConfig, hub_outputs: Any) -> None:
    """Raise :class:`HubRegionsError` when the known hub outputs leave out a Region of ``cfg``."""
    hub_regions = hub_regions_of(hub_outputs)
    problem = region_problem(cfg, hub_regions) if hub_regions is not None else None
    if problem is not None:
        raise problem


def checked_region(cfg: ChildConfig, hub: pulumi.StackReference) -> pulumi.Output[str]:
    """``cfg.home_region``, once the hub's ``regions`` output is known and includes every child Region (else the
    run fails with the :class:`HubRegionsError` line). Child providers take their Region from it."""

    def check(regions: Any) -> str:
        check_hub_regions(cfg, {"regions": regions})
        return cfg.home_region

    return hub.get_output("regions").apply(check)
