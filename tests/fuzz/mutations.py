"""Mutations of a valid document (a stack config, a request): a few nodes replaced, removed, re-typed or added.

Why: a config loader is mostly reached through valid-looking documents; random JSON stops at the first key.
Starting from the repository's own example configs, each case changes one to three places, the way a person
editing YAML gets one thing wrong.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any

from hypothesis import strategies as st

from tests.fuzz import strategies

Path = tuple[Any, ...]


def paths(node: Any, prefix: Path = ()) -> Iterator[Path]:
    """Every place in ``node`` (dict keys and list indexes), parents before children."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield (*prefix, key)
            yield from paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield (*prefix, index)
            yield from paths(value, (*prefix, index))


def _parent(doc: Any, path: Path) -> Any:
    for part in path[:-1]:
        doc = doc[part]
    return doc


def _variant(value: Any) -> st.SearchStrategy[Any]:
    """Values that look like ``value`` but may be wrong."""
    if isinstance(value, bool):
        return st.one_of(st.just(not value), st.sampled_from(("yes", "true", "1", "")), strategies.json_scalars)
    if isinstance(value, int):
        return st.one_of(
            st.integers(value - 2, value + 2),
            st.sampled_from((0, -1, 2**40, str(value), float(value) + 0.5, True)),
            strategies.json_scalars,
        )
    if isinstance(value, str):
        return strategies.mutated(st.just(value))
    return strategies.json_values


#: Keys a config may wrongly carry: unknown names, other types YAML produces (ints, booleans).
extra_keys = st.one_of(
    st.text(max_size=12), st.integers(-3, 3), st.booleans(), st.sampled_from(("Accounts", "regions "))
)


@st.composite
def mutate(draw: st.DrawFn, base: dict[str, Any], max_changes: int = 3) -> dict[str, Any]:
    """``base`` with 0..``max_changes`` changes (the unchanged document is a case too)."""
    doc = copy.deepcopy(base)
    for _ in range(draw(st.integers(0, max_changes))):
        places = list(paths(doc))
        if not places:
            break
        path = draw(st.sampled_from(places))
        parent = _parent(doc, path)
        current = parent[path[-1]]
        action = draw(st.sampled_from(("variant", "variant", "replace", "delete", "json-text", "add")))
        if action == "variant":
            parent[path[-1]] = draw(_variant(current))
        elif action == "replace":
            parent[path[-1]] = draw(strategies.json_values)
        elif action == "delete":
            del parent[path[-1]]
        elif action == "json-text":
            # the engine hands structured values over as JSON text (components.config.decode_value)
            parent[path[-1]] = json.dumps(current) if draw(st.booleans()) else json.dumps(current)[:-1]
        elif isinstance(current, dict):
            current[draw(extra_keys)] = draw(strategies.json_values)
        elif isinstance(current, list):
            current.append(draw(_variant(current[0]) if current else strategies.json_values))
        elif isinstance(parent, dict):
            parent[draw(extra_keys)] = draw(strategies.json_values)
        else:
            parent.append(draw(strategies.json_values))
    return doc
