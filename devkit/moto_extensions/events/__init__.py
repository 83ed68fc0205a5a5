"""EventBridge for the emulator: rules deliver to event buses of other accounts and Regions the way
AWS does, and invoke Lambda targets (see :mod:`.models`)."""

from __future__ import annotations

from devkit.moto_extensions.events.models import install

__all__ = ["install"]
