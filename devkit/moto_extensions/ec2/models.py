"""EC2 CreateImage with ``TagSpecifications`` for snapshots, for moto.

AWS tags the image's snapshots when ``TagSpecifications`` has ``ResourceType=snapshot`` (EC2 API reference,
CreateImage); moto 5.2 raises NotImplementedError for it. The ASG runbook tags both its AMIs and their snapshots
(so cost and cleanup can find them), so this wraps moto's ``create_image``: the snapshot specification is removed,
the image is created, then the tags are put on the image's snapshot.
"""

from __future__ import annotations

from typing import Any

from moto.ec2.models.amis import AmiBackend

_ORIGINAL = AmiBackend.create_image


def _create_image(
    self: Any, instance_id: str, name: str, description: str, tag_specifications: list[dict[str, Any]]
) -> Any:
    snapshot_tags = [t for spec in tag_specifications if spec["ResourceType"] == "snapshot" for t in spec["Tags"]]
    others = [spec for spec in tag_specifications if spec["ResourceType"] != "snapshot"]
    ami = _ORIGINAL(self, instance_id, name, description, others)
    snapshot = getattr(ami, "ebs_snapshot", None)
    if snapshot_tags and snapshot is not None:
        self.create_tags([snapshot.id], {t["Key"]: t.get("Value", "") for t in snapshot_tags})
    return ami


def install() -> None:
    """Replace moto's create_image by the wrapper (idempotent)."""
    AmiBackend.create_image = _create_image  # type: ignore[method-assign]
