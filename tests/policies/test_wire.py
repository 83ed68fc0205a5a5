"""``wire``: the one reader of the engine's wire form, on the SDK's own proxies and sentinels."""

from __future__ import annotations

import json

import pytest
from policy_testing import U, provider
from pulumi_policy.proxy import UNKNOWN_ARRAY_VALUE, unknown_checking_proxy
from wire import (
    UNKNOWN,
    as_list,
    config_strings,
    get_path,
    is_unknown,
    json_or_obj,
    merge_tags,
    plain,
    provider_config,
    raw,
    read_tags,
    strings,
    urn_project,
    urn_stack,
)


def test_plain_marks_unknowns_and_raw_keeps_the_engine_sentinels() -> None:
    props = unknown_checking_proxy({"a": {"b": U, "c": [1.0, U]}, "d": UNKNOWN_ARRAY_VALUE})
    assert plain(props) == {"a": {"b": UNKNOWN, "c": [1.0, UNKNOWN]}, "d": UNKNOWN}
    assert raw(props) == {"a": {"b": U, "c": [1.0, U]}, "d": UNKNOWN_ARRAY_VALUE}
    assert is_unknown(U) and is_unknown(UNKNOWN) and not is_unknown("x")
    assert bool(UNKNOWN)  # "something is set here, we just can't see it"


def test_get_path() -> None:
    value = {"a": {"b": {"c": 1}}, "u": UNKNOWN, "s": "text"}
    assert get_path(value, "a", "b", "c") == 1
    assert get_path(value, "a", "missing", "c") is None
    assert get_path(value, "s", "c") is None  # not a mapping
    assert get_path(value, "u", "b") is UNKNOWN
    assert get_path(UNKNOWN, "a") is UNKNOWN
    assert get_path(value) == value


@pytest.mark.parametrize(
    ("value", "expected"),
    [(None, []), (UNKNOWN, [UNKNOWN]), ("s3:*", ["s3:*"]), (["a", "b"], ["a", "b"]), ({"k": 1}, [{"k": 1}])],
)
def test_as_list_takes_one_or_many(value: object, expected: list[object]) -> None:
    assert as_list(value) == expected


def test_strings_and_config_strings() -> None:
    assert strings(["a", UNKNOWN, 1.0, None, "b"]) == ["a", "b"]
    assert strings("a") == ["a"] and strings(None) == []
    assert config_strings(["x", "y"], ("d",)) == ("x", "y")
    assert config_strings(("x",), ("d",)) == ("x",)
    assert config_strings(["x", 1], ("d",)) == ("d",)
    assert config_strings(None, ("d",)) == ("d",)
    assert config_strings("x", ("d",)) == ("d",)


def test_json_or_obj() -> None:
    assert json_or_obj('{"a": [1]}') == {"a": [1]}
    assert json_or_obj(json.dumps({"a": U})) == {"a": UNKNOWN}
    assert json_or_obj({"a": 1}) == {"a": 1}
    assert json_or_obj(U) is UNKNOWN
    assert json_or_obj("not json") is None
    assert json_or_obj(None) is None


def test_provider_config_parses_json_text() -> None:
    prov = provider("p", {"allowedAccountIds": '["111111111111"]', "assumeRoles": U})
    assert provider_config(prov, "allowedAccountIds") == ["111111111111"]
    assert provider_config(prov, "assumeRoles") is UNKNOWN
    assert provider_config(prov, "defaultTags") is None
    assert provider_config(None, "allowedAccountIds") is None


def test_read_tags_in_both_shapes_with_unknowns() -> None:
    tags = read_tags({"a": "1", "b": U, "c": None})
    assert (tags.known, tags.unknown_keys, tags.opaque) == ({"a": "1"}, {"b"}, False)
    assert not tags.complete and tags.might_have("b") and not tags.might_have("c")
    listed = read_tags([{"key": "a", "value": "1"}, {"key": "b", "value": U}, "junk"])
    assert (listed.known, listed.unknown_keys, listed.opaque) == ({"a": "1"}, {"b"}, False)
    assert read_tags([{"key": U, "value": "1"}]).opaque
    assert read_tags([U]).opaque
    assert read_tags(U).opaque and read_tags(U).might_have("anything")
    assert read_tags(None).complete and read_tags(None).known == {}
    asg = read_tags([{"Key": "a", "Value": 2.0}], key_field="Key", value_field="Value")
    assert asg.known == {"a": "2.0"}


def test_merge_tags_later_parts_win() -> None:
    defaults = read_tags({"environment": "Dev", "team": "x"})
    own = read_tags({"environment": "Prod", "team": U})
    merged = merge_tags([defaults, own])
    assert merged.known == {"environment": "Prod"} and merged.unknown_keys == {"team"}
    assert merge_tags([own, defaults]).known == {"environment": "Dev", "team": "x"}
    assert merge_tags([read_tags(U), defaults]).opaque


def test_urn_parts() -> None:
    urn = "urn:pulumi:prod::org-patching::aws:s3/bucket:Bucket::lake"
    assert urn_project(urn) == "org-patching" and urn_stack(urn) == "prod"
    assert urn_project("not-a-urn") is None and urn_stack("not-a-urn") is None
