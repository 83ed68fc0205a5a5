"""The Service Catalog product template: cfn-lint clean, and its schedule/cutoff logic is right.

The schedule is computed only in the template (Mappings + Fn::Sub). The test evaluates the
template's own expressions with the evaluator the demo also launches the product with
(``devkit.catalog_launch``), so nothing is written twice.
"""

from __future__ import annotations

import itertools
import re
from pathlib import Path
from typing import Any

import pytest
import tag_contract
from cfnlint.api import ManualArgs, lint
from cfnlint.decode import decode_str

from components import naming
from components.hub.self_service_catalog import TEMPLATE_FILE
from components.runbooks import render_runbook
from components.schedules import schedule_problem
from devkit import catalog_launch

TEXT = Path(TEMPLATE_FILE).read_text()
TEMPLATE, _ = decode_str(TEXT)
PSEUDO = {
    "AWS::Partition": "aws-cn",
    "AWS::Region": "cn-north-1",
    "AWS::AccountId": "111122223333",
    "AWS::StackName": "SC-111122223333-pp-abc",
}


TEAM = "payments"


def Evaluator(parameters: dict[str, Any], team: str | None = TEAM) -> catalog_launch.Evaluator:
    """The product's evaluator (``devkit.catalog_launch``) in a non-default partition, for team ``payments``."""
    return catalog_launch.Evaluator(
        {**({"Team": team} if team is not None else {}), **parameters},
        PSEUDO,
        template=catalog_launch.product_template(HUB),
    )


#: The central account whose stack uploaded the template (the owner of the shared runbooks).
HUB = "444455556666"


def test_cfn_lint_finds_nothing_not_even_informational() -> None:
    matches = lint(TEXT, config=ManualArgs(include_checks=["I"], regions=["us-east-1", "eu-west-1"]))
    assert [str(m) for m in matches] == []


@pytest.mark.parametrize(
    ("parameters", "expected"),
    [
        ({}, "cron(0 5 ? * FRI *)"),  # the defaults: weekly, Friday 05:00 UTC
        ({"PatchingWindowStartTime": 0, "PatchingWindowWeekday": "Sunday"}, "cron(0 0 ? * SUN *)"),
        ({"PatchingFrequency": "Monthly-2nd", "PatchingWindowWeekday": "Tuesday"}, "cron(0 5 ? * TUE#2 *)"),
        (
            {"PatchingFrequency": "Monthly-4th", "PatchingWindowWeekday": "Saturday", "PatchingWindowStartTime": 23},
            "cron(0 23 ? * SAT#4 *)",
        ),
        ({"PatchingFrequency": "Monthly-1st", "PatchingWindowWeekday": "Monday"}, "cron(0 5 ? * MON#1 *)"),
    ],
)
def test_parameters_become_the_expected_schedule(parameters: dict[str, Any], expected: str) -> None:
    evaluator = Evaluator({"Environment": "Dev", **parameters})
    window = evaluator.resources()["MaintenanceWindow"]
    assert window["Schedule"] == expected
    assert evaluator.eval(TEMPLATE["Outputs"]["Schedule"]["Value"]) == expected
    assert window["ScheduleTimezone"] == "UTC"


def test_every_combination_is_a_valid_schedule_at_the_chosen_hour_and_day() -> None:
    spec = TEMPLATE["Parameters"]
    days = {"Monday": "MON", "Tuesday": "TUE", "Wednesday": "WED", "Thursday": "THU", "Friday": "FRI"}
    days |= {"Saturday": "SAT", "Sunday": "SUN"}
    for frequency, weekday, hour in itertools.product(
        spec["PatchingFrequency"]["AllowedValues"], spec["PatchingWindowWeekday"]["AllowedValues"], range(24)
    ):
        schedule = Evaluator(
            {
                "Environment": "Prod",
                "PatchingFrequency": frequency,
                "PatchingWindowWeekday": weekday,
                "PatchingWindowStartTime": hour,
            }
        ).resources()["MaintenanceWindow"]["Schedule"]
        assert schedule_problem(schedule) is None, schedule
        minute, hours, day_of_month, _, day_of_week, _ = schedule[5:-1].split()
        assert (minute, hours, day_of_month) == ("0", str(hour), "?")
        nth = "" if frequency == "Weekly" else "#" + frequency[-3]
        assert day_of_week == days[weekday] + nth


@pytest.mark.parametrize("duration", range(1, 25))
def test_cutoff_is_always_smaller_than_the_duration(duration: int) -> None:
    window = Evaluator({"Environment": "Test", "PatchingWindowDuration": duration}).resources()["MaintenanceWindow"]
    assert int(window["Duration"]) == duration
    assert 0 <= window["Cutoff"] < duration


