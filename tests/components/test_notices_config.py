"""``org-patching:notices`` (issue 16 item 1): the example's keys, the rule's schedule, bad values as one line."""

from __future__ import annotations

from pathlib import Path

import pytest

from components.config import CentralConfig, load_stack_file
from components.config_notices import NoticesConfig
from tests.components.test_config_errors import CENTRAL, ROOT, error_of, write

EXAMPLE = "    teams:\n      payments:\n        - payments-oncall@example.com\n"


def test_the_example_gives_the_payments_team_a_topic() -> None:
    cfg = load_stack_file(ROOT / "Pulumi.central.yaml")
    assert isinstance(cfg, CentralConfig)
    notices = cfg.notices
    assert (notices.enabled, notices.topic_per, notices.lead_hours) == (True, "team", 24)
    assert notices.teams == {"payments": ["payments-oncall@example.com"]}
    assert notices.topic_teams() == ["platform", "payments"]  # the default team's topic first


@pytest.mark.parametrize(
    ("minutes", "expression"), [(60, "rate(1 hour)"), (120, "rate(2 hours)"), (15, "rate(15 minutes)")]
)
def test_the_check_schedule_is_a_rate_eventbridge_accepts(minutes: int, expression: str) -> None:
    assert NoticesConfig(check_every_minutes=minutes).rule_schedule() == expression


@pytest.mark.parametrize(
    ("new", "expected"),
    [
        ("    teams:\n      Payments_Team: []\n", "org-patching:notices.teams: "),
        ("    leadHours: 0\n", "org-patching:notices.leadHours: must be at least 1 (got 0)"),
        ("    topicPer: account\n", "org-patching:notices.topicPer: "),
        ("    checkEveryMinutes: 1\n", "org-patching:notices.checkEveryMinutes: must be at least 5 (got 1)"),
    ],
)
def test_bad_notices_values_are_one_line(tmp_path: Path, new: str, expected: str) -> None:
    assert EXAMPLE in CENTRAL
    message = error_of(write(tmp_path, CENTRAL.replace(EXAMPLE, new, 1)))
    assert message.startswith(expected) and "\n" not in message
