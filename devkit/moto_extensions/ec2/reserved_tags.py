"""EC2 refuses user tag keys under the reserved ``aws:`` prefix, for moto.

"You can't use ``aws:`` as a prefix in your tag keys or values, it is reserved for AWS use. You
can't edit or delete tag keys or values with this prefix" (Amazon EC2 User Guide, "Tag
restrictions"). moto 5.2 accepts them in ``CreateTags``, ``DeleteTags`` and ``RunInstances``. The
tag contract rests on this rule (issue 13 item 6: only ``aws:`` tags prove an instance is an
ASG member or an EKS/ECS node), so the emulator enforces it at the API, while AWS's own services
(Auto Scaling's ``aws:autoscaling:groupName``, moto's backends) keep writing them:
:func:`write_service_tags` is that service path for the tests and the demo.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from moto.ec2.exceptions import EC2ClientError
from moto.ec2.models import ec2_backends
from moto.ec2.responses.instances import InstanceResponse
from moto.ec2.responses.tags import TagResponse

RESERVED_PREFIX = "aws:"


class ReservedTagKeyError(EC2ClientError):
    def __init__(self, key: str) -> None:
        super().__init__(
            "InvalidParameterValue",
            f"Value ( {key} ) for parameter key is invalid. "
            "Tag keys starting with 'aws:' are reserved for internal use",
        )


def _refuse(keys: Iterable[Any]) -> None:
    for key in keys:
        if isinstance(key, str) and key.lower().startswith(RESERVED_PREFIX):
            raise ReservedTagKeyError(key)


_CREATE, _DELETE, _RUN = TagResponse.create_tags, TagResponse.delete_tags, InstanceResponse.run_instances


def _create_tags(self: TagResponse) -> Any:
    _refuse(tag.get("Key") for tag in self._get_param("Tags", []))
    return _CREATE(self)


def _delete_tags(self: TagResponse) -> Any:
    _refuse(tag.get("Key") for tag in self._get_param("Tags", []))
    return _DELETE(self)


def _run_instances(self: InstanceResponse) -> Any:
    specs = self._get_param("TagSpecifications", [])
    _refuse(tag.get("Key") for spec in specs for tag in spec.get("Tags", []))
    return _RUN(self)


def split_reserved(tags: Mapping[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    """(tags a user may write, ``aws:`` tags only a service writes)."""
    user = {k: v for k, v in tags.items() if not k.lower().startswith(RESERVED_PREFIX)}
    return user, {k: v for k, v in tags.items() if k not in user}


def write_service_tags(account: str, region: str, resource_ids: list[str], tags: Mapping[str, str]) -> None:
    """Tag resources as an AWS service does (EKS, ECS, Auto Scaling): straight into the backend."""
    if tags:
        ec2_backends[account][region].create_tags(resource_ids, dict(tags))


def install() -> None:
    """Enforce the reserved prefix on the three API calls (idempotent)."""
    TagResponse.create_tags = _create_tags  # type: ignore[method-assign]
    TagResponse.delete_tags = _delete_tags  # type: ignore[method-assign]
    InstanceResponse.run_instances = _run_instances  # type: ignore[method-assign]
