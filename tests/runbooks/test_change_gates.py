"""Health gates and change freezes on the emulator: the hub's change calendar, the runbooks' gate, the ASG refresh's
alarms (components/runbooks/change_gate.py, components/hub/change_calendar.py)."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
import tag_contract
from botocore.exceptions import ClientError

from components import naming
from components.config_freeze import ChangeFreezeConfig
from components.hub.change_calendar import calendar_content
from components.runbooks import asg_rebake, render_runbook, with_parameter_default
from devkit.virtual_clock import CLOCK
from tests import aws
from tests.runbooks.test_asg_rebake import OUTPUT, patch_by_targets, patch_with

HUB, CHILD, OTHER = aws.ACCOUNTS
REGION = aws.REGIONS[0]
PG, MW, ALARMS = tag_contract.PATCH_GROUP_TAG, tag_contract.MAINTENANCE_WINDOW_TAG, tag_contract.ALARMS_TAG
WINDOW = "Prod_maintenance_window"
CALENDAR = naming.change_calendar_arn("aws", REGION, HUB)


def _now() -> datetime.datetime:
    return datetime.datetime.fromtimestamp(CLOCK.now(), datetime.UTC).replace(microsecond=0)


def freeze_around_now(hours: int = 6) -> ChangeFreezeConfig:
    """A freeze that holds the emulator's virtual 'now' (and a later one, to see the next transition)."""
    now = _now()
    return ChangeFreezeConfig.model_validate(
        {
            "freezes": [
                {
                    "name": "Year-end",
                    "start": now - datetime.timedelta(hours=1),
                    "end": now + datetime.timedelta(hours=hours),
                },
                {"name": "Later", "start": now + datetime.timedelta(days=30), "end": now + datetime.timedelta(days=31)},
            ]
        }
    )


def deploy_calendar(config: ChangeFreezeConfig, shared_with: tuple[str, ...] = (CHILD,)) -> None:
    """The hub's calendar as ChangeCalendar declares it: TEXT content, shared with the child accounts."""
    ssm = aws.session(HUB, REGION).client("ssm")
    ssm.create_document(
        Name=naming.CHANGE_CALENDAR,
        DocumentType="ChangeCalendar",
        DocumentFormat="TEXT",
        Content=calendar_content(config),
    )
    ssm.modify_document_permission(
        Name=naming.CHANGE_CALENDAR, PermissionType="Share", AccountIdsToAdd=list(shared_with)
    )


