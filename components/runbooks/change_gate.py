"""The ``aws:executeScript`` step both runbooks take before any change: the change freeze and the teams' alarms.

* **Change freeze.** ``ChangeCalendar`` is the ARN of the organization's calendar in the hub (the window tasks pass
  it; an emergency wave passes nothing: its freeze check and override happened at validation). When
  ``GetCalendarState`` answers ``CLOSED``, an ``Install`` becomes a ``Scan``: compliance stays fresh, nothing is
  installed, nothing reboots, no AMI is rebaked. (API reference, GetCalendarState: ``CLOSED`` means "actions are
  not allowed to proceed"; a calendar shared from another account is named by its document ARN.)
* **The teams' alarms.** Before an ``Install``, the alarms named by the ``patch_alarms`` tag (tag contract) of the
  instances this run selects are read with ``cloudwatch:DescribeAlarms`` (metric and composite alarms); one in
  ``ALARM`` fails the step, so nothing is patched in this account and Region while a team's service is unhealthy.
  SSM's own ``AlarmConfiguration`` (one alarm per execution: botocore ``ssm`` ``AlarmList`` ``max`` 1) keeps
  watching the alarm a window or a wave names for the rest of the run; the ASG refresh watches the groups' alarms
  itself (``AlarmSpecification``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import boto3
from botocore.config import Config
from tag_contract import ALARMS_TAG, MAINTENANCE_WINDOW_TAG, PATCH_GROUP_TAG, alarm_names

GATE_RETRIES = Config(retries={"mode": "standard", "max_attempts": 10})  # type: ignore[typeddict-item]
#: DescribeAlarms takes at most 100 names per call (botocore ``cloudwatch`` ``AlarmNames`` ``max`` 100).
ALARMS_PER_CALL = 100


def _selected_alarms(ec2: Any, events: Mapping[str, Any]) -> dict[str, list[str]]:
    """Alarm name -> the selected instances that name it (their ``patch_alarms`` tag)."""
    group = str(events.get("PatchGroup") or "").strip()
    key, value = (PATCH_GROUP_TAG, group) if group else (MAINTENANCE_WINDOW_TAG, str(events.get("MaintenanceWindow")))
    named: dict[str, list[str]] = {}
    filters = [
        {"Name": f"tag:{key}", "Values": [value]},
        {"Name": "tag-key", "Values": [ALARMS_TAG]},
        {"Name": "instance-state-name", "Values": ["pending", "running", "stopping", "stopped"]},
    ]
    for page in ec2.get_paginator("describe_instances").paginate(Filters=filters):
        for reservation in page.get("Reservations", []):
            for instance in reservation.get("Instances", []):
                tags = {t["Key"]: t["Value"] for t in instance.get("Tags", [])}
                for name in alarm_names(tags.get(ALARMS_TAG)):
                    named.setdefault(name, []).append(instance["InstanceId"])
    return named


def _firing(cloudwatch: Any, names: list[str]) -> list[str]:
    firing: list[str] = []
    for start in range(0, len(names), ALARMS_PER_CALL):
        chunk = names[start : start + ALARMS_PER_CALL]
        pages = cloudwatch.get_paginator("describe_alarms").paginate(
            AlarmNames=chunk, AlarmTypes=["MetricAlarm", "CompositeAlarm"]
        )
        for page in pages:
            alarms = page.get("MetricAlarms", []) + page.get("CompositeAlarms", [])
            firing += [a["AlarmName"] for a in alarms if a.get("StateValue") == "ALARM"]
    return sorted(set(firing))


def check_freeze(events: Mapping[str, Any], context: Any) -> dict[str, Any]:
    """``{"operation", "frozen"}``: ``Scan`` instead of ``Install`` while the calendar is CLOSED."""
    operation = str(events.get("Operation") or "Scan")
    calendar = str(events.get("ChangeCalendar") or "").strip()
    frozen = False
    if calendar:
        state = boto3.client("ssm", config=GATE_RETRIES).get_calendar_state(CalendarNames=[calendar])["State"]
        frozen = state == "CLOSED"
    if frozen and operation == "Install":
        print(f"change freeze: {calendar} is CLOSED; scanning instead of installing")
        operation = "Scan"
    return {"operation": operation, "frozen": frozen}


def check_gates(events: Mapping[str, Any], context: Any) -> dict[str, Any]:
    """``{"operation", "frozen", "alarms"}``: :func:`check_freeze`, then the alarms of the selected instances and
    the window's own (``Alarms``). Raises when one is in ALARM before an Install."""
    decided = check_freeze(events, context)
    operation = decided["operation"]
    named: dict[str, list[str]] = {}
    if operation == "Install":
        named = _selected_alarms(boto3.client("ec2", config=GATE_RETRIES), events)
        for name in alarm_names(str(events.get("Alarms") or "")):
            named.setdefault(name, []).append("the window")
        firing = _firing(boto3.client("cloudwatch", config=GATE_RETRIES), sorted(named)) if named else []
        if firing:
            where = "; ".join(f"{name} (named by {', '.join(sorted(named[name]))})" for name in firing)
            raise RuntimeError(f"patching stopped: alarm in ALARM: {where}")
    return {**decided, "alarms": sorted(named)}
