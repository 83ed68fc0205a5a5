"""``org-patching:changeFreeze``: freezes as users write them in Pulumi.central.yaml; a bad date is one line."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest

from components.config import CentralConfig, load_stack_file
from components.hub.change_calendar import calendar_content
from tests.components.test_config_errors import CENTRAL, error_of, write

FREEZES = """  org-patching:changeFreeze:
    freezes:
      - name: Year-end
        start: 2026-12-20
        end: "2027-01-04T06:00:00+01:00"
"""


def test_freezes_are_read_in_utc_and_become_calendar_events(tmp_path: Path) -> None:
    config = load_stack_file(write(tmp_path, CENTRAL + FREEZES))
    assert isinstance(config, CentralConfig)
    [freeze] = config.change_freeze.freezes
    assert freeze.start == datetime.datetime(2026, 12, 20, tzinfo=datetime.UTC)
    assert freeze.end == datetime.datetime(2027, 1, 4, 5, 0, tzinfo=datetime.UTC)
    content = calendar_content(config.change_freeze)
    assert "X-CALENDAR-TYPE:DEFAULT_OPEN\r\n" in content
    assert "DTSTART:20261220T000000Z\r\nDTEND:20270104T050000Z\r\n" in content
    assert "SUMMARY:Year-end\r\n" in content
    # no freeze: the calendar exists, with no event (always OPEN)
    assert "VEVENT" not in calendar_content(load_stack_file(write(tmp_path, CENTRAL)).change_freeze)  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("bad", "expected"),
    [
        ('end: "2027-01-04T06:00:00+01:00"', "ends (2026-12-19T00:00:00Z) before it starts"),
        ('end: "2026-13-01"', "is not a date (2026-12-20) or a UTC time (2026-12-20T18:00:00Z)"),
        ("end: 2026-13-01", "has an impossible date (month must be in 1..12)"),
        ('end: "2027-01-04T06:00:00"', "has no time zone: end it with Z (UTC) or an offset like +01:00"),
    ],
)
def test_a_bad_freeze_is_one_line_naming_the_key(tmp_path: Path, bad: str, expected: str) -> None:
    text = CENTRAL + FREEZES.replace('end: "2027-01-04T06:00:00+01:00"', bad)
    if "before it starts" in expected:
        text = text.replace("start: 2026-12-20", "start: 2027-01-05").replace(bad, "end: 2026-12-19")
    message = error_of(write(tmp_path, text))
    assert expected in message, message
    assert "changeFreeze" in message or "impossible date" in message, message  # the YAML reader has no key yet
