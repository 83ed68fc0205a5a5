"""The organization's change freezes (``org-patching:changeFreeze``): periods when nothing is installed.

Each freeze is an event of the hub's SSM Change Calendar (``components/hub/change_calendar.py``), a
``DEFAULT_OPEN`` calendar: CLOSED during a freeze, OPEN otherwise. Scheduled windows then scan instead of
installing, the ASG rebake does not start, and an emergency rollout needs an explicit override
(docs/operations.md, "Change freeze"). Times are UTC; a date alone means midnight UTC.
"""

from __future__ import annotations

import datetime
import re

from pydantic import Field, field_validator, model_validator

from .config_types import Model

#: Summary of a calendar event: printable text, no line breaks (an iCalendar line must not be broken by it).
_NAME = re.compile(r"^[\w .,:()/+&'-]{1,100}$")


def _utc(value: object) -> datetime.datetime:
    """A date (midnight UTC) or an ISO 8601 date-time with ``Z``/offset (converted to UTC); naive times are
    refused, so nobody's freeze moves with the deploying machine's time zone."""
    if isinstance(value, datetime.datetime):
        moment = value
    elif isinstance(value, datetime.date):
        moment = datetime.datetime.combine(value, datetime.time(), datetime.UTC)
    elif isinstance(value, str):
        text = value.strip()
        try:
            moment = (
                datetime.datetime.combine(datetime.date.fromisoformat(text), datetime.time(), datetime.UTC)
                if len(text) == 10
                else datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
            )
        except ValueError:
            raise ValueError(f"{value!r} is not a date (2026-12-20) or a UTC time (2026-12-20T18:00:00Z)") from None
    else:
        raise ValueError(f"{value!r} is not a date (2026-12-20) or a UTC time (2026-12-20T18:00:00Z)")
    if moment.tzinfo is None:
        raise ValueError(f"{value!r} has no time zone: end it with Z (UTC) or an offset like +01:00")
    return moment.astimezone(datetime.UTC).replace(microsecond=0)


class FreezeConfig(Model):
    """One freeze: from ``start`` (included) to ``end`` (excluded)."""

    name: str
    start: datetime.datetime
    end: datetime.datetime

    @field_validator("name")
    @classmethod
    def _printable(cls, value: str) -> str:
        if not _NAME.match(value):
            raise ValueError(f"{value!r} is not 1-100 letters, digits, spaces or .,:()/+&'-")
        return value

    @field_validator("start", "end", mode="before")
    @classmethod
    def _moment(cls, value: object) -> datetime.datetime:
        return _utc(value)

    @model_validator(mode="after")
    def _ordered(self) -> FreezeConfig:
        if self.end <= self.start:
            raise ValueError(f"freeze {self.name!r} ends ({self.end:%Y-%m-%dT%H:%M:%SZ}) before it starts")
        return self


class ChangeFreezeConfig(Model):
    """The freezes of the organization's change calendar (none: the calendar is always OPEN)."""

    freezes: list[FreezeConfig] = Field(default_factory=list, max_length=200)

    @field_validator("freezes")
    @classmethod
    def _unique_names(cls, values: list[FreezeConfig]) -> list[FreezeConfig]:
        seen: set[str] = set()
        for freeze in values:
            if freeze.name in seen:
                raise ValueError(f"freeze {freeze.name!r} is listed twice")
            seen.add(freeze.name)
        return values
