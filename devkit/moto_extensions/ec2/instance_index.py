"""EC2 at fleet scale for the emulator: tags looked up by resource id, and DescribeInstances paged by instance.

moto 5.2 answers both in time that grows with the whole account-region, per item, which made a 50,000-instance
sweep (``bench/load_sweep.py``) impossible to measure:

* every resource's tags are read through ``describe_tags(filters={"resource-id": [id]})``, which scans the tags
  of EVERY resource (once per instance serialized, and once per filter evaluation): quadratic in the fleet.
  :func:`_get_tags` reads the one resource's tags from the same store (``TagBackend.tags``, keyed by id), in the
  same shape and order; an id with glob characters (never an EC2 id) still goes through moto's scan.
* DescribeInstances pages by RESERVATION (``MaxResults`` reservations per page, the token a reservation id found
  by ``list.index``), so a page of 1,000 reservations could hold 50,000 instances, and it accepts any
  ``MaxResults``. :func:`_describe_instances` pages as the EC2 API reference documents it:

  - ``MaxResults`` is "the maximum number of items to return" (DescribeInstances, EC2 API reference): the
    items are instances, so a reservation may be split across pages (each page names it with the instances it
    holds there); "this value can be between 5 and 1000" (DescribeInstances, EC2 API reference 2016-09-15),
    anything else is ``InvalidParameterValue``; without it every matching instance comes back in one response;
  - ``NextToken`` is opaque and "pagination continues from the end of the items returned by the previous
    request"; a token EC2 never issued is ``InvalidNextToken`` ("The specified NextToken is not valid", EC2 API
    reference, Error codes). The emulator's token names the last item's place (its reservation's creation
    order and its position there), so it stays valid when instances come or go between pages;
  - filters are moto's own (``passes_filter_dict``, ANDed across filters, ORed within one): only the paging
    changes, and each page costs the instances it walks, not the whole fleet.

  ``InstanceIds`` requests keep moto's path (``MaxResults`` is refused with them, as on AWS).
* an instance is found by id (``get_instance``, ``get_instance_by_id``: every ``CreateTags`` checks each id it
  names, every launch attaches a volume to each new instance) by scanning every instance of the account-region,
  and a new volume by scanning every volume: quadratic in the fleet again. :func:`_find` keeps an index by id
  (moto never removes an instance from its reservation, and fills a reservation only while launching it, so
  the index only grows; a miss indexes the reservations launched since), and a single-id ``describe_volumes``
  reads moto's own volume map. Same answers and errors as moto's.
"""

from __future__ import annotations

import base64
import binascii
import copy
import json
from dataclasses import dataclass, field
from itertools import islice
from typing import Any

from moto.core.responses import ActionResult
from moto.ec2.exceptions import EC2ClientError, InvalidInstanceIdError, InvalidNextToken
from moto.ec2.models.core import TaggedEC2Resource
from moto.ec2.models.elastic_block_store import EBSBackend
from moto.ec2.models.instances import InstanceBackend
from moto.ec2.responses.instances import InstanceResponse
from moto.ec2.utils import EC2_PREFIX_TO_RESOURCE, get_prefix, passes_filter_dict

from devkit.moto_extensions.core import attached

#: DescribeInstances' documented MaxResults range (EC2 API reference, DescribeInstances).
MIN_RESULTS, MAX_RESULTS = 5, 1000
_GLOB = frozenset("*?[")

_ORIGINAL_GET_TAGS = TaggedEC2Resource.get_tags
_ORIGINAL_DESCRIBE = InstanceResponse.describe_instances
_ORIGINAL_DESCRIBE_VOLUMES = EBSBackend.describe_volumes


class InvalidMaxResults(EC2ClientError):
    def __init__(self, value: Any) -> None:
        super().__init__(
            "InvalidParameterValue",
            f"Value ( {value} ) for parameter maxResults is invalid. "
            f"Expecting a value between {MIN_RESULTS} and {MAX_RESULTS}.",
        )


def _get_tags(self: Any) -> list[dict[str, str]]:
    """The resource's tags as ``describe_tags`` returns them for its id, read by key instead of by scan."""
    resource_id = getattr(self, "id", None)
    if not resource_id:
        return []
    if _GLOB.intersection(resource_id):
        return _ORIGINAL_GET_TAGS(self)
    tags = self.ec2_backend.tags.get(resource_id)
    if not tags:
        return []
    resource_type = EC2_PREFIX_TO_RESOURCE.get(get_prefix(resource_id), "")
    return [
        {"resource_id": resource_id, "key": key, "value": value, "resource_type": resource_type}
        for key, value in tags.items()
    ]


@dataclass
class _Index:
    """Instances by id, and how many reservations (in launch order) had been launched when it was last filled."""

    by_id: dict[str, Any] = field(default_factory=dict)
    reservations: int = 0


