"""The central stack's outputs are an API: they must match the JSON Schema in the repo."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from components.program import OUTPUTS_VERSION

SCHEMA = Path(__file__).resolve().parents[2] / "schemas" / "central-outputs.schema.json"


def test_outputs_match_the_schema(central_capture: Any) -> None:
    outputs = central_capture.outputs
    jsonschema.validate(outputs, json.loads(SCHEMA.read_text()))
    assert outputs["outputsVersion"] == OUTPUTS_VERSION
    assert outputs["compliance"]["inventoryBucket"] != outputs["compliance"]["patchLogBucket"]


def test_the_schema_rejects_a_broken_contract(central_capture: Any) -> None:
    schema = json.loads(SCHEMA.read_text())
    broken = dict(central_capture.outputs)
    broken["compliance"] = {k: v for k, v in broken["compliance"].items() if k != "keyArn"}
    with pytest.raises(jsonschema.ValidationError, match="keyArn"):
        jsonschema.validate(broken, schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({**central_capture.outputs, "outputsVersion": "2.0"}, schema)
