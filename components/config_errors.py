"""Config errors as sentences a user acts on: the key path, and what is wrong with its value.

pydantic's own wording ("Input should be a valid string", "Field required") names the library's
view of the problem; these helpers name the user's (quote the account id, the key that was
probably meant). Used by both stacks' loader and the admin program's.
"""

from __future__ import annotations

import difflib
import types
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError

NAMESPACE = "org-patching"


class PathError(ValueError):
    """A model-level validation error that knows which nested key it is about."""

    def __init__(self, path: tuple[str | int, ...], message: str) -> None:
        super().__init__(message)
        self.path = path


#: Keys whose values are AWS account ids: an unquoted id is read by YAML as a number.
_ACCOUNT_ID_KEYS = frozenset({"id", "centralAccountId", "accounts", "exclude"})


def key_path(loc: tuple[str | int, ...], namespace: str = NAMESPACE) -> str:
    """``("accounts", 1, "id")`` -> ``org-patching:accounts[1].id``."""
    path = f"{namespace}:"
    for index, part in enumerate(loc):
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            part = part if part.isprintable() else repr(part)  # a key with a line break stays on one line
            path += part if index == 0 else f".{part}"
    return path


def _unwrap(annotation: Any) -> Any:
    """``Annotated[X, ...]``, ``X | None`` -> ``X`` (one level of each, as the models use them)."""
    while True:
        origin = get_origin(annotation)
        if origin is Annotated:
            annotation = get_args(annotation)[0]
        elif origin in (Union, types.UnionType):
            members = [a for a in get_args(annotation) if a is not type(None)]
            if len(members) != 1:
                return annotation
            annotation = members[0]
        else:
            return annotation


def keys_at(model: type[BaseModel], loc: tuple[str | int, ...]) -> list[str]:
    """The config keys a model accepts at ``loc`` (``("patching", "defaultWindow")``), [] if unknown."""
    annotation: Any = model
    for part in loc:
        annotation = _unwrap(annotation)
        if isinstance(part, int):
            if get_origin(annotation) is not list:
                return []
            annotation = get_args(annotation)[0]
        elif get_origin(annotation) is dict:  # a mapping of names to settings (the admin's ``stacks``)
            annotation = get_args(annotation)[1]
        elif isinstance(annotation, type) and issubclass(annotation, BaseModel):
            field = next(
                (f for name, f in annotation.model_fields.items() if part in (name, f.alias)),
                None,
            )
            if field is None:
                return []
            annotation = field.annotation
        else:
            return []
    annotation = _unwrap(annotation)
    if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
        return []
    return [f.alias or name for name, f in annotation.model_fields.items()]


def closest_key(key: str, candidates: list[str]) -> str | None:
    """The key the user most likely meant (case-insensitive: ``orgid`` -> ``orgId``)."""
    by_lower = {c.lower(): c for c in candidates}
    if key.lower() in by_lower:
        return by_lower[key.lower()]
    match = difflib.get_close_matches(key.lower(), list(by_lower), n=1, cutoff=0.6)
    return by_lower[match[0]] if match else None


def unknown_key_message(key: str, candidates: list[str]) -> str:
    intended = closest_key(key, candidates)
    if intended:
        return f"unknown key {key!r}; did you mean {intended!r}?"
    if candidates:
        return f"unknown key {key!r} (known keys here: {', '.join(sorted(candidates))})"
    return f"unknown key {key!r}"


def _quote_advice(value: Any, loc: tuple[str | int, ...]) -> str:
    """An unquoted YAML scalar arrived where text is expected: say how to write it."""
    names = [p for p in loc if isinstance(p, str)]
    if names and names[-1] in _ACCOUNT_ID_KEYS and isinstance(value, int) and not isinstance(value, bool):
        if len(str(value)) == 12:
            return f'quote the account id: write "{value}" (unquoted, YAML reads it as a number)'
        return (
            f"quote the account id: unquoted, YAML read it as the number {value} and lost digits "
            "(leading zeros); write all 12 digits in quotes"
        )
    kind = "true/false" if isinstance(value, bool) else "a number" if isinstance(value, int | float) else "not text"
    return f"write this value in quotes: unquoted, YAML reads it as {kind} (got {value!r})"


def _plain_message(detail: Any, loc: tuple[str | int, ...]) -> str:
    """A pydantic error detail as a sentence a user acts on (with the value when it helps)."""
    kind = detail["type"]
    value = detail.get("input")
    ctx = detail.get("ctx") or {}
    if kind == "string_type" and isinstance(value, int | float | bool):
        return _quote_advice(value, loc)
    plain = {
        "string_type": "must be text",
        "int_type": "must be a whole number",
        "int_parsing": "must be a whole number",
        "int_from_float": "must be a whole number",
        "bool_type": "must be true or false",
        "bool_parsing": "must be true or false",
        "list_type": "must be a list",
        "dict_type": "must be a mapping (key: value lines)",
        "model_type": "must be a mapping (key: value lines)",
        "model_attributes_type": "must be a mapping (key: value lines)",
        "greater_than_equal": f"must be at least {ctx.get('ge')}",
        "less_than_equal": f"must be at most {ctx.get('le')}",
        "too_short": f"needs at least {ctx.get('min_length')} item(s)",
        "too_long": f"takes at most {ctx.get('max_length')} item(s)",
        "string_too_short": f"must be at least {ctx.get('min_length')} character(s) long",
        "string_too_long": f"must be at most {ctx.get('max_length')} characters long",
        "literal_error": f"must be {ctx.get('expected')}",
    }.get(kind)
    message = plain or detail["msg"]
    return f"{message} (got {value!r})"


def describe_validation_error(
    error: ValidationError, namespace: str = NAMESPACE, model: type[BaseModel] | None = None
) -> tuple[str, str]:
    """(key path, one-line problem) of a pydantic error: the user fixes one thing at a time and
    every message names exactly where.

    An unknown key comes first: a misspelled key (``orgid``) also makes the intended one
    (``orgId``) "missing", and naming the misspelling (with ``model``, the key meant) is what
    lets the user fix both at once.
    """
    details = error.errors(include_url=False)
    detail = next((d for d in details if d["type"] == "extra_forbidden"), details[0])
    loc: tuple[str | int, ...] = tuple(
        p for p in detail["loc"] if not (isinstance(p, str) and p.startswith("function-"))
    )
    context_error = (detail.get("ctx") or {}).get("error")
    if isinstance(context_error, PathError):
        loc = (*loc, *context_error.path)
        message = str(context_error)
    elif detail["type"] == "extra_forbidden":
        candidates = keys_at(model, loc[:-1]) if model is not None else []
        message = unknown_key_message(str(loc[-1]), candidates)
    elif detail["type"] == "missing":
        message = "is required"
    elif detail["type"] in ("value_error", "assertion_error"):
        message = detail["msg"].removeprefix("Value error, ").removeprefix("Assertion failed, ")
    else:
        message = _plain_message(detail, loc)
    return key_path(loc, namespace), message
