"""Request models whose errors read as one line: ``field: value why``.

A function that reads its input with the Powertools parser (pydantic models) still owes the caller
one line naming the field, the value and the reason. The checks here run before pydantic's own
(``BeforeValidator``), so pydantic never coerces a value the function would refuse, and each raises
only *why*; :func:`first_problem` adds where it failed and the value.

Imported only by functions that use the parser (pydantic comes with the Powertools layer).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails, PydanticCustomError

ERROR_TYPE = "request_field"


def reject(why: str, **context: Any) -> PydanticCustomError:
    """Why a value is wrong. ``value=`` names another value than the field's (e.g. the repeated item),
    ``whole=True`` names none, ``field=`` names another field (for a check across fields)."""
    return PydanticCustomError(ERROR_TYPE, "{why}", {"why": why, **context})


def one_of(allowed: tuple[str, ...]) -> Callable[[Any], Any]:
    """A check: the value is one of ``allowed``; an explicit ``null`` is a missing value."""

    def check(value: Any) -> Any:
        if value is None:
            raise reject(f"is required (one of {', '.join(allowed)})", whole=True)
        if value not in allowed:
            raise reject(f"is not one of {', '.join(allowed)}")
        return value

    return check


def matching(pattern: re.Pattern[str], what: str, converts_int: bool = False) -> Callable[[Any], Any]:
    """A check: a string ``pattern`` matches (``converts_int``: a whole number is read as its digits)."""

    def check(value: Any) -> Any:
        if converts_int and isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str) or not pattern.match(value):
            raise reject(f"is not {what}", value=value)
        return value

    return check


def yes_no(value: Any) -> str:
    """``Yes``/``No`` in any case, or a JSON boolean, as ``Yes`` or ``No``."""
    if value is True or value is False:
        return "Yes" if value else "No"
    if not isinstance(value, str) or value.lower() not in ("yes", "no"):
        raise reject("is not Yes or No")
    return "Yes" if value.lower() == "yes" else "No"


def unique_strings(value: Any) -> Any:
    """A list of strings without repeats (a present ``null`` is an error like any other non-list)."""
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise reject("is not a list of strings")
    if len(set(value)) != len(value):
        raise reject("is listed twice", value=next(v for v in value if value.count(v) > 1))
    return value


def pattern_schema(pattern: re.Pattern[str]) -> dict[str, Any]:
    """The JSON Schema of a string that ``pattern`` matches. Python's ``\\Z`` (end of text, where ``$``
    also matches before a trailing newline) is ``$`` in JSON Schema's ECMA-262 dialect, where ``$``
    without the multiline flag already means end of input."""
    return {"type": "string", "pattern": pattern.pattern.replace(r"\Z", "$")}


def without_nulls(schema: dict[str, Any]) -> None:
    """``json_schema_extra`` of a model whose optional fields mean "left out: the configured default": the checks
    refuse an explicit ``null``, so the schema neither allows ``null`` nor shows ``None`` as a default."""
    for prop in schema.get("properties", {}).values():
        options = [option for option in prop.pop("anyOf", []) if option.get("type") != "null"]
        if len(options) == 1:
            prop.update(options[0])
        elif options:
            prop["anyOf"] = options
        if "default" in prop and prop["default"] is None:
            del prop["default"]


def where(location: tuple[int | str, ...]) -> str:
    """``("targets", "accounts", 0)`` -> ``targets.accounts[0]``."""
    return "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in location).lstrip(".")


@dataclass(frozen=True)
class Hints:
    """What a model adds to pydantic's own error types, per field path (``""``: the input itself)."""

    #: Why a required field is missing (e.g. ``is required (one of Scan, Install)``).
    missing: Mapping[str, str]
    #: Why a value that is not an object is wrong, per object field.
    not_an_object: Mapping[str, str]
    #: The fields an object knows, per object, for a field that is not one of them.
    unknown: Mapping[str, str]


def message(error: ErrorDetails, hints: Hints) -> str:
    """One pydantic error as one line naming the field, the value and why."""
    field, context, value = where(error["loc"]), error.get("ctx") or {}, error["input"]
    if error["type"] == ERROR_TYPE:
        field = context.get("field", field)
        if context.get("whole"):
            return f"{field}: {context['why']}"
        return f"{field}: {context.get('value', value)!r} {context['why']}"
    if error["type"] == "extra_forbidden":
        return f"{field}: {value!r} is not a known field ({hints.unknown[where(error['loc'][:-1])]})"
    if error["type"] == "missing":
        return f"{field}: {hints.missing.get(field, 'is required')}"
    if error["type"] in ("model_type", "model_attributes_type", "dict_type") and field in hints.not_an_object:
        return f"{field or 'input'}: {value!r} {hints.not_an_object[field]}"
    return f"{field or 'input'}: {value!r} {error['msg']}"


def first_problem(invalid: ValidationError, hints: Hints) -> str:
    """The line for the first error, an unknown top-level field first (a typo must never pass unnoticed)."""
    errors = sorted(invalid.errors(), key=lambda e: not (e["type"] == "extra_forbidden" and len(e["loc"]) == 1))
    return message(errors[0], hints)
