"""EC2 Auto Scaling for the emulator: instance refreshes (moto 5.2 implements none of the four operations).

Shaped like a moto service: ``exceptions``, ``models`` (state and logic), ``responses`` (request
parsing only). :func:`install` adds the operations to moto.
"""

from __future__ import annotations

from moto.autoscaling.responses import AutoScalingResponse

from devkit.moto_extensions.autoscaling.responses import AutoScalingExtensionResponse
from devkit.moto_extensions.core import copy_members


def install() -> None:
    """Add the four operations to moto's Auto Scaling responses (idempotent)."""
    copy_members(AutoScalingExtensionResponse, AutoScalingResponse)