def _find(backend: Any, instance_id: str) -> Any | None:
    """The instance with this id in ``backend`` (moto's ``InstanceBackend``), or ``None``."""
    index = attached(backend, "instance_index", _Index)
    found = index.by_id.get(instance_id)
    if found is None:
        # Only the newest reservation can have grown since (moto fills one while launching it): index it again,
        # and every reservation launched after it.
        for reservation in islice(backend.reservations.values(), max(index.reservations - 1, 0), None):
            for instance in reservation.instances:
                index.by_id[instance.id] = instance
        index.reservations = len(backend.reservations)
        found = index.by_id.get(instance_id)
    return found


def _get_instance(self: Any, instance_id: str) -> Any:
    instance = _find(self, instance_id)
    if instance is None:
        raise InvalidInstanceIdError(instance_id)
    return instance


def _get_instance_by_id(self: Any, instance_id: str) -> Any | None:
    return _find(self, instance_id)


def _describe_volumes(self: Any, volume_ids: list[str] | None = None, filters: Any = None) -> list[Any]:
    if volume_ids and len(volume_ids) == 1 and volume_ids[0] in self.volumes and not filters:
        return [self.volumes[volume_ids[0]]]
    return _ORIGINAL_DESCRIBE_VOLUMES(self, volume_ids, filters)


def _order(backend: Any) -> dict[str, int]:
    """Each reservation's creation order in this account-region (moto keeps reservations in insertion order;
    a number is given the first time a reservation is seen, so it never changes)."""
    order: dict[str, int] = attached(backend, "reservation_order", dict)
    for reservation_id in backend.reservations:
        if reservation_id not in order:
            order[reservation_id] = len(order)
    return order


def encode_token(reservation: int, position: int) -> str:
    """The place of the last item returned: (reservation's order, instance's position in it)."""
    raw = json.dumps({"r": reservation, "i": position}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode()


def decode_token(token: str) -> tuple[int, int]:
    """The place a token names, or ``InvalidNextToken``."""
    try:
        place = json.loads(base64.urlsafe_b64decode(token.encode("ascii")))
        reservation, position = place["r"], place["i"]
    except (binascii.Error, UnicodeError, ValueError, KeyError, TypeError) as error:
        raise InvalidNextToken(token) from error
    if not (isinstance(reservation, int) and isinstance(position, int)) or reservation < 0 or position < 0:
        raise InvalidNextToken(token)
    return reservation, position


def page(backend: Any, filters: dict[str, Any], max_results: int | None, token: str | None) -> dict[str, Any]:
    """One DescribeInstances page: the reservations holding the next ``max_results`` matching instances."""
    order = _order(backend)
    start = decode_token(token) if token else (-1, -1)
    if token and start[0] >= len(order):
        raise InvalidNextToken(token)
    limit = max_results if max_results is not None else float("inf")
    reservations: list[Any] = []
    count = 0
    last: tuple[int, int] | None = None
    for reservation_id, reservation in list(backend.reservations.items()):
        number = order[reservation_id]
        if number < start[0]:
            continue
        chosen = []
        for position, instance in enumerate(reservation.instances):
            if (number, position) <= start:
                continue
            if count >= limit:
                break
            if passes_filter_dict(instance, filters):
                chosen.append(instance)
                count += 1
                last = (number, position)
        if chosen:
            shown = copy.copy(reservation)
            shown.instances = chosen
            reservations.append(shown)
        if count >= limit:
            break
    more = last is not None and count >= limit and _has_more(backend, order, last, filters)
    return {"Reservations": reservations, "NextToken": encode_token(*last) if more and last else None}


def _has_more(backend: Any, order: dict[str, int], after: tuple[int, int], filters: dict[str, Any]) -> bool:
    """Whether any matching instance lies after ``after`` (AWS returns no token on the last page)."""
    for reservation_id, reservation in list(backend.reservations.items()):
        number = order[reservation_id]
        if number < after[0]:
            continue
        for position, instance in enumerate(reservation.instances):
            if (number, position) > after and passes_filter_dict(instance, filters):
                return True
    return False


def _describe_instances(self: InstanceResponse) -> ActionResult:
    if self._get_param("InstanceIds", []) or "InstanceId.1" in self.data:
        return _ORIGINAL_DESCRIBE(self)
    self.error_on_dryrun()
    raw = self._get_param("MaxResults")
    max_results: int | None = None
    if raw is not None:
        try:
            max_results = int(raw)
        except (TypeError, ValueError) as error:
            raise InvalidMaxResults(raw) from error
        if not MIN_RESULTS <= max_results <= MAX_RESULTS:
            raise InvalidMaxResults(raw)
    result = page(self.ec2_backend, self._filters_from_querystring(), max_results, self._get_param("NextToken"))
    return ActionResult(result)


def install() -> None:
    """Replace the tag lookup, the instance and volume lookups and DescribeInstances' paging (idempotent)."""
    TaggedEC2Resource.get_tags = _get_tags  # type: ignore[method-assign]
    InstanceBackend.get_instance = _get_instance  # type: ignore[method-assign]
    InstanceBackend.get_instance_by_id = _get_instance_by_id  # type: ignore[method-assign]
    EBSBackend.describe_volumes = _describe_volumes  # type: ignore[method-assign]
    InstanceResponse.describe_instances = _describe_instances  # type: ignore[method-assign]
