"""EC2 for the emulator: ``CreateImage`` tags the image's snapshots (:mod:`.models`); launch template versions
inherit from ``SourceVersion``, carry AWS's response-only fields and can be deleted (:mod:`.launch_templates`)."""

from __future__ import annotations

from devkit.moto_extensions.ec2 import launch_templates, models


def install() -> None:
    """Apply both (idempotent)."""
    models.install()
    launch_templates.install()


__all__ = ["install"]
