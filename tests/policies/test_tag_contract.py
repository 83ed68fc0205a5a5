"""``tag_contract``: the rules every component shares (the Lambdas' tests exercise ``decide`` at run time)."""

from __future__ import annotations

import pytest
import tag_contract as contract


@pytest.mark.parametrize(("value", "expected"), [(" prod ", "Prod"), ("DEV", "Dev"), ("prd", None), ("", None)])
def test_canonical_environment(value: str, expected: str | None) -> None:
    assert contract.canonical_environment(value) == expected


def test_window_names() -> None:
    assert contract.window_name("Prod") == "Prod_maintenance_window"
    assert contract.DEFAULT_WINDOW in contract.WINDOW_NAMES and len(contract.WINDOW_NAMES) == 4
    with pytest.raises(ValueError, match="unknown patch group"):
        contract.window_name("Gold")


def test_skip_reasons() -> None:
    assert contract.skip_reason({"install_patch": " No "}) == "exempt: tag install_patch= No "
    assert contract.skip_reason({"aws:autoscaling:groupName": "g"}, "instance")
    assert contract.skip_reason({"aws:autoscaling:groupName": "g"}, "asg") is None  # the group itself is patched
    assert contract.skip_reason({"kubernetes.io/cluster/c": "owned"}, "launch_template")
    assert contract.skip_reason({"aws:ecs:clusterName": "c"})
    assert contract.skip_reason({"Name": "specs"}) is None  # a value is never a marker


def test_deploy_time_problems() -> None:
    assert contract.deploy_time_problems({"environment": "prod"}) == []
    managed = {"Patch Group": "Dev", "maintenance_window": "Default_maintenance_window"}
    assert contract.deploy_time_problems(managed) == []
    assert contract.deploy_time_problems({"install_patch": "no"}) == []
    problems = contract.deploy_time_problems({"environment": "prd"})
    assert [p.split(" (")[0].split("=")[0] for p in problems] == [
        "missing tag 'Patch Group'",
        "missing tag 'maintenance_window'",
        "tag 'environment'",
    ]
    # a bad managed value is not excused by a good environment
    problems = contract.deploy_time_problems({"environment": "Prod", "Patch Group": "Gold"})
    assert problems[0] == "tag 'Patch Group'='Gold' is not one of Default, Dev, Test, Prod"
    assert problems[1].startswith("missing tag 'maintenance_window'")


def test_remediated_tags_derive_the_managed_tags_from_environment() -> None:
    assert contract.remediated_tags({"environment": "test", "x": "1"}) == {
        "environment": "test",
        "x": "1",
        "Patch Group": "Test",
        "maintenance_window": "Default_maintenance_window",
    }
    assert contract.remediated_tags({"Name": "x"}) is None
    assert contract.remediated_tags({"environment": "Dev", "Patch Group": "Dev", "maintenance_window": "w"}) is None
    assert contract.remediated_tags({"environment": "Dev", "install_patch": "no"}) is None


# --- teams (docs/teams.md) ----------------------------------------------------------------------------------------

PG, MW = contract.PATCH_GROUP_TAG, contract.MAINTENANCE_WINDOW_TAG
PROD_A, PROD_B = contract.team_window_name("Prod", "team-a"), contract.team_window_name("Prod", "team-b")


def test_team_windows_are_contract_window_names() -> None:
    assert PROD_A == "Prod_team-a_maintenance_window"
    assert contract.is_window_name(PROD_A) and contract.window_environment(PROD_A) == "Prod"
    assert all(contract.is_window_name(name) for name in contract.WINDOW_NAMES)
    assert contract.window_environment(contract.DEFAULT_WINDOW) is None
    for bad in ("Prod_Team-A_maintenance_window", "Staging_a_maintenance_window", "Prod__maintenance_window"):
        assert not contract.is_window_name(bad)
    with pytest.raises(ValueError):
        contract.team_window_name("Prod", "Team A")
    assert contract.canonical_team(" Team-A ") == "team-a" and contract.canonical_team("a b") is None


def test_a_claimed_instance_goes_only_to_its_teams_window() -> None:
    tags = {"environment": "Prod", contract.TEAM_TAG: "team-a"}
    assert contract.decide(tags, {PROD_A, PROD_B}).desired[MW] == PROD_A
    # team B's window (or an environment-wide one) never takes team A's instance
    assert contract.decide(tags, {PROD_B, contract.window_name("Prod")}).desired[MW] == contract.DEFAULT_WINDOW
    # a team tag in another case is the same team
    assert contract.decide({**tags, contract.TEAM_TAG: "Team-A"}, {PROD_A}).desired[MW] == PROD_A


def test_a_malformed_team_tag_is_claimed_but_unusable() -> None:
    decision = contract.decide({"environment": "Prod", contract.TEAM_TAG: "team a!"}, {PROD_A})
    assert decision.desired[MW] == contract.DEFAULT_WINDOW and "not a team name" in (decision.note or "")


def test_an_unclaimed_instance_follows_its_environments_only_window() -> None:
    tags = {"environment": "Prod"}
    assert contract.decide(tags, {PROD_A}).desired[MW] == PROD_A
    assert contract.decide(tags, {contract.window_name("Prod")}).desired[MW] == "Prod_maintenance_window"
    assert contract.decide(tags, {contract.team_window_name("Dev", "team-a")}).desired[MW] == contract.DEFAULT_WINDOW
    # two teams have Prod windows: nobody may take unclaimed instances for everyone
    decision = contract.decide(tags, {PROD_A, PROD_B})
    assert decision.desired[MW] == contract.DEFAULT_WINDOW and "2 windows for Prod" in (decision.note or "")


def test_deploy_time_accepts_team_windows() -> None:
    assert contract.deploy_time_problems({PG: "Prod", MW: PROD_A}) == []
    assert contract.deploy_time_problems({PG: "Prod", MW: "Prod_Team A_maintenance_window"})
