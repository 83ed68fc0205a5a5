"""EC2 for the emulator: ``CreateImage`` tags the image's snapshots (see :mod:`.models`); user tag keys
under the reserved ``aws:`` prefix are refused (see :mod:`.reserved_tags`)."""

from __future__ import annotations

from devkit.moto_extensions.ec2 import models, reserved_tags


def install() -> None:
    """Apply both (idempotent)."""
    models.install()
    reserved_tags.install()


__all__ = ["install"]
