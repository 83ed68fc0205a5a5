"""The applier: deploy a rendered stack of the program into the emulator, as ``pulumi up`` would.

``apply_central(emu, cfg)`` and ``apply_child(emu, cfg, hub_outputs)`` return an
:class:`Applied` (per URN: type, account, region, physical id, outputs).
"""

from .engine import Applied, AppliedResource, apply_central, apply_child
from .errors import ApplyError, ResourceCreateFailed, ServiceRuleViolation, UnsupportedResource
from .registry import REGISTRY

__all__ = [
    "REGISTRY",
    "Applied",
    "AppliedResource",
    "ApplyError",
    "ResourceCreateFailed",
    "ServiceRuleViolation",
    "UnsupportedResource",
    "apply_central",
    "apply_child",
]
