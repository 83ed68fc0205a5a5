"""EC2 for the emulator: ``CreateImage`` tags the image's snapshots (see :mod:`.models`)."""

from __future__ import annotations

from devkit.moto_extensions.ec2.models import install

__all__ = ["install"]
