"""The central stack: its provider (the same factory as the child accounts') and its outputs, an API
that must match the JSON Schema in the repo."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from components.stacks.outputs import CENTRAL_OUTPUTS_VERSION
from components.stacks.providers import IGNORED_TAG_PREFIXES, MANAGED_BY_TAGS

SCHEMA = Path(__file__).resolve().parents[2] / "schemas" / "central-outputs.schema.json"


def test_outputs_match_the_schema(central_capture: Any) -> None:
    outputs = central_capture.outputs
    jsonschema.validate(outputs, json.loads(SCHEMA.read_text()))
    assert outputs["outputsVersion"] == CENTRAL_OUTPUTS_VERSION
    assert outputs["compliance"]["inventoryBucket"] != outputs["compliance"]["patchLogBucket"]


def test_the_schema_rejects_a_broken_contract(central_capture: Any) -> None:
    schema = json.loads(SCHEMA.read_text())
    broken = dict(central_capture.outputs)
    broken["compliance"] = {k: v for k, v in broken["compliance"].items() if k != "keyArn"}
    with pytest.raises(jsonschema.ValidationError, match="keyArn"):
        jsonschema.validate(broken, schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({**central_capture.outputs, "outputsVersion": "2.0"}, schema)


def test_the_hub_provider_is_pinned_to_the_central_account_without_assuming_a_role(central_capture: Any) -> None:
    (provider,) = [r for r in central_capture.resources if r.type == "pulumi:providers:aws"]
    assert provider.name == "111111111111"
    assert provider.inputs["region"] == "us-east-1"
    assert json.loads(provider.inputs["allowedAccountIds"]) == ["111111111111"]
    assert json.loads(provider.inputs["defaultTags"])["tags"] == {"cost-center": "platform", **MANAGED_BY_TAGS}
    assert json.loads(provider.inputs["ignoreTags"]) == {"keyPrefixes": IGNORED_TAG_PREFIXES}
    assert "assumeRoles" not in provider.inputs
