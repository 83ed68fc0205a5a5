"""Maintenance windows' ``NextExecutionTime`` and ``UpdateMaintenanceWindow``, which moto 5.2 lacks.

moto documents that GetMaintenanceWindow and DescribeMaintenanceWindows do not return ``NextExecutionTime`` and
it has no UpdateMaintenanceWindow, so a window a team moves could neither be moved nor be seen moving. What AWS
does, from the AWS Systems Manager API Reference and User Guide:

* ``NextExecutionTime`` (GetMaintenanceWindow, MaintenanceWindowIdentity): "The next time the maintenance window
  will actually run, taking into account any specified times for the maintenance window to become active or
  inactive" (``StartDate``/``EndDate``, ISO-8601 extended). Given here in UTC, ``YYYY-MM-DDTHH:MMZ``; a disabled
  window, or one past its ``EndDate``, has none.
* ``Schedule``: ``cron(minutes hours day-of-month month day-of-week year)`` (AWS's six fields; day-of-week 1-7 is
  SUN-SAT; ``?``, ``L``, ``<day>L`` and ``<day>#<n>`` as in the User Guide's "Reference: Cron and rate
  expressions for Systems Manager"), ``rate(N unit)`` (from ``StartDate``, else from the window's creation) or
  ``at(yyyy-mm-ddThh:mm:ss)``, read in ``ScheduleTimezone`` (IANA; UTC when absent).
* ``ScheduleOffset``: "The number of days to wait after the date and time specified by a cron expression before
  running the maintenance window" (cron only).
* DescribeMaintenanceWindows: "Supported filter keys are ``Name`` and ``Enabled``" (moto filters by Name only).
* UpdateMaintenanceWindow changes only the members it is given (``Replace``: the optional ones not given are
  cleared), and answers with the window.

"Now" is the emulator's virtual clock (:mod:`devkit.virtual_clock`), so a test moves time explicitly.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from devkit.virtual_clock import CLOCK

_DAYS = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")
_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_RATE = re.compile(r"^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$")
_AT = re.compile(r"^at\((\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})\)$")
#: How far ahead a cron expression is searched (a year field may push a run years away).
_HORIZON_DAYS = 5 * 366


class ScheduleError(ValueError):
    """A schedule the emulator cannot evaluate (AWS would have refused it at CreateMaintenanceWindow)."""


def _value(token: str, names: tuple[str, ...], base: int) -> int:
    upper = token.upper()
    if upper in names:
        return names.index(upper) + base
    if not token.isdigit():
        raise ScheduleError(f"bad cron value {token!r}")
    return int(token)


def _field(text: str, low: int, high: int, names: tuple[str, ...] = ()) -> set[int]:
    """The values a plain cron field allows (``*``, ``a-b``, ``a/n``, ``a-b/n``, lists; ``?`` means any)."""
    values: set[int] = set()
    for part in text.split(","):
        base, _, step = part.partition("/")
        if base in ("*", "?"):
            first, last = low, high
        elif "-" in base:
            start, end = base.split("-", 1)
            first, last = _value(start, names, low), _value(end, names, low)
        else:
            first = _value(base, names, low)
            last = high if step else first
        values.update(range(first, last + 1, int(step) if step else 1))
    return values


def _day_matches(day: date, dom: str, dow: str) -> bool:
    """AWS cron's day fields: exactly one is ``?``; ``L``, ``<day>L`` and ``<day>#<n>`` supported."""
    last = calendar.monthrange(day.year, day.month)[1]
    aws_weekday = (day.isoweekday() % 7) + 1  # SUN=1 ... SAT=7
    if dom != "?":
        if dom == "L":
            return day.day == last
        return day.day in _field(dom, 1, 31)
    for part in dow.split(","):
        if "#" in part:
            weekday, nth = part.split("#", 1)
            if aws_weekday == _value(weekday, _DAYS, 1) and (day.day - 1) // 7 + 1 == int(nth):
                return True
        elif part.endswith("L") and len(part) > 1:
            if aws_weekday == _value(part[:-1], _DAYS, 1) and day.day + 7 > last:
                return True
        elif aws_weekday in _field(part, 1, 7, _DAYS):
            return True
    return False


def next_cron(expression: str, after: datetime) -> datetime | None:
    """The first time after ``after`` (naive local time) that ``cron(...)`` names, or ``None`` within the horizon."""
    fields = expression[len("cron(") : -1].split()
    if len(fields) != 6:
        raise ScheduleError(f"{expression}: AWS cron has 6 fields")
    minute_f, hour_f, dom, month_f, dow, year_f = fields
    minutes, hours = sorted(_field(minute_f, 0, 59)), sorted(_field(hour_f, 0, 23))
    months, years = _field(month_f, 1, 12, _MONTHS), _field(year_f, 1970, 2199)
    day = after.date()
    for _ in range(_HORIZON_DAYS):
        if day.year in years and day.month in months and _day_matches(day, dom, dow):
            for hour in hours:
                for minute in minutes:
                    candidate = datetime(day.year, day.month, day.day, hour, minute)
                    if candidate > after:
                        return candidate
        day += timedelta(days=1)
    return None