def test_the_shared_calendar_is_closed_during_a_freeze_and_says_when_it_opens(moto_aws: None) -> None:
    config = freeze_around_now(hours=6)
    deploy_calendar(config)
    child = aws.session(CHILD, REGION).client("ssm")
    now = child.get_calendar_state(CalendarNames=[CALENDAR])
    assert now["State"] == "CLOSED"
    assert now["NextTransitionTime"] == config.freezes[0].end.strftime("%Y-%m-%dT%H:%M:%SZ")
    later = (config.freezes[0].end + datetime.timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    after = child.get_calendar_state(CalendarNames=[CALENDAR], AtTime=later)
    assert after["State"] == "OPEN"
    assert after["NextTransitionTime"] == config.freezes[1].start.strftime("%Y-%m-%dT%H:%M:%SZ")
    # an account it is not shared with cannot read it; the hub reads its own by name
    with pytest.raises(ClientError, match="InvalidDocument"):
        aws.session(OTHER, REGION).client("ssm").get_calendar_state(CalendarNames=[CALENDAR])
    own = aws.session(HUB, REGION).client("ssm").get_calendar_state(CalendarNames=[naming.CHANGE_CALENDAR])
    assert own["State"] == "CLOSED"


def test_content_that_is_not_a_change_calendar_is_refused(moto_aws: None) -> None:
    ssm = aws.session(HUB, REGION).client("ssm")
    with pytest.raises(ClientError, match="InvalidDocumentContent"):
        ssm.create_document(Name="NotACalendar", DocumentType="ChangeCalendar", DocumentFormat="TEXT", Content="hello")
    no_type = calendar_content(ChangeFreezeConfig()).replace("X-CALENDAR-TYPE:DEFAULT_OPEN\r\n", "")
    with pytest.raises(ClientError, match="X-CALENDAR-TYPE"):
        ssm.create_document(Name="NoType", DocumentType="ChangeCalendar", DocumentFormat="TEXT", Content=no_type)
    # no freeze configured: the calendar exists and is always OPEN
    ssm.create_document(
        Name="AlwaysOpen",
        DocumentType="ChangeCalendar",
        DocumentFormat="TEXT",
        Content=calendar_content(ChangeFreezeConfig()),
    )
    assert ssm.get_calendar_state(CalendarNames=["AlwaysOpen"])["State"] == "OPEN"


def _instances(with_alarm: str | None = None) -> dict[str, str]:
    sess = aws.session(CHILD, REGION)
    profile = aws.create_instance_profile(sess)
    team = {"environment": "Prod", PG: "Prod", MW: WINDOW, **({ALARMS: f" {with_alarm} ,"} if with_alarm else {})}
    return {
        "team": aws.run_instances(sess, team, profile=profile)[0],
        "other": aws.run_instances(sess, {"environment": "Prod", PG: "Prod", MW: WINDOW}, profile=profile)[0],
    }


def _standalone() -> str:
    return with_parameter_default(render_runbook(naming.RUNBOOK_STANDALONE), "ChangeCalendar", CALENDAR)


def test_a_window_inside_a_freeze_scans_instead_of_installing(moto_aws: None) -> None:
    deploy_calendar(freeze_around_now())
    ids = _instances()
    patched: list[str] = []
    sent: list[dict[str, Any]] = []

    def record(inputs: dict[str, Any]) -> dict[str, Any]:
        sent.append(inputs)
        return patch_by_targets(CHILD, REGION, patched)(inputs)

    run = aws.automation(
        _standalone(),
        {"MaintenanceWindow": WINDOW, "Operation": "Install", **OUTPUT},
        CHILD,
        REGION,
        run_command=record,
    )
    assert run["status"] == "Success", run["error"]
    assert run["values"]["checkChangeGate.OutputPayload"]["frozen"] is True
    # the scan still runs on every instance of the window: compliance stays fresh, nothing is installed
    assert [s["Parameters"]["Operation"] for s in sent] == ["Scan"]
    assert sorted(patched) == sorted(ids.values())
    states = aws.session(CHILD, REGION).client("ssm").describe_instance_patch_states(InstanceIds=sorted(ids.values()))
    assert {s["Operation"] for s in states["InstancePatchStates"]} == {"Scan"}


def test_outside_a_freeze_the_window_installs(moto_aws: None) -> None:
    now = _now()
    past = {"name": "Past", "start": now - datetime.timedelta(days=3), "end": now - datetime.timedelta(days=2)}
    deploy_calendar(ChangeFreezeConfig.model_validate({"freezes": [past]}))
    _instances()
    sent: list[dict[str, Any]] = []

    def record(inputs: dict[str, Any]) -> dict[str, Any]:
        sent.append(inputs)
        return patch_by_targets(CHILD, REGION, [])(inputs)

    run = aws.automation(
        _standalone(),
        {"MaintenanceWindow": WINDOW, "Operation": "Install", **OUTPUT},
        CHILD,
        REGION,
        run_command=record,
    )
    assert run["status"] == "Success", run["error"]
    assert [s["Parameters"]["Operation"] for s in sent] == ["Install"]


def _alarm(account: str, name: str, state: str) -> None:
    cloudwatch = aws.session(account, REGION).client("cloudwatch")
    cloudwatch.put_metric_alarm(
        AlarmName=name,
        MetricName="5XXError",
        Namespace="AWS/ApplicationELB",
        Statistic="Sum",
        Period=60,
        EvaluationPeriods=1,
        Threshold=10,
        ComparisonOperator="GreaterThanThreshold",
    )
    cloudwatch.set_alarm_state(AlarmName=name, StateValue=state, StateReason="test")


def test_a_team_alarm_in_alarm_stops_the_wave_before_anything_is_installed(moto_aws: None) -> None:
    _alarm(CHILD, "team-a-5xx", "ALARM")
    _instances(with_alarm="team-a-5xx")
    patched: list[str] = []
    wave = aws.automation(
        render_runbook(naming.RUNBOOK_STANDALONE),
        {"PatchGroup": "Prod", "Operation": "Install", **OUTPUT},
        CHILD,
        REGION,
        run_command=patch_by_targets(CHILD, REGION, patched),
    )
    assert wave["status"] == "Failed"
    assert "patching stopped: alarm in ALARM: team-a-5xx (named by i-" in wave["error"]
    assert wave["executed"] == ["chooseBaseline", "checkChangeGate"] and patched == []
    # the alarm recovers: the next wave installs
    aws.session(CHILD, REGION).client("cloudwatch").set_alarm_state(
        AlarmName="team-a-5xx", StateValue="OK", StateReason="recovered"
    )
    again = aws.automation(
        render_runbook(naming.RUNBOOK_STANDALONE),
        {"PatchGroup": "Prod", "Operation": "Install", **OUTPUT},
        CHILD,
        REGION,
        run_command=patch_by_targets(CHILD, REGION, patched),
    )
    assert again["status"] == "Success", again["error"]
    assert again["values"]["checkChangeGate.OutputPayload"]["alarms"] == ["team-a-5xx"]
    # a window's own alarms (the product's PatchAlarms) gate it too; a scan is never gated
    _alarm(CHILD, "window-alarm", "ALARM")
    gated = aws.automation(
        render_runbook(naming.RUNBOOK_STANDALONE),
        {"MaintenanceWindow": WINDOW, "Operation": "Install", "Alarms": "window-alarm", **OUTPUT},
        CHILD,
        REGION,
        run_command=patch_by_targets(CHILD, REGION, []),
    )
    assert gated["status"] == "Failed" and "window-alarm (named by the window)" in gated["error"]
    scan = aws.automation(
        render_runbook(naming.RUNBOOK_STANDALONE),
        {"MaintenanceWindow": WINDOW, "Operation": "Scan", "Alarms": "window-alarm", **OUTPUT},
        CHILD,
        REGION,
        run_command=patch_by_targets(CHILD, REGION, []),
    )
    assert scan["status"] == "Success", scan["error"]


def test_alarm_names_follow_the_contract() -> None:
    assert tag_contract.alarm_names(" a, b ,,a,") == ("a", "b")
    assert tag_contract.alarm_names(None) == () and tag_contract.alarm_names(" , ") == ()
    assert tag_contract.alarm_names("x" * 256 + ",ok") == ("ok",)  # longer than any alarm name (botocore: 255)


def _pinned_group(alarms: str | None) -> str:
    sess = aws.session(CHILD, REGION)
    aws.create_instance_profile(sess)
    template = aws.create_launch_template(sess, "pinned", image_id="ami-00000000000000003", tags={PG: "Prod"})
    tags = {"environment": "Prod", PG: "Prod", MW: WINDOW, **({ALARMS: alarms} if alarms else {})}
    aws.create_asg(sess, "pinned", tags, desired=2, template_id=template, version="1")
    return template


def test_an_alarm_in_alarm_rolls_the_refresh_back(moto_aws: None) -> None:
    template = _pinned_group("team-b-latency")
    _alarm(CHILD, "team-b-latency", "ALARM")
    result = aws.automation(
        render_runbook(naming.RUNBOOK_ASG),
        {"MaintenanceWindow": WINDOW, "MinHealthyPercentage": 50, "AutoRollback": True},
        CHILD,
        REGION,
        run_command=patch_with(CHILD, REGION),
    )
    assert result["status"] == "Failed"
    autoscaling = aws.session(CHILD, REGION).client("autoscaling")
    [refresh] = autoscaling.describe_instance_refreshes(AutoScalingGroupName="pinned")["InstanceRefreshes"]
    assert refresh["Preferences"]["AlarmSpecification"] == {"Alarms": ["team-b-latency"]}
    assert refresh["Preferences"]["AutoRollback"] is True
    assert refresh["Status"] == "RollbackSuccessful"
    assert refresh["StatusReason"] == "CloudWatch alarm in ALARM: team-b-latency"
    assert "instance refresh" in result["error"] and "RollbackSuccessful" in result["error"]
    # the group stays on its version; the rebake's version is deleted
    group = autoscaling.describe_auto_scaling_groups(AutoScalingGroupNames=["pinned"])["AutoScalingGroups"][0]
    assert group["LaunchTemplate"]["Version"] == "1"
    versions = aws.session(CHILD, REGION).client("ec2").describe_launch_template_versions(LaunchTemplateId=template)
    assert [v["VersionNumber"] for v in versions["LaunchTemplateVersions"]] == [1]


def test_a_freeze_rebakes_nothing(moto_aws: None) -> None:
    deploy_calendar(freeze_around_now())
    _pinned_group(None)
    with aws.as_account(CHILD, REGION):
        found = asg_rebake.find_asgs({"MaintenanceWindow": WINDOW, "ChangeCalendar": CALENDAR}, None)
    assert found == {"asgs": [], "count": 0, "skipped": {}, "failures": []}
    autoscaling = aws.session(CHILD, REGION).client("autoscaling")
    assert autoscaling.describe_instance_refreshes(AutoScalingGroupName="pinned")["InstanceRefreshes"] == []
