"""Input generators shared by the fuzz targets: arbitrary JSON, near-valid values and mutations of valid ones.

Why mutations and not only random data: random text almost never reaches the code behind the first check, so
each generator mixes three kinds of value: the valid ones, valid ones with one thing wrong (a trailing
newline, another case, non-ASCII digits, a wrong type) and anything JSON can carry.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import strategies as st

#: Scalars as JSON carries them (events arrive as JSON), incl. huge numbers and non-ASCII text.
json_scalars: st.SearchStrategy[Any] = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=40),
)

json_values: st.SearchStrategy[Any] = st.recursive(
    json_scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=12,
)


def mutated(valid: st.SearchStrategy[str]) -> st.SearchStrategy[Any]:
    """A valid string, or the same string with one typical defect, or another JSON value."""
    return st.one_of(
        valid,
        valid.map(lambda v: v + "\n"),
        valid.map(lambda v: f" {v} "),
        valid.map(str.upper),
        valid.map(str.lower),
        valid.map(lambda v: v.translate(ARABIC_DIGITS)),
        valid.map(lambda v: [v]),
        valid.map(lambda v: v[:-1]),
        st.text(max_size=30),
        json_scalars,
    )


#: Unicode decimal digits that ``\\d`` and ``str.isdigit`` accept but AWS does not.
ARABIC_DIGITS = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")

REGIONS = ("us-east-1", "eu-west-1", "eu-central-1", "ap-southeast-2")
ACCOUNTS = ("111111111111", "222222222222", "123456789012")

account_ids = mutated(st.sampled_from(ACCOUNTS))
regions = mutated(st.sampled_from(REGIONS))
environments = mutated(st.sampled_from(("Dev", "Test", "Prod", "Default", "prod", " PROD ", "Production")))


def maybe_missing(values: dict[str, st.SearchStrategy[Any]]) -> st.SearchStrategy[dict[str, Any]]:
    """A dict with any subset of ``values``' keys (each key either present with a value or absent)."""
    return st.fixed_dictionaries({}, optional=values)


def with_extra(base: st.SearchStrategy[dict[str, Any]]) -> st.SearchStrategy[dict[str, Any]]:
    """``base`` plus sometimes an unexpected key."""
    return st.one_of(
        base,
        st.tuples(base, st.text(min_size=1, max_size=12), json_values).map(lambda t: {**t[0], t[1]: t[2]}),
    )


def as_delivered(events: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """``events`` as Lambda hands them to a handler: parsed from JSON (object keys are always strings; a
    mutation may add an integer key, as YAML would, which JSON turns into text)."""
    return events.map(lambda event: json.loads(json.dumps(event)))
