"""Readers of the engine's wire form: what a policy sees is not what a Pulumi program wrote.

Policies receive the engine's wire form: camelCase property names, numbers as floats, provider
config objects as JSON *strings*, tags as a map (pulumi-aws) or as a list of ``{key, value}``
(aws-native, Auto Scaling groups), and at ``pulumi preview`` any value that depends on another
resource's output is an *unknown* sentinel. The SDK wraps props in a proxy that raises
``UnknownValueError`` on the first unknown it touches, which would turn the whole policy into a
"can't run during preview" advisory. These helpers convert the proxy to plain data once, turning
unknowns into the :data:`UNKNOWN` marker, so every policy can decide per value what an unknown
means (usually: "cannot tell yet, don't report").

Every module of the pack reads props through this one module (``get_path``, ``as_list``,
``strings``, ``provider_config``, tags, URNs), so a wire-form quirk is handled once.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any, Final

from pulumi_policy import PolicyProviderResource
from pulumi_policy.proxy import (  # the SDK's own sentinels and proxies (pack pins 1.21.0)
    UNKNOWN_ARCHIVE_VALUE,
    UNKNOWN_ARRAY_VALUE,
    UNKNOWN_ASSET_VALUE,
    UNKNOWN_BOOLEAN_VALUE,
    UNKNOWN_NUMBER_VALUE,
    UNKNOWN_OBJECT_VALUE,
    UNKNOWN_STRING_VALUE,
    _DictProxy,
    _ListProxy,
)

_SENTINELS: Final = frozenset(
    {
        UNKNOWN_BOOLEAN_VALUE,
        UNKNOWN_NUMBER_VALUE,
        UNKNOWN_STRING_VALUE,
        UNKNOWN_ARRAY_VALUE,
        UNKNOWN_ASSET_VALUE,
        UNKNOWN_ARCHIVE_VALUE,
        UNKNOWN_OBJECT_VALUE,
    }
)


class _Unknown:
    """A value the engine cannot know before the update (``pulumi preview``)."""

    _instance: _Unknown | None = None

    def __new__(cls) -> _Unknown:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "<unknown>"

    def __bool__(self) -> bool:
        # Truthy on purpose: "is something set here?" is answered "yes, we just can't see it",
        # which is the answer that never produces a false violation at preview.
        return True


UNKNOWN: Final = _Unknown()


def is_unknown(value: Any) -> bool:
    """True for the :data:`UNKNOWN` marker and for raw engine sentinels."""
    return value is UNKNOWN or (isinstance(value, str) and value in _SENTINELS)


def raw(value: Any) -> Any:
    """Plain dicts/lists from SDK proxies, leaves untouched (unknown sentinels stay strings).

    Remediations must return this form: the SDK serializes it back to the wire, and a sentinel
    string there is still an unknown for the engine.
    """
    if isinstance(value, (_DictProxy, _ListProxy)):
        value = value["__target"]  # the proxies hand out their container under this key
    if isinstance(value, Mapping):
        return {key: raw(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [raw(item) for item in value]
    return value


def plain(value: Any) -> Any:
    """Plain data with every unknown replaced by :data:`UNKNOWN` (what policies reason on)."""
    value = raw(value)
    return _mark_unknowns(value)


def _mark_unknowns(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _mark_unknowns(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_mark_unknowns(item) for item in value]
    if is_unknown(value):
        return UNKNOWN
    return value


def json_or_obj(value: Any) -> Any:
    """Provider config and IAM documents arrive as JSON text or as objects: accept both.

    Returns ``None`` for text that is not JSON (a policy then reports it as unreadable) and
    :data:`UNKNOWN` for an unknown.
    """
    if is_unknown(value):
        return UNKNOWN
    if isinstance(value, str):
        try:
            return _mark_unknowns(json.loads(value))
        except ValueError:
            return None
    return value


def get_path(value: Any, *path: str) -> Any:
    """``value[path0][path1]...`` of plain data; ``None`` when absent, :data:`UNKNOWN` when an unknown is hit."""
    for key in path:
        if value is UNKNOWN:
            return UNKNOWN
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value


def as_list(value: Any) -> list[Any]:
    """A value the wire gives as one item or a list (IAM ``Action``/``Statement``, provider
    ``assumeRoles``, ASG ``tags``) as a list: ``None`` -> ``[]``, :data:`UNKNOWN` -> ``[UNKNOWN]``
    (so the caller still sees that something unknown is there)."""
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def strings(value: Any) -> list[str]:
    """The string items of :func:`as_list` (unknowns and other shapes dropped)."""
    return [item for item in as_list(value) if isinstance(item, str)]


def config_strings(value: Any, default: tuple[str, ...]) -> tuple[str, ...]:
    """A list-of-strings policy config value, or ``default`` when the engine sent none (or garbage)."""
    if isinstance(value, (list, tuple)) and all(isinstance(item, str) for item in value):
        return tuple(value)
    return default


def provider_config(provider: PolicyProviderResource | None, key: str) -> Any:
    """A provider's config value (``defaultTags``, ``allowedAccountIds``, ``assumeRoles``): JSON
    text on the wire, parsed; ``None`` without a provider or value, :data:`UNKNOWN` when unknown."""
    if provider is None:
        return None
    return json_or_obj(plain(provider.props).get(key))


class Tags:
    """A resource's tags in either wire shape, with the keys/values that are unknown kept apart.

    ``known`` holds the tags whose key and value are known. ``unknown_keys`` holds keys whose
    value is unknown; ``opaque`` is True when the whole tag collection (or a key) is unknown, so
    any tag might still be there.
    """

    __slots__ = ("known", "opaque", "unknown_keys")

    def __init__(self, known: dict[str, str], unknown_keys: set[str], opaque: bool) -> None:
        self.known = known
        self.unknown_keys = unknown_keys
        self.opaque = opaque

    @property
    def complete(self) -> bool:
        """All keys and values are known: a decision on these tags is final."""
        return not self.opaque and not self.unknown_keys

    def might_have(self, key: str) -> bool:
        """The key is present, or could be once unknowns resolve."""
        return key in self.known or key in self.unknown_keys or self.opaque


def read_tags(value: Any, *, key_field: str = "key", value_field: str = "value") -> Tags:
    """Tags from a map (pulumi-aws), a list of ``{key, value}`` (aws-native, ASG), or unknown."""
    value = plain(value)
    if value is None:
        return Tags({}, set(), False)
    if is_unknown(value):
        return Tags({}, set(), True)
    known: dict[str, str] = {}
    unknown_keys: set[str] = set()
    opaque = False
    if isinstance(value, Mapping):
        for key, item in value.items():
            if is_unknown(item):
                unknown_keys.add(key)
            elif item is not None:
                known[key] = str(item)
        return Tags(known, unknown_keys, opaque)
    if isinstance(value, list):
        for entry in value:
            if is_unknown(entry) or not isinstance(entry, Mapping):
                opaque = opaque or is_unknown(entry)
                continue
            key = entry.get(key_field)
            item = entry.get(value_field)
            if is_unknown(key):
                opaque = True
            elif isinstance(key, str):
                if is_unknown(item):
                    unknown_keys.add(key)
                elif item is not None:
                    known[key] = str(item)
        return Tags(known, unknown_keys, opaque)
    return Tags({}, set(), False)


def merge_tags(parts: Iterable[Tags]) -> Tags:
    """Later parts win (resource tags over provider default tags)."""
    known: dict[str, str] = {}
    unknown_keys: set[str] = set()
    opaque = False
    for part in parts:
        for key in part.unknown_keys:
            known.pop(key, None)
        unknown_keys -= set(part.known)
        known.update(part.known)
        unknown_keys |= part.unknown_keys
        opaque = opaque or part.opaque
    return Tags(known, unknown_keys, opaque)


def urn_project(urn: str) -> str | None:
    """``urn:pulumi:<stack>::<project>::<type>::<name>`` -> ``<project>``."""
    parts = urn.split("::")
    if len(parts) < 4 or not parts[0].startswith("urn:pulumi:"):
        return None
    return parts[1]


def urn_stack(urn: str) -> str | None:
    """``urn:pulumi:<stack>::...`` -> ``<stack>``."""
    head = urn.split("::", 1)[0]
    return head[len("urn:pulumi:") :] if head.startswith("urn:pulumi:") else None
