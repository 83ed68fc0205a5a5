"""A small IAM policy evaluator for the tests that attack rendered policy documents.

No maintained Python package evaluates one request against one policy document with its
conditions (the package index has linters and permission listers), so this covers what the
rendered documents use, with AWS's documented semantics ("Policy evaluation logic" and
"IAM JSON policy elements: Condition operators", IAM User Guide):

* an explicit ``Deny`` wins over any ``Allow``; nothing matching is an implicit deny;
* ``Action``/``NotAction`` and ``Resource``/``NotResource`` match with ``*``/``?`` wildcards,
  actions case-insensitively; ``${key}`` policy variables are substituted from the request context;
* ``Principal`` ``*`` or ``{"AWS": "*"}`` matches every principal, an account root matches every
  principal of that account, a service matches itself;
* condition operators ``String*``, ``Arn*``, ``Bool``, ``Null``, with ``IfExists`` and the
  ``ForAllValues:``/``ForAnyValue:`` set operators; a key absent from the request makes a
  condition false, except with ``IfExists`` (true) and ``Null``.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

Decision = Literal["allow", "deny", "implicit-deny"]
_VARIABLE = re.compile(r"\$\{([^}]+)\}")


@dataclass(frozen=True)
class Request:
    """One call: who (an ARN, or ``service:<name>``), what action, on which resource, with which context."""

    principal: str
    action: str
    resource: str
    context: Mapping[str, str | Sequence[str]] = field(default_factory=dict)


def _many(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _substitute(pattern: str, context: Mapping[str, Any]) -> str:
    def value(match: re.Match[str]) -> str:
        found = context.get(match.group(1))
        return str(found) if isinstance(found, str) else match.group(0)

    return _VARIABLE.sub(value, pattern)


def _like(value: str, pattern: str, *, case: bool = True) -> bool:
    if not case:
        value, pattern = value.lower(), pattern.lower()
    return fnmatch.fnmatchcase(value, pattern)


def _principal_matches(principal: Any, who: str) -> bool:
    if principal == "*":
        return True
    if not isinstance(principal, Mapping):
        return False
    if who.startswith("service:"):
        return who.removeprefix("service:") in _many(principal.get("Service", []))
    for allowed in _many(principal.get("AWS", [])):
        if allowed == "*" or allowed == who:
            return True
        account = who.split(":")[4] if who.count(":") >= 5 else None
        if allowed in (account, f"arn:aws:iam::{account}:root"):
            return True
    return False


def _compare(operator: str, actual: str, expected: str) -> bool:
    if operator in ("StringEquals", "ArnEquals"):
        return actual == expected
    if operator == "StringEqualsIgnoreCase":
        return actual.lower() == expected.lower()
    if operator in ("StringLike", "ArnLike"):
        return _like(actual, expected)
    if operator == "Bool":
        return actual.lower() == str(expected).lower()
    raise NotImplementedError(f"condition operator {operator}")


_NEGATED = {
    "StringNotEquals": "StringEquals",
    "StringNotEqualsIgnoreCase": "StringEqualsIgnoreCase",
    "StringNotLike": "StringLike",
    "ArnNotEquals": "ArnEquals",
    "ArnNotLike": "ArnLike",
}


def _condition(operator: str, key: str, expected: Any, context: Mapping[str, Any]) -> bool:
    expected_values = [_substitute(str(v), context) for v in _many(expected)]
    present = key in context
    if operator == "Null":
        return (not present) == (str(expected).lower() == "true")
    set_operator = None
    if ":" in operator:
        set_operator, operator = operator.split(":", 1)
    if_exists = operator.endswith("IfExists")
    operator = operator.removesuffix("IfExists")
    if not present:
        return if_exists or set_operator == "ForAllValues"
    actual_values = [str(v) for v in _many(context[key])]
    negated = operator in _NEGATED
    base = _NEGATED.get(operator, operator)

    def one(actual: str) -> bool:
        hit = any(_compare(base, actual, e) for e in expected_values)
        return not hit if negated else hit

    if set_operator == "ForAllValues":
        return all(one(a) for a in actual_values)
    return any(one(a) for a in actual_values)


def _statement_matches(statement: Mapping[str, Any], request: Request, resource_policy: bool) -> bool:
    if resource_policy and not _principal_matches(statement.get("Principal"), request.principal):
        return False
    if "Action" in statement:
        if not any(_like(request.action, a, case=False) for a in _many(statement["Action"])):
            return False
    elif any(_like(request.action, a, case=False) for a in _many(statement.get("NotAction", []))):
        return False
    patterns = [_substitute(r, request.context) for r in _many(statement.get("Resource", statement.get("NotResource")))]
    hit = any(_like(request.resource, p) for p in patterns)
    if hit != ("Resource" in statement):
        return False
    conditions = statement.get("Condition", {})
    return all(
        _condition(operator, key, expected, request.context)
        for operator, pairs in conditions.items()
        for key, expected in pairs.items()
    )


def evaluate(document: Mapping[str, Any], request: Request, *, resource_policy: bool = True) -> Decision:
    """The document's answer to ``request`` on its own (``resource_policy``: match ``Principal``)."""
    decision: Decision = "implicit-deny"
    for statement in _many(document.get("Statement", [])):
        if _statement_matches(statement, request, resource_policy):
            if statement.get("Effect") == "Deny":
                return "deny"
            decision = "allow"
    return decision
