"""EC2 for the emulator: ``CreateImage`` tags the image's snapshots (:mod:`.models`); launch template versions
inherit from ``SourceVersion``, carry AWS's response-only fields and can be deleted (:mod:`.launch_templates`);
user tag keys under the reserved ``aws:`` prefix are refused (:mod:`.reserved_tags`); tags and instances are found
by id and DescribeInstances pages by instance as AWS documents, in time that does not grow with the fleet
(:mod:`.instance_index`); EC2 responses reuse what moto's serializer derived for the first item
(:mod:`.serializer_cache`)."""

from __future__ import annotations

from devkit.moto_extensions.ec2 import instance_index, launch_templates, models, reserved_tags, serializer_cache


def install() -> None:
    """Apply them all (idempotent)."""
    models.install()
    instance_index.install()
    serializer_cache.install()
    reserved_tags.install()
    launch_templates.install()


__all__ = ["install"]