def test_window_targets_tasks_and_tagging_use_the_shared_names() -> None:
    resources = Evaluator({"Environment": "Prod", "IncludeASG": "Yes", "PatchingOperation": "Scan"}).resources()
    window = resources["MaintenanceWindow"]
    assert window["Name"] == "Prod_payments_maintenance_window" == tag_contract.team_window_name("Prod", TEAM)
    assert {"Key": tag_contract.TEAM_TAG, "Value": TEAM} in window["Tags"]
    assert resources["WindowTarget"]["Targets"] == [
        {"Key": "tag:maintenance_window", "Values": ["Prod_payments_maintenance_window"]}
    ]
    role = f"arn:aws-cn:iam::111122223333:role/{naming.MAINTENANCE_WINDOW_ROLE}"
    execution_role = f"arn:aws-cn:iam::111122223333:role/{naming.AUTOMATION_EXECUTION_ROLE}"
    standalone, asg = resources["PatchInstancesTask"], resources["PatchAutoScalingGroupsTask"]
    # the hub's shared copy in the launching Region, by ARN (components/shared_runbooks.py)
    hub_documents = f"arn:aws-cn:ssm:cn-north-1:{HUB}:document"
    assert (standalone["TaskArn"], asg["TaskArn"]) == (
        f"{hub_documents}/{naming.RUNBOOK_STANDALONE}",
        f"{hub_documents}/{naming.RUNBOOK_ASG}",
    )
    for task in (standalone, asg):
        assert task["TaskType"] == "AUTOMATION"
        assert task["ServiceRoleArn"] == role
        parameters = task["TaskInvocationParameters"]["MaintenanceWindowAutomationParameters"]["Parameters"]
        assert parameters["AutomationAssumeRole"] == [execution_role]
        assert parameters["MaintenanceWindow"] == ["Prod_payments_maintenance_window"]
        assert parameters["Operation"] == ["Scan"]
    assert standalone["TaskInvocationParameters"]["MaintenanceWindowAutomationParameters"]["Parameters"][
        "MaxConcurrency"
    ] == ["10%"]
    tagging = resources["WindowTagging"]
    assert tagging == {
        "ServiceToken": f"arn:aws-cn:lambda:cn-north-1:111122223333:function:{naming.WINDOW_TAGGING_FUNCTION}",
        "Environment": "Prod",
        "Team": TEAM,
        "WindowId": "<id of MaintenanceWindow>",
        "WindowName": "Prod_payments_maintenance_window",
        "IncludeASG": "Yes",
    }


def test_asg_task_only_when_asgs_are_included() -> None:
    assert "PatchAutoScalingGroupsTask" not in Evaluator({"Environment": "Dev"}).resources()
    assert "PatchAutoScalingGroupsTask" in Evaluator({"Environment": "Dev", "IncludeASG": "Yes"}).resources()


def test_no_partition_is_hard_coded_and_every_parameter_is_constrained() -> None:
    assert "arn:aws:" not in TEXT
    for name, spec in TEMPLATE["Parameters"].items():
        assert {"AllowedValues", "AllowedPattern", "MinValue"} & set(spec), f"{name} is not constrained"


@pytest.mark.parametrize(
    "bad",
    [
        {"Environment": "Staging"},
        {"Environment": "Dev", "PatchingWindowStartTime": 24},
        {"Environment": "Dev", "PatchingWindowDuration": 0},
        {"Environment": "Dev", "MaxErrors": "101%"},
        {"Environment": "Dev", "PatchingFrequency": "14"},
        {"Environment": "Dev", "RetainHealthyPercentage": 49},
        {"Environment": "Dev", "RetainHealthyPercentage": 0},
        {"Environment": "Dev", "Team": "Payments"},
        {"Environment": "Dev", "Team": "pay ments"},
        {"Environment": "Dev", "Team": "-payments"},
        {"Environment": "Dev", "Team": "p" * 33},
    ],
)
def test_out_of_range_parameters_are_rejected_by_their_constraints(bad: dict[str, Any]) -> None:
    with pytest.raises(catalog_launch.TemplateParameterError):
        Evaluator(bad)


def test_a_team_is_required_and_the_healthy_floor_is_50() -> None:
    """No window acts for everyone (docs/teams.md): the product has no default team."""
    with pytest.raises(catalog_launch.TemplateParameterError, match="Team"):
        Evaluator({"Environment": "Dev"}, team=None)
    assert TEMPLATE["Parameters"]["RetainHealthyPercentage"]["MinValue"] == 50
    resources = Evaluator({"Environment": "Dev", "IncludeASG": "Yes", "RetainHealthyPercentage": 50}).resources()
    asg = resources["PatchAutoScalingGroupsTask"]["TaskInvocationParameters"]["MaintenanceWindowAutomationParameters"]
    assert asg["Parameters"]["MinHealthyPercentage"] == ["50"]


def test_the_team_pattern_is_the_contracts() -> None:
    assert TEMPLATE["Parameters"]["Team"]["AllowedPattern"] == tag_contract.TEAM_NAME_PATTERN


def test_task_parameters_are_declared_by_the_runbooks() -> None:
    """The window tasks pass only parameters the spoke's runbooks declare, with allowed values."""
    import yaml

    resources = Evaluator({"Environment": "Prod", "IncludeASG": "Yes"}).resources()
    for task in ("PatchInstancesTask", "PatchAutoScalingGroupsTask"):
        properties = resources[task]
        declared = yaml.safe_load(render_runbook(properties["TaskArn"].rsplit("/", 1)[1]))["parameters"]
        passed = properties["TaskInvocationParameters"]["MaintenanceWindowAutomationParameters"]["Parameters"]
        for name, values in passed.items():
            assert name in declared, f"{task}: {name} is not a parameter of {properties['TaskArn']}"
            spec = declared[name]
            for value in values:
                if "allowedValues" in spec:
                    assert value in spec["allowedValues"], (task, name, value)
                if "allowedPattern" in spec:
                    assert re.search(spec["allowedPattern"], str(value)), (task, name, value)
        # the hub's change calendar of the window's own Region, from the hub account the runbooks come from
        arn = properties["TaskArn"].split(":")
        assert passed["ChangeCalendar"] == [naming.change_calendar_arn(arn[1], arn[3], arn[4])], task
