"""EC2 for the emulator: ``CreateImage`` tags the image's snapshots (:mod:`.models`); launch template versions
inherit from ``SourceVersion``, carry AWS's response-only fields and can be deleted (:mod:`.launch_templates`);
user tag keys under the reserved ``aws:`` prefix are refused (:mod:`.reserved_tags`)."""

from __future__ import annotations

from devkit.moto_extensions.ec2 import launch_templates, models, reserved_tags


def install() -> None:
    """Apply both (idempotent)."""
    models.install()
    reserved_tags.install()
    launch_templates.install()


__all__ = ["install"]
