"""The program's two stacks, built from validated config. ``__main__.py`` and ``patchctl`` both
call :func:`build`; which stack is built is chosen by ``org-patching:stack``, never by the
stack's name, so shards such as ``child-eu`` work unchanged.

* :mod:`.central`: the hub in the central account;
* :mod:`.child`: the spokes in every child account and region (accounts from config or
  :mod:`.accounts`); the central stack's accounts are found the same way (:mod:`.central_accounts`);
* :mod:`.providers`: the one provider factory both use;
* :mod:`.outputs`: the versioned output documents, assembled from the components' sections.
"""

from __future__ import annotations

from typing import Any

from ..config import CentralConfig, ChildConfig
from .central import build_central
from .central_accounts import resolve_central
from .child import build_child
from .outputs import central_outputs, child_outputs, export


def build(cfg: CentralConfig | ChildConfig) -> Any:
    """Declare the stack ``cfg`` describes and export its outputs; returns what was built."""
    if isinstance(cfg, CentralConfig):
        cfg = resolve_central(cfg)  # before any resource: a discovery error declares nothing
        hub = build_central(cfg)
        export(central_outputs(cfg, hub))
        return hub
    built = build_child(cfg)
    export(child_outputs(cfg, built))
    return built


__all__ = ["build", "build_central", "build_child"]
