"""Schedule expressions: what SSM maintenance windows and EventBridge accept."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from components.schedules import schedule_problem


@pytest.mark.parametrize(
    "expression",
    [
        "cron(0 5 ? * FRI *)",
        "cron(0 2 ? * SAT#1 *)",
        "cron(30 23 L * ? *)",
        "cron(0/15 * ? * MON-FRI *)",
        "cron(0 8 1,15 * ? 2027)",
        "rate(1 day)",
        "rate(7 days)",
        "rate(30 minutes)",
        "at(2027-01-31T05:00:00)",
    ],
)
def test_valid(expression: str) -> None:
    assert schedule_problem(expression) is None


@pytest.mark.parametrize(
    ("expression", "fragment"),
    [
        ("cron(0 5 * * FRI *)", "exactly one"),
        ("cron(0 5 ? * ? *)", "exactly one"),
        ("cron(0 5 ? * FRI)", "6 fields"),
        ("cron(60 5 ? * FRI *)", "minutes"),
        ("cron(0 5 ? * FUNDAY *)", "day-of-week"),
        ("cron(0 5 32 * ? *)", "day-of-month"),
        ("cron(0 5 ? * FRI#6 *)", "<day>#<1-5>"),
        ("rate(1 days)", "singular"),
        ("rate(2 day)", "singular"),
        ("rate(0 days)", "must be"),
        ("every friday", "must be"),
    ],
)
def test_invalid(expression: str, fragment: str) -> None:
    problem = schedule_problem(expression)
    assert problem is not None and fragment in problem


@given(
    minute=st.integers(0, 59),
    hour=st.integers(0, 23),
    day=st.sampled_from(["MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN"]),
)
def test_every_weekly_window_is_valid(minute: int, hour: int, day: str) -> None:
    assert schedule_problem(f"cron({minute} {hour} ? * {day} *)") is None
