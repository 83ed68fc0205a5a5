"""The emulator's maintenance-window schedule, as the SSM API reference and User Guide describe it: NextExecutionTime
from AWS's six-field cron (SUN=1, ``?``, ``L``, ``#``) in the window's time zone, with its offset, start and end
dates; rate and at schedules; UpdateMaintenanceWindow moves or disables a window."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest

from devkit.moto_extensions.ssm.window_schedule import ScheduleError, next_cron, next_execution
from tests import aws

NOW = datetime(2026, 11, 29, 19, 0, tzinfo=UTC)  # a Sunday


def window(schedule: str, zone: str | None = None, offset: int | None = None, **dates: str) -> Any:
    return SimpleNamespace(
        schedule=schedule,
        schedule_timezone=zone,
        schedule_offset=offset,
        start_date=dates.get("start"),
        end_date=dates.get("end"),
        _org_patching_created=NOW,
    )


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("cron(0 5 ? * FRI *)", datetime(2026, 12, 4, 5, 0)),
        ("cron(0 5 ? * 6 *)", datetime(2026, 12, 4, 5, 0)),  # day-of-week 6 is FRI (SUN=1)
        ("cron(30 19 * * ? *)", datetime(2026, 11, 29, 19, 30)),  # later today
        ("cron(0 19 * * ? *)", datetime(2026, 11, 30, 19, 0)),  # 'after', not 'at or after'
        ("cron(0 2 ? * TUE#2 *)", datetime(2026, 12, 8, 2, 0)),  # second Tuesday of December
        ("cron(0 2 ? * 1L *)", datetime(2026, 12, 27, 2, 0)),  # last Sunday of December
        ("cron(0 3 L * ? *)", datetime(2026, 11, 30, 3, 0)),  # last day of the month
        ("cron(0/20 8-9 ? * MON-FRI 2027)", datetime(2027, 1, 1, 8, 0)),  # year field
    ],
)
def test_aws_cron(expression: str, expected: datetime) -> None:
    assert next_cron(expression, NOW.replace(tzinfo=None)) == expected


def test_time_zone_offset_and_dates() -> None:
    # 02:00 Saturday in Berlin is 01:00 UTC
    assert next_execution(window("cron(0 2 ? * SAT *)", "Europe/Berlin"), NOW) == datetime(
        2026, 12, 5, 1, 0, tzinfo=UTC
    )
    # two days after the second Tuesday (ScheduleOffset)
    assert next_execution(window("cron(0 2 ? * TUE#2 *)", offset=2), NOW) == datetime(2026, 12, 10, 2, 0, tzinfo=UTC)
    assert next_execution(window("cron(0 5 ? * FRI *)", start="2027-01-01T00:00:00Z"), NOW) == datetime(
        2027, 1, 1, 5, 0, tzinfo=UTC
    )
    assert next_execution(window("cron(0 5 ? * FRI *)", end="2026-12-01T00:00:00Z"), NOW) is None
    assert next_execution(window("at(2026-12-01T08:00:00)", "Asia/Tokyo"), NOW) == datetime(
        2026, 11, 30, 23, 0, tzinfo=UTC
    )
    assert next_execution(window("at(2026-11-01T08:00:00)"), NOW) is None  # in the past: runs no more
    assert next_execution(window("rate(7 days)"), NOW) == datetime(2026, 12, 6, 19, 0, tzinfo=UTC)
    with pytest.raises(ScheduleError, match="6 fields"):
        next_execution(window("cron(0 5 * * ?)"), NOW)


def test_update_moves_and_disables_a_window(moto_aws: None) -> None:
    ssm = aws.session("111111111111", "eu-west-1").client("ssm")
    window_id = ssm.create_maintenance_window(
        Name="Prod_payments_maintenance_window",
        Schedule="cron(0 2 ? * SAT *)",
        Duration=3,
        Cutoff=1,
        AllowUnassociatedTargets=False,
    )["WindowId"]
    before = ssm.get_maintenance_window(WindowId=window_id)["NextExecutionTime"]
    moved = ssm.update_maintenance_window(WindowId=window_id, Schedule="cron(30 4 ? * TUE *)")
    assert moved["Schedule"] == "cron(30 4 ? * TUE *)" and moved["Duration"] == 3  # the rest is kept
    after = ssm.get_maintenance_window(WindowId=window_id)["NextExecutionTime"]
    assert after != before and after.endswith("T04:30Z")
    ssm.update_maintenance_window(WindowId=window_id, Enabled=False)
    assert "NextExecutionTime" not in ssm.get_maintenance_window(WindowId=window_id)
    listed = ssm.describe_maintenance_windows(Filters=[{"Key": "Enabled", "Values": ["true"]}])["WindowIdentities"]
    assert listed == []
