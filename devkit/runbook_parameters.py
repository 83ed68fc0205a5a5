"""Automation parameters checked against the document, as ``StartAutomationExecution`` does before any step runs.

What SSM checks (AWS Systems Manager User Guide, "Data elements and parameters" of schema 0.3 documents, and the
``InvalidAutomationExecutionParametersException`` of the API reference): every name is declared; a parameter without
a ``default`` is given; the value has the declared ``type`` (``String``, ``StringList``, ``Integer``, ``Boolean``,
``MapList``, ``StringMap``); it is one of ``allowedValues``; each string matches ``allowedPattern``; a list has
``minItems``..``maxItems`` items. So ``Operation="Patch"``, ``MaxConcurrency="0"`` (outside the pattern) or
``RebootOption=7`` (not a String) are refused here, as SSM refuses them.
"""

from __future__ import annotations

import re
from typing import Any


class InvalidParameters(ValueError):
    """SSM would refuse the execution: the message names the parameter and the rule."""


class UndeclaredParameters(InvalidParameters):
    """The execution passes parameters the document does not declare (SSM rejects it)."""


def _typed(name: str, kind: str, value: Any) -> Any:
    if kind == "String":
        if not isinstance(value, str):
            raise InvalidParameters(f"{name}: {value!r} is not a String")
        return value
    if kind == "Integer":
        if isinstance(value, bool) or not (
            isinstance(value, int) or (isinstance(value, str) and re.fullmatch(r"-?\d+", value))
        ):
            raise InvalidParameters(f"{name}: {value!r} is not an Integer")
        return int(value)
    if kind == "Boolean":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise InvalidParameters(f"{name}: {value!r} is not a Boolean")
    if kind == "StringList":
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise InvalidParameters(f"{name}: {value!r} is not a StringList")
        return value
    if kind == "MapList":
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            raise InvalidParameters(f"{name}: {value!r} is not a MapList")
        return value
    if kind == "StringMap":
        if not isinstance(value, dict):
            raise InvalidParameters(f"{name}: {value!r} is not a StringMap")
        return value
    raise InvalidParameters(f"{name}: the document declares an unknown type {kind!r}")


def check_parameter(name: str, spec: dict[str, Any], value: Any) -> Any:
    """``value`` as the step inputs see it (typed), or :class:`InvalidParameters`."""
    kind = str(spec.get("type", "String"))
    # StartAutomationExecution carries every value as a list of strings: a one-item list is the value itself
    if kind not in ("StringList", "MapList") and isinstance(value, list) and len(value) == 1:
        value = value[0]
    typed = _typed(name, kind, value)
    allowed = spec.get("allowedValues")
    items = typed if isinstance(typed, list) else [typed]
    if allowed is not None:
        bad = [v for v in items if str(v) not in [str(a) for a in allowed]]
        if bad:
            raise InvalidParameters(f"{name}: {bad[0]!r} is not one of the allowed values {allowed}")
    pattern = spec.get("allowedPattern")
    if pattern is not None:
        bad = [v for v in items if isinstance(v, str) and re.search(pattern, v) is None]
        if bad:
            raise InvalidParameters(f"{name}: {bad[0]!r} does not match the allowed pattern {pattern}")
    if isinstance(typed, list):
        low, high = spec.get("minItems"), spec.get("maxItems")
        if low is not None and len(typed) < int(low):
            raise InvalidParameters(f"{name}: {len(typed)} item(s), the document wants at least {low}")
        if high is not None and len(typed) > int(high):
            raise InvalidParameters(f"{name}: {len(typed)} item(s), the document allows at most {high}")
    return typed


def check_parameters(declared: dict[str, Any], given: dict[str, Any]) -> dict[str, Any]:
    """Every declared parameter's value (given, else its default), typed and checked."""
    unknown = set(given) - set(declared)
    if unknown:
        raise UndeclaredParameters(f"undeclared parameters {sorted(unknown)} (SSM rejects the execution)")
    values: dict[str, Any] = {}
    for name, spec in declared.items():
        spec = spec or {}
        if name in given:
            values[name] = check_parameter(name, spec, given[name])
        elif "default" in spec:
            values[name] = spec["default"]
        else:
            raise InvalidParameters(f"{name}: required (the document gives it no default)")
    return values
