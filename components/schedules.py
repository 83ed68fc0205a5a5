"""Schedule expressions as SSM maintenance windows and EventBridge accept them.

Validated here, at preview time, so a typo fails with the key that holds it instead of
halfway through ``pulumi up`` (AWS rejects it only when the window is created).
"""

from __future__ import annotations

import re

_RATE = re.compile(r"^rate\((?P<n>[1-9][0-9]*) (?P<unit>minutes?|hours?|days?)\)$")
_AT = re.compile(r"^at\(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\)$")
_DAYS = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")
_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")

# (name, low, high, names allowed) for the six fields of an AWS cron expression.
_FIELDS: tuple[tuple[str, int, int, tuple[str, ...]], ...] = (
    ("minutes", 0, 59, ()),
    ("hours", 0, 23, ()),
    ("day-of-month", 1, 31, ()),
    ("month", 1, 12, _MONTHS),
    ("day-of-week", 1, 7, _DAYS),
    ("year", 1970, 2199, ()),
)


def _check_value(token: str, low: int, high: int, names: tuple[str, ...]) -> bool:
    if token.upper() in names:
        return True
    return token.isdigit() and low <= int(token) <= high


def _check_field(value: str, name: str, low: int, high: int, names: tuple[str, ...]) -> str | None:
    for part in value.split(","):
        base, _, step = part.partition("/")
        if step and not (step.isdigit() and int(step) > 0):
            return f"{name} step {step!r} is not a positive number"
        if base == "*":
            continue
        if name == "day-of-week" and "#" in base:
            day, _, nth = base.partition("#")
            if not (_check_value(day, low, high, names) and nth in {"1", "2", "3", "4", "5"}):
                return f"{name} {base!r} is not <day>#<1-5>"
            continue
        if name in ("day-of-month", "day-of-week") and base in ("L", "W", "LW"):
            continue
        if name == "day-of-week" and base.endswith("L") and _check_value(base[:-1], low, high, names):
            continue
        if name == "day-of-month" and base.endswith("W") and _check_value(base[:-1], low, high, names):
            continue
        bounds = base.split("-")
        if len(bounds) > 2 or not all(_check_value(b, low, high, names) for b in bounds):
            allowed = f"{low}-{high}" + (f" or {','.join(names)}" if names else "")
            return f"{name} {part!r} is out of range ({allowed})"
    return None


def schedule_problem(expression: str) -> str | None:
    """Why ``expression`` is not a valid AWS schedule, or ``None`` when it is.

    Accepts ``cron(min hour day-of-month month day-of-week year)`` (exactly one of the two day
    fields is ``?``), ``rate(N unit)`` with the singular unit for 1, and ``at(yyyy-mm-ddThh:mm:ss)``.
    """
    if _AT.match(expression):
        return None
    rate = _RATE.match(expression)
    if rate:
        n, unit = int(rate["n"]), rate["unit"]
        if (n == 1) != (not unit.endswith("s")):
            return f"rate({n} {unit}): use the singular unit for 1 and the plural otherwise"
        return None
    if not (expression.startswith("cron(") and expression.endswith(")")):
        return "must be cron(...), rate(...) or at(...)"
    fields = expression[5:-1].split()
    if len(fields) != 6:
        return f"cron needs 6 fields (minutes hours day-of-month month day-of-week year), got {len(fields)}"
    day_of_month, day_of_week = fields[2], fields[4]
    if (day_of_month == "?") == (day_of_week == "?"):
        return "cron: exactly one of day-of-month and day-of-week must be '?'"
    for value, (name, low, high, names) in zip(fields, _FIELDS, strict=True):
        if value == "?":
            continue
        problem = _check_field(value, name, low, high, names)
        if problem:
            return f"cron: {problem}"
    return None