def next_execution(window: Any, now: datetime) -> datetime | None:
    """When ``window`` (moto's FakeMaintenanceWindow) runs next after ``now`` (aware), in UTC."""
    if not getattr(window, "_org_patching_enabled", True):
        return None
    zone = ZoneInfo(window.schedule_timezone or "UTC")
    start = datetime.fromisoformat(window.start_date).astimezone(UTC) if window.start_date else None
    end = datetime.fromisoformat(window.end_date).astimezone(UTC) if window.end_date else None
    after = max(now, start) if start else now
    schedule: str = window.schedule
    found: datetime | None
    if schedule.startswith("cron("):
        offset = timedelta(days=int(window.schedule_offset or 0))
        local = (after - offset).astimezone(zone).replace(tzinfo=None)
        cron = next_cron(schedule, local)
        found = (cron.replace(tzinfo=zone) + offset).astimezone(UTC) if cron else None
    elif match := _AT.match(schedule):
        at = datetime.fromisoformat(match[1]).replace(tzinfo=zone).astimezone(UTC)
        found = at if at > after else None
    elif match := _RATE.match(schedule):
        unit = {"minute": 60, "hour": 3600, "day": 86400}[match[2].rstrip("s")]
        period = timedelta(seconds=int(match[1]) * unit)
        created: datetime = getattr(window, "_org_patching_created", now)
        origin = start or created
        steps = max(0, int((after - origin) // period) + 1)
        found = origin + steps * period
    else:
        raise ScheduleError(f"unknown schedule {schedule!r}")
    if found is None or (end is not None and found > end):
        return None
    return found


def _stamp(found: datetime | None) -> str | None:
    return found.strftime("%Y-%m-%dT%H:%MZ") if found else None


def install() -> None:
    """Patch moto's window model and SSM responses (idempotent)."""
    from moto.core.responses import ActionResult
    from moto.ssm.models import FakeMaintenanceWindow, SimpleSystemManagerBackend
    from moto.ssm.responses import SimpleSystemManagerResponse

    if getattr(FakeMaintenanceWindow, "_org_patching_schedule", False):
        return
    original_init: Callable[..., None] = FakeMaintenanceWindow.__init__
    original_json: Callable[[Any], dict[str, Any]] = FakeMaintenanceWindow.to_json

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        original_init(self, *args, **kwargs)
        self._org_patching_created = datetime.fromtimestamp(CLOCK.now(), UTC)
        self._org_patching_enabled = True

    def to_json(self: Any) -> dict[str, Any]:
        answer = original_json(self)
        answer["Enabled"] = getattr(self, "_org_patching_enabled", True)
        stamp = _stamp(next_execution(self, datetime.fromtimestamp(CLOCK.now(), UTC)))
        if stamp:
            answer["NextExecutionTime"] = stamp
        return {key: value for key, value in answer.items() if value is not None}

    def update_maintenance_window(self: Any) -> ActionResult:
        window = self.ssm_backend.get_maintenance_window(self._get_param("WindowId"))
        replace = bool(self._get_param("Replace"))
        members = {
            "Name": "name",
            "Description": "description",
            "StartDate": "start_date",
            "EndDate": "end_date",
            "Schedule": "schedule",
            "ScheduleTimezone": "schedule_timezone",
            "ScheduleOffset": "schedule_offset",
            "Duration": "duration",
            "Cutoff": "cutoff",
        }
        optional = {"Description", "StartDate", "EndDate", "ScheduleTimezone", "ScheduleOffset"}
        for member, attribute in members.items():
            value = self._get_param(member)
            if value is not None:
                setattr(window, attribute, value)
            elif replace and member in optional:
                setattr(window, attribute, None)
        if self._get_param("Enabled") is not None:
            window._org_patching_enabled = bool(self._get_param("Enabled"))
        answer = window.to_json()
        keys = ("WindowId", "Name", "Description", "StartDate", "EndDate", "Schedule", "ScheduleTimezone")
        result = {
            key: answer[key] for key in (*keys, "ScheduleOffset", "Duration", "Cutoff", "Enabled") if key in answer
        }
        return ActionResult(result)

    original_describe: Callable[..., list[Any]] = SimpleSystemManagerBackend.describe_maintenance_windows

    def describe_maintenance_windows(self: Any, filters: list[dict[str, Any]] | None) -> list[Any]:
        found = original_describe(self, filters)
        for wanted in filters or []:
            if wanted["Key"] == "Enabled":
                values = {str(v).lower() for v in wanted["Values"]}
                found = [w for w in found if str(getattr(w, "_org_patching_enabled", True)).lower() in values]
        return found

    SimpleSystemManagerBackend.describe_maintenance_windows = describe_maintenance_windows  # type: ignore[method-assign]
    FakeMaintenanceWindow.__init__ = __init__  # type: ignore[method-assign]
    FakeMaintenanceWindow.to_json = to_json  # type: ignore[method-assign]
    FakeMaintenanceWindow._org_patching_schedule = True  # type: ignore[attr-defined]
    SimpleSystemManagerResponse.update_maintenance_window = update_maintenance_window  # type: ignore[attr-defined]
