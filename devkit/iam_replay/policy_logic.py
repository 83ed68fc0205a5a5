"""Statement matching as IAM does it: actions, resources, policy variables, condition operators.

Written here because no maintained evaluator on the package index fits: principalmapper's local
simulator (last release 2021) no longer imports on Python 3.10+, and moto's ``IAMPolicyStatement``
turns an Allow whose condition is unmet into a Deny and knows few operators. The rules below are
the IAM User Guide's "IAM JSON policy elements" reference:

* ``Action``/``NotAction`` match case-insensitively with ``*`` and ``?`` wildcards;
* ``Resource``/``NotResource`` match case-sensitively with wildcards, after policy variables
  (``${aws:PrincipalAccount}``...) are replaced from the request context;
* ``Condition``: every operator block must hold, every key within it must hold, and any of a key's
  values may match; ``...IfExists`` holds when the key is absent; ``ForAnyValue:``/``ForAllValues:``
  compare multi-valued keys; a missing key makes a positive operator false and a negated one true.
"""

from __future__ import annotations

import fnmatch
import functools
import ipaddress
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

_VARIABLE = re.compile(r"\$\{([^}]+)\}")


def _listed(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list | tuple) else [value]


@functools.lru_cache(maxsize=4096)
def _pattern(text: str, ignore_case: bool) -> re.Pattern[str]:
    return re.compile(fnmatch.translate(text), re.IGNORECASE if ignore_case else 0)


def _like(pattern: str, value: str, ignore_case: bool = False) -> bool:
    # fnmatch treats "[" as a character class; IAM does not.
    escaped = pattern.replace("[", "[[]")
    return _pattern(escaped, ignore_case).match(value) is not None


def _context_value(context: Mapping[str, Any], key: str) -> Any:
    lowered = key.lower()
    return next((v for k, v in context.items() if k.lower() == lowered), None)


def substitute(text: str, context: Mapping[str, Any]) -> str | None:
    """``text`` with its policy variables filled; ``None`` when one has no value (no match)."""
    missing = False

    def fill(match: re.Match[str]) -> str:
        nonlocal missing
        name = match.group(1)
        if name in ("*", "?", "$"):
            return name
        value = _context_value(context, name)
        if value is None or isinstance(value, list):
            missing = True
            return ""
        return str(value)

    filled = _VARIABLE.sub(fill, text)
    return None if missing else filled


def _arn_like(pattern: str, value: str) -> bool:
    # ArnLike compares the six colon-separated parts, each with wildcards.
    p, v = pattern.split(":", 5), value.split(":", 5)
    if len(p) != 6 or len(v) != 6:
        return _like(pattern, value)
    return all(_like(a, b) for a, b in zip(p, v, strict=True))


def _number(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _ip(pattern: str, value: str) -> bool:
    try:
        return ipaddress.ip_address(value) in ipaddress.ip_network(pattern, strict=False)
    except ValueError:
        return False


Comparator = Callable[[str, str], bool]

_OPERATORS: Mapping[str, tuple[Comparator, bool]] = {
    # name: (compare(policy_value, request_value), negated)
    "StringEquals": (lambda p, v: p == v, False),
    "StringNotEquals": (lambda p, v: p == v, True),
    "StringEqualsIgnoreCase": (lambda p, v: p.lower() == v.lower(), False),
    "StringNotEqualsIgnoreCase": (lambda p, v: p.lower() == v.lower(), True),
    "StringLike": (_like, False),
    "StringNotLike": (_like, True),
    "ArnEquals": (_arn_like, False),
    "ArnLike": (_arn_like, False),
    "ArnNotEquals": (_arn_like, True),
    "ArnNotLike": (_arn_like, True),
    "Bool": (lambda p, v: p.lower() == v.lower(), False),
    "NumericEquals": (lambda p, v: _number(p) is not None and _number(p) == _number(v), False),
    "NumericNotEquals": (lambda p, v: _number(p) is not None and _number(p) == _number(v), True),
    "NumericLessThan": (lambda p, v: (_number(v) or 0) < (_number(p) or 0), False),
    "NumericLessThanEquals": (lambda p, v: (_number(v) or 0) <= (_number(p) or 0), False),
    "NumericGreaterThan": (lambda p, v: (_number(v) or 0) > (_number(p) or 0), False),
    "NumericGreaterThanEquals": (lambda p, v: (_number(v) or 0) >= (_number(p) or 0), False),
    "IpAddress": (_ip, False),
    "NotIpAddress": (_ip, True),
}


class UnknownOperator(ValueError):
    """A condition operator the replay does not implement: reported, never treated as a match."""


def _operator_holds(operator: str, key: str, expected: Any, context: Mapping[str, Any]) -> bool:
    qualifier, _, name = operator.rpartition(":")
    if_exists = name.endswith("IfExists")
    base = name.removesuffix("IfExists")
    actual = _context_value(context, key)
    if base == "Null":
        wanted = str(_listed(expected)[0]).lower() == "true"
        return (actual is None) == wanted
    if base not in _OPERATORS:
        raise UnknownOperator(operator)
    compare, negated = _OPERATORS[base]
    if actual is None:
        # IAM User Guide, "Condition element": an absent key does not match, so the condition is
        # false -- except for negated operators (StringNotEquals, ArnNotLike...), which are true,
        # ``...IfExists`` (true), and ForAllValues over the empty set (vacuously true).
        return if_exists or negated or qualifier == "ForAllValues"
    patterns = [substitute(str(p), context) for p in _listed(expected)]
    values = [str(v) for v in _listed(actual)]

    def matches(value: str) -> bool:
        return any(p is not None and compare(p, value) for p in patterns)

    if qualifier == "ForAllValues":
        result = all(matches(v) for v in values)
        return not result if negated else result
    if qualifier == "ForAnyValue":
        result = any(matches(v) for v in values)
        return not result if negated else result
    hit = any(matches(v) for v in values)
    return not hit if negated else hit


def conditions_hold(conditions: Mapping[str, Mapping[str, Any]], context: Mapping[str, Any]) -> bool:
    return all(
        _operator_holds(operator, key, expected, context)
        for operator, block in conditions.items()
        for key, expected in block.items()
    )


def _action_matches(statement: Mapping[str, Any], action: str) -> bool:
    if "Action" in statement:
        return any(_like(str(a), action, ignore_case=True) for a in _listed(statement["Action"]))
    return not any(_like(str(a), action, ignore_case=True) for a in _listed(statement.get("NotAction", [])))


def _resource_matches(statement: Mapping[str, Any], resource: str, context: Mapping[str, Any]) -> bool:
    def one(pattern: str) -> bool:
        filled = substitute(pattern, context)
        return filled is not None and _like(filled, resource)

    if "Resource" in statement:
        return any(one(str(r)) for r in _listed(statement["Resource"]))
    if "NotResource" in statement:
        return not any(one(str(r)) for r in _listed(statement["NotResource"]))
    return True  # resource policies may omit it: the statement applies to the resource it is attached to


def statements(policy: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return [s for s in _listed(policy.get("Statement", []))]


def any_statement_matches(
    policies: Iterable[Mapping[str, Any]], effect: str, action: str, resource: str, context: Mapping[str, Any]
) -> bool:
    """Whether a statement with ``effect`` in ``policies`` applies to (action, resource, context)."""
    for policy in policies:
        for statement in statements(policy):
            if statement.get("Effect") != effect:
                continue
            if not _action_matches(statement, action) or not _resource_matches(statement, resource, context):
                continue
            if conditions_hold(statement.get("Condition", {}), context):
                return True
    return False
