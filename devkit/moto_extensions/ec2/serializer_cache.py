"""EC2 responses serialized without re-deriving, for every attribute of every item, where moto finds it.

moto serializes a response from botocore's model: for each member of each structure its ``AttributePicker`` asks
six alias providers which attribute names might hold the value, then tries them in turn, then scans the response
transformers by key path. The names it tries depend only on the picker, the object's class and the member (its
service, its structure, its shape and its key), so they are the same for the 50,000th instance as for the first:
profiled, deriving them again was most of a DescribeInstances page of 1,000 instances (``bench/load_sweep.py``).

:func:`_pick` remembers, per that key, the names to try and the transformer that applies, and then reads the
value exactly as moto does (the first name the object has, ``None`` when none). EC2 only (the service the fleet
benchmarks read); every other service keeps moto's picker untouched.
"""

from __future__ import annotations

from typing import Any

from moto.core.serialize import AttributePicker, AttributePickerContext
from moto.core.utils import MISSING, get_value

_ORIGINAL_CALL = AttributePicker.__call__
_SERVICES = frozenset({"ec2"})
_KEYS: dict[tuple[Any, ...], tuple[str, ...]] = {}
_TRANSFORMS: dict[tuple[Any, ...], str | None] = {}


def _shape_key(context: AttributePickerContext) -> tuple[Any, ...]:
    shape = context.shape
    if shape is None:
        return (None, None)
    parent = getattr(shape, "parent", None)
    return (shape.name, getattr(parent, "name", None))


def _pick(self: AttributePicker, context: AttributePickerContext) -> Any:
    service = context.service_model.service_name if context.service_model is not None else None
    if service not in _SERVICES:
        return _ORIGINAL_CALL(self, context)
    providers = tuple(self.alias_providers)
    key = (type(self), providers, service, type(context.obj), context.key, *_shape_key(context))
    names = _KEYS.get(key)
    if names is None:
        names = _KEYS[key] = tuple(self.get_possible_keys(context))
    obj = context.obj
    value = None
    for name in names:
        found = get_value(obj, name, MISSING)
        if found is not MISSING:
            value = found
            break
    if self.response_transformers:
        key_path = f"{context.key_path}.{context.key}"
        transform_key = (tuple(self.response_transformers), key_path)
        if transform_key not in _TRANSFORMS:
            _TRANSFORMS[transform_key] = next((p for p in self.response_transformers if key_path.endswith(p)), None)
        path = _TRANSFORMS[transform_key]
        if path is not None:
            value = self.response_transformers[path](value)
    return value


def install() -> None:
    """Remember the picker's derivations for EC2 (idempotent)."""
    AttributePicker.__call__ = _pick  # type: ignore[method-assign]
