"""Render one stack of this repository's Pulumi program under mocks, offline.

Shared by ``patchctl preview``, the tests and the benchmarks: the program's own ``build``
runs with the stack's config, strict AWS mocks pinned to the central account and home
region, and (for a child stack) the hub's outputs behind its StackReference.
"""

from __future__ import annotations

from typing import Any

from components.config import CentralConfig, ChildConfig
from components.stacks.hub_regions import check_hub_regions
from patchctl.errors import InputError
from patchctl.offline.mocks import AwsMocks
from patchctl.offline.render import Capture, render

PROJECT = "org-patching"


def render_stack(
    cfg: CentralConfig | ChildConfig, hub_outputs: dict[str, Any] | None = None, stack: str | None = None
) -> Capture:
    """Render one stack of the program under mocks."""
    from components.stacks import build

    mocks = stack_mocks(cfg, hub_outputs)
    return render(lambda: build(cfg), mocks=mocks, project=PROJECT, stack=stack or cfg.stack)


def stack_mocks(cfg: CentralConfig | ChildConfig, hub_outputs: dict[str, Any] | None = None) -> AwsMocks:
    """The mocks one stack renders under: strict, pinned to the central account and home region, and
    for a child stack the hub's outputs behind its StackReference."""
    stack_outputs = {}
    if isinstance(cfg, ChildConfig):
        if hub_outputs is None:
            raise InputError("child stack: the hub's outputs are needed (--hub-json or --hub-config)")
        check_hub_regions(cfg, hub_outputs)  # known here: refuse before rendering, with the program's line
        stack_outputs[cfg.hub_stack] = hub_outputs
    return AwsMocks(
        default_account=cfg.central_account_id,
        default_region=cfg.home_region,
        org_id=cfg.org_id,
        stack_outputs=stack_outputs,
        strict=True,
    )
