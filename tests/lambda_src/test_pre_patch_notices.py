"""Pre-patch notices, the parts without AWS: what a notice says (capped lists with whole counts, local time),
which team a window belongs to, which topic a notice goes to, and a missing setting as one line. The flow on
the emulator (default, product and moved windows, duplicates) is in ``tests/hub/test_patch_events_flow.py``."""

from __future__ import annotations

import importlib
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

app: Any = importlib.import_module("lambda_src.pre_patch_notices.app")
RUNS_AT = datetime(2026, 12, 5, 1, 0, tzinfo=UTC)


def settings(**changes: Any) -> Any:
    base = {
        "accounts": ["222222222222"],
        "regions": ["eu-west-1"],
        "partition": "aws",
        "reader_role": "org-patching-notice-reader",
        "topic_prefix": "arn:aws:sns:us-east-1:111111111111:org-patching-notices",
        "topic_per": "team",
        "teams": frozenset({"platform", "payments"}),
        "default_team": "platform",
        "lead": timedelta(hours=24),
        "max_listed": 2,
        "table": "org-patching-failure-alerts",
        "dedupe_days": 14,
        "standalone_runbook": "OrgPatching-PatchInstances",
        "asg_runbook": "OrgPatching-PatchAutoScalingGroups",
    }
    return app.Settings(**{**base, **changes})


def notice(team: str = "payments", zone: str = "Europe/Berlin") -> Any:
    found = app.Notice(
        "222222222222",
        "eu-west-1",
        "Prod_payments_maintenance_window",
        "mw-0123456789abcdef0",
        team,
        RUNS_AT,
        zone,
        "cron(0 2 ? * SAT *)",
        "Install",
        "RebootIfNeeded",
    )
    found.instances += ["i-01", "i-02", "i-03"]
    found.asgs.append("web")
    return found


def test_a_notice_says_when_in_utc_and_local_time_and_caps_its_lists() -> None:
    text = notice().message(RUNS_AT - timedelta(hours=20), max_listed=2)
    assert text.splitlines() == [
        "Prod_payments_maintenance_window will patch 3 instance(s) and 1 ASG(s) of team payments in 20.0 h",
        "window:    Prod_payments_maintenance_window (mw-0123456789abcdef0)",
        "account:   222222222222",
        "region:    eu-west-1",
        "team:      payments",
        "runs at:   2026-12-05 01:00 UTC",
        "local:     2026-12-05 02:00 Europe/Berlin",
        "schedule:  cron(0 2 ? * SAT *)",
        "operation: Install",
        "reboot:    RebootIfNeeded",
        "instances: 3: i-01, i-02 and 1 more",
        "ASGs:      1: web",
    ]
    assert notice().subject() == "org-patching: Prod_payments_maintenance_window (Install) runs 2026-12-05 01:00 UTC"
    assert notice().dedupe_key == "notice:222222222222:eu-west-1:mw-0123456789abcdef0:payments:2026-12-05T01:00Z"
    assert "local:     (time zone 'Mars/Olympus' unknown)" in notice(zone="Mars/Olympus").message(RUNS_AT, 2)


@pytest.mark.parametrize(
    ("name", "team"),
    [
        ("Prod_payments_maintenance_window", "payments"),
        ("Dev_team-a_maintenance_window", "team-a"),
        ("Prod_maintenance_window", None),
        ("Default_maintenance_window", None),
        ("someone-elses-window", None),
    ],
)
def test_the_team_of_a_window_is_in_its_contract_name(name: str, team: str | None) -> None:
    assert app.window_team(name) == team


def test_a_team_without_a_topic_is_noticed_on_the_default_teams_and_account_region_topics_on_request() -> None:
    prefix = "arn:aws:sns:us-east-1:111111111111:org-patching-notices"
    assert app.topic_for(notice("payments"), settings()) == f"{prefix}-payments"
    assert app.topic_for(notice("checkout"), settings()) == f"{prefix}-platform"
    assert app.topic_for(notice(), settings(topic_per="accountRegion")) == f"{prefix}-222222222222-eu-west-1"


@pytest.mark.parametrize(
    ("value", "parsed"),
    [
        ("2026-12-05T01:00Z", RUNS_AT),
        ("2026-12-05T02:00+01:00", RUNS_AT),
        ("2026-12-05T01:00:00Z", RUNS_AT),
        ("next saturday", None),
    ],
)
def test_times_as_ssm_and_eventbridge_write_them(value: str, parsed: datetime | None) -> None:
    assert app.parse_time(value) == parsed


def test_a_scheduled_event_without_a_time_uses_the_clock() -> None:
    assert app.event_time({"time": "2026-12-04T00:00:00Z"}) == datetime(2026, 12, 4, tzinfo=UTC)
    assert abs(app.event_time({}) - datetime.now(UTC)) < timedelta(minutes=1)


def test_a_missing_setting_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("ACCOUNTS", "REGIONS", "READER_ROLE", "TOPIC_ARN_PREFIX", "DEDUPE_TABLE", "DEFAULT_TEAM"):
        monkeypatch.setenv(name, "x")
    monkeypatch.delenv("DEDUPE_TABLE")
    with pytest.raises(RuntimeError, match=r"^DEDUPE_TABLE must be set$"):
        app.Settings.from_environment()


@pytest.mark.parametrize(
    ("event", "message"),
    [
        (["not", "an", "object"], "event: expected a scheduled event object, got list"),
        ({"time": "next saturday"}, "event time: 'next saturday' is not an ISO-8601 time"),
        ({"time": 5}, "event time: 5 is not an ISO-8601 time"),
        ({"time": "9999-12-31T23:00:00Z"}, "event time: '9999-12-31T23:00:00Z' is out of range"),
    ],
)
def test_an_event_that_is_not_a_scheduled_event_is_refused_in_one_line(event: Any, message: str) -> None:
    """(tests/fuzz/test_fuzz_pre_patch_notices.py: the handler answers it with ``refused`` and writes nothing.)"""
    with pytest.raises(app.BadEvent) as refused:
        app.event_time(event, timedelta(hours=24))
    assert str(refused.value) == message
