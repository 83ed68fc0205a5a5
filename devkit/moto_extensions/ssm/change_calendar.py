"""SSM Change Calendar for moto: ``ChangeCalendar`` documents in ``TEXT`` format, shared like any document, and
``GetCalendarState`` (moto 5.2 refuses the TEXT format and lacks the operation).

What AWS documents, and what is emulated:

* A change calendar is an SSM document of type ``ChangeCalendar``, format ``TEXT``, whose content is an iCalendar
  2.0 file with ``X-CALENDAR-TYPE`` ``DEFAULT_OPEN`` or ``DEFAULT_CLOSED``; during an event a ``DEFAULT_OPEN``
  calendar is ``CLOSED`` and a ``DEFAULT_CLOSED`` one ``OPEN`` (AWS Systems Manager User Guide, "Change
  Calendar", "Creating a change calendar"; botocore ``ssm``: ``DocumentFormat`` enum ``YAML``/``JSON``/``TEXT``).
  Content that is not such a calendar is refused with ``InvalidDocumentContent``.
* ``GetCalendarState(CalendarNames, AtTime)``: each name is a calendar of the caller's account or the ARN of one
  shared with it (User Guide, "Getting the state of a change calendar": "calendar name or document ARN"; sharing
  is the document's permission, as for runbooks); the answer is ``CLOSED`` when any calendar is CLOSED at
  ``AtTime`` (default: now on the emulator's virtual clock), with ``NextTransitionTime`` when the state next
  changes (API reference, GetCalendarState). A name that is not a calendar the caller can read is
  ``InvalidDocument``; a calendar that is not of type ``ChangeCalendar`` is ``InvalidDocumentType``.

The emulator evaluates the event forms org-patching writes and the console's one-off events: ``DTSTART``/``DTEND``
as UTC date-times (``...Z``) or dates (``VALUE=DATE``). Recurring events (``RRULE``) are refused with a clear
``InvalidDocumentContent`` rather than evaluated wrongly.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from devkit.virtual_clock import CLOCK

TYPES = ("DEFAULT_OPEN", "DEFAULT_CLOSED")
_ARN = re.compile(r"^arn:aws[a-z-]*:ssm:([a-z0-9-]+):(\d{12}):document/([A-Za-z0-9_.-]{3,128})$")


class CalendarContentError(ValueError):
    """The content is not a change calendar the emulator can evaluate."""


@dataclass(frozen=True)
class Calendar:
    kind: str
    events: tuple[tuple[datetime.datetime, datetime.datetime], ...]

    def closed_at(self, moment: datetime.datetime) -> bool:
        inside = any(start <= moment < end for start, end in self.events)
        return inside if self.kind == "DEFAULT_OPEN" else not inside

    def next_transition(self, moment: datetime.datetime) -> datetime.datetime | None:
        now = self.closed_at(moment)
        for boundary in sorted({b for event in self.events for b in event if b > moment}):
            if self.closed_at(boundary) != now:
                return boundary
        return None


def _moment(line: str) -> datetime.datetime:
    value = line.split(":", 1)[1].strip()
    try:
        if "VALUE=DATE" in line.split(":", 1)[0] or len(value) == 8:
            return datetime.datetime.strptime(value, "%Y%m%d").replace(tzinfo=datetime.UTC)
        if value.endswith("Z"):
            return datetime.datetime.strptime(value, "%Y%m%dT%H%M%SZ").replace(tzinfo=datetime.UTC)
    except ValueError:
        pass
    raise CalendarContentError(f"{line!r}: only UTC date-times (20261220T000000Z) and dates are evaluated")


def parse_calendar(content: str) -> Calendar:
    lines = [line.strip() for line in content.replace("\r\n", "\n").split("\n") if line.strip()]
    if not lines or lines[0] != "BEGIN:VCALENDAR" or lines[-1] != "END:VCALENDAR":
        raise CalendarContentError("the content is not an iCalendar file (BEGIN:VCALENDAR ... END:VCALENDAR)")
    kinds = [line.split(":", 1)[1] for line in lines if line.startswith("X-CALENDAR-TYPE:")]
    if len(kinds) != 1 or kinds[0] not in TYPES:
        raise CalendarContentError(f"X-CALENDAR-TYPE must be one of {', '.join(TYPES)}")
    events: list[tuple[datetime.datetime, datetime.datetime]] = []
    start: datetime.datetime | None = None
    end: datetime.datetime | None = None
    for line in lines:
        if line == "BEGIN:VEVENT":
            start = end = None
        elif line.startswith("RRULE"):
            raise CalendarContentError("recurring events (RRULE) are not evaluated by the emulator")
        elif line.startswith("DTSTART"):
            start = _moment(line)
        elif line.startswith("DTEND"):
            end = _moment(line)
        elif line == "END:VEVENT":
            if start is None or end is None or end <= start:
                raise CalendarContentError("every VEVENT needs a DTSTART before its DTEND")
            events.append((start, end))
    return Calendar(kinds[0], tuple(events))


def _iso(moment: datetime.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def calendar_state(account: str, region: str, names: list[str], at_time: str | None) -> dict[str, str]:
    """GetCalendarState as ``account`` in ``region`` (see the module docstring)."""
    from moto.ssm.models import ssm_backends

    from devkit.moto_extensions.ssm.exceptions import InvalidDocument, InvalidDocumentType, ValidationException

    if not names:
        raise ValidationException("CalendarNames must name at least one calendar")
    if at_time:
        try:
            moment = datetime.datetime.fromisoformat(at_time.replace("Z", "+00:00"))
        except ValueError:
            raise ValidationException(f"AtTime {at_time!r} is not an ISO 8601 time") from None
        moment = moment.replace(tzinfo=moment.tzinfo or datetime.UTC).astimezone(datetime.UTC)
    else:
        moment = datetime.datetime.fromtimestamp(CLOCK.now(), datetime.UTC)
    closed, transitions = False, []
    for name in names:
        match = _ARN.match(name)
        owner, where, document = (match.group(2), match.group(1), match.group(3)) if match else (account, region, name)
        documents = ssm_backends[owner][where]._documents.get(document)
        shared = documents is not None and (
            owner == account or account in documents.permissions or "all" in documents.permissions
        )
        if documents is None or not shared:
            raise InvalidDocument(f"The specified document {name} does not exist or is not shared with {account}.")
        current = documents.get_default_version()
        if current.document_type != "ChangeCalendar":
            raise InvalidDocumentType(f"{name} is a {current.document_type} document, not a ChangeCalendar")
        calendar = parse_calendar(current.content)
        closed = closed or calendar.closed_at(moment)
        nxt = calendar.next_transition(moment)
        if nxt is not None:
            transitions.append(nxt)
    answer = {"State": "CLOSED" if closed else "OPEN", "AtTime": _iso(moment)}
    if transitions:
        answer["NextTransitionTime"] = _iso(min(transitions))
    return answer


def install() -> None:
    """Let moto store ``TEXT`` change calendars (idempotent)."""
    import moto.ssm.models as models
    from moto.ssm.exceptions import InvalidDocumentContent

    validate: Callable[[str], None] = getattr(
        models._validate_document_format, "_moto_original", models._validate_document_format
    )

    def validate_document_format(document_format: str) -> None:
        if document_format != "TEXT":
            validate(document_format)

    validate_document_format._moto_original = validate  # type: ignore[attr-defined]
    models._validate_document_format = validate_document_format

    init: Callable[..., None] = getattr(models.Document.__init__, "_moto_original", models.Document.__init__)

    def document_init(self: Any, *args: Any, **kwargs: Any) -> None:
        names = ("account_id", "name", "version_name", "content", "document_type", "document_format")
        given = {**dict(zip(names, args, strict=False)), **kwargs}
        if given.get("document_format") != "TEXT":
            init(self, *args, **kwargs)
            return
        if given.get("document_type") != "ChangeCalendar":
            raise InvalidDocumentContent("Only ChangeCalendar documents may use the TEXT format.")
        try:
            parse_calendar(str(given["content"]))
        except CalendarContentError as error:
            raise InvalidDocumentContent(f"The content for the document is not valid: {error}") from None
        _text_document(self, given, args, kwargs)

    document_init._moto_original = init  # type: ignore[attr-defined]
    models.Document.__init__ = document_init  # type: ignore[method-assign]


def _text_document(self: Any, given: dict[str, Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    """moto's Document attributes for a TEXT calendar (moto parses only JSON/YAML content)."""
    from moto.core.utils import utcnow

    self.name, self.version_name = given["name"], given.get("version_name")
    self.content, self.document_type, self.document_format = given["content"], "ChangeCalendar", "TEXT"
    self.requires = kwargs.get("requires", args[6] if len(args) > 6 else None)
    self.attachments = kwargs.get("attachments", args[7] if len(args) > 7 else None)
    self.target_type = kwargs.get("target_type", args[8] if len(args) > 8 else None)
    self.status, self.owner, self.created_date = "Active", given["account_id"], utcnow()
    self.document_version = str(kwargs.get("document_version", args[9] if len(args) > 9 else "1"))
    self.content_json = {}
    self.schema_version, self.description, self.outputs, self.files = "", None, None, None
    self.platform_types, self.parameter_list = [], []
