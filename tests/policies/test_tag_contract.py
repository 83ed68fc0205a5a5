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
