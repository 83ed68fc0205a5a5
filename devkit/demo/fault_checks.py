"""After a fault scenario (``devkit demo --faults``): the invariants the run checks itself.

Every figure is read from the emulator's state or counted at the API boundary (botocore hooks on
the runtime's sessions), never taken from the demo's own counting:

* every fleet instance carries the contract's tags, is skipped by the contract, or is reported by
  the last sweep of its account-region with its reason;
* every failure is reported exactly once: in each sweep result no resource is in two error entries
  and a faulted account-region has exactly one; the timed-out invocation once; each failed child
  automation once in the rollout's own status;
* a sweep after the faults stop writes only what was reported, and the sweep after it writes nothing;
* the emergency state machine ends with a status (its output or cause) naming every failed location;
* nothing is left behind: no builder instance alive, no rebake AMI that no launch template version
  uses, no launch template version that no instance refresh used.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import tag_contract

from devkit.demo.world import World
from devkit.emulator import Emulator
from devkit.faults import Faults, counting_writes

BUILDER_TAG = "org-patching:builder-for"  # components/runbooks/asg_rebake.py
REBAKE_KEY_TAG = "org-patching:rebake-of"


@dataclass
class FaultReport:
    """The checks' figures and the invariants that did not hold (empty: all held)."""

    injected: dict[str, int] = field(default_factory=dict)
    tagged_right: int = 0
    skipped_by_contract: int = 0
    reported: int = 0
    repair_writes: int = 0
    repaired: list[str] = field(default_factory=list)
    converged_writes: int = -1
    emergency_status: str = ""
    failed_locations: list[str] = field(default_factory=list)
    leftovers: dict[str, int] = field(default_factory=dict)
    violations: list[str] = field(default_factory=list)


def _tags(items: Iterable[dict[str, Any]] | None) -> dict[str, str]:
    return {t["Key"]: t.get("Value", "") for t in items or []}


def _windows(emu: Emulator, account: str, region: str) -> set[str]:
    ssm = emu.session(account, region).client("ssm")
    names = {
        str(w["Name"])
        for page in ssm.get_paginator("describe_maintenance_windows").paginate()
        for w in page["WindowIdentities"]
    }
    return {n for n in names if tag_contract.window_environment(n) is not None}


def _instances(emu: Emulator, account: str, region: str) -> dict[str, dict[str, Any]]:
    ec2 = emu.session(account, region).client("ec2")
    return {
        i["InstanceId"]: i
        for page in ec2.get_paginator("describe_instances").paginate()
        for r in page["Reservations"]
        for i in r["Instances"]
    }


def last_results(faults: Faults) -> dict[tuple[str, str], dict[str, Any]]:
    """The last completed sweep result of every account-region (what the program reported last)."""
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for account, region, result in faults.results:
        found[(account, region)] = result
    return found


def check_tagging(emu: Emulator, world: World, faults: Faults, report: FaultReport) -> set[str]:
    """Every fleet instance: right, skipped by the contract, or reported once by its location's last sweep.
    Returns the reported ones (a repair sweep may write only those)."""
    reported: set[str] = set()
    results = last_results(faults)
    for account, region in world.locations:
        result = results.get((account, region))
        if result is None:
            report.violations.append(f"{account}/{region}: no sweep completed there")
            continue
        windows = _windows(emu, account, region)
        errors = result.get("errors", [])
        whole = [e for e in errors if not e.get("resources")]
        per_resource = Counter(r for e in errors for r in e.get("resources", []))
        for instance_id, instance in _instances(emu, account, region).items():
            if instance_id not in world.kinds or instance["State"]["Name"] not in ("pending", "running", "stopped"):
                continue
            tags = _tags(instance.get("Tags"))
            decision = tag_contract.decide(tags, frozenset(windows), "instance")
            if decision.skip:
                report.skipped_by_contract += 1
                continue
            if not decision.changes(tags):
                report.tagged_right += 1
                continue
            times = per_resource[instance_id] + len(whole)
            if times != 1:
                report.violations.append(
                    f"{account}/{region} {instance_id}: wrong tags {tags} reported {times} times (expected once)"
                )
            if times:
                reported.add(instance_id)
                report.reported += 1
    return reported


def check_reported_once(world: World, faults: Faults, report: FaultReport) -> None:
    """In each sweep result: no resource in two error entries; a faulted location exactly one entry."""
    for account, region, result in faults.results:
        errors = result.get("errors", [])
        twice = [r for r, n in Counter(r for e in errors for r in e.get("resources", [])).items() if n > 1]
        if twice:
            report.violations.append(f"{account}/{region}: {twice} reported in more than one error entry")
        if faults.location_fault(account, region) and len(errors) != 1:
            report.violations.append(f"{account}/{region}: the location fault is reported {len(errors)} times")
    if faults.spec.lambda_timeout and len(faults.timeouts) != 1:
        report.violations.append(f"the Lambda timeout is reported {len(faults.timeouts)} times (expected once)")


def check_convergence(emu: Emulator, world: World, reported: set[str], report: FaultReport, sweep: Any) -> None:
    """With the faults stopped: one sweep repairs only what was reported, the next writes nothing."""
    with counting_writes() as repair:
        sweep(emu, world)
    report.repair_writes = repair.total
    fleet_ids = {r for r in repair.resources if not r.startswith("asg/")}
    report.repaired = sorted(fleet_ids)
    extra = sorted(fleet_ids - reported)
    if extra:
        report.violations.append(f"the repair sweep wrote {len(extra)} instances nobody reported: {extra[:5]}")
    with counting_writes() as again:
        sweep(emu, world)
    report.converged_writes = again.total
    if again.total:
        report.violations.append(f"the sweep after the repair made {again.total} writes ({dict(again.calls)})")


def rollout_failures(described: dict[str, Any]) -> list[list[tuple[str, str]]]:
    """The failed locations the rollout's final status names, one list per automation of each wave
    (the summary is the execution's ``output``, or its ``cause`` when it stopped)."""
    try:
        summary = json.loads(described.get("output") or described.get("cause") or "{}")
    except ValueError:
        return []
    found: list[list[tuple[str, str]]] = []
    for wave in summary.get("waves", []) if isinstance(summary, dict) else []:
        for automation in wave.get("automations", []):
            found.append(
                [
                    (str(f["location"]["Accounts"][0]), str(f["location"]["Regions"][0]))
                    for f in automation.get("failed_locations", [])
                ]
            )
    return found


def check_emergency(
    emu: Emulator, hub: tuple[str, str], locations: Iterable[tuple[str, str]], report: FaultReport
) -> None:
    """The rollout's final status (read from Step Functions) names every location whose child automation
    failed (read from SSM), once per automation, and no other. SSM stops queuing a location's children once
    its failures exceed ``TargetLocationMaxErrors``: those never ran and are not failures."""
    sfn = emu.session(*hub).client("stepfunctions")
    executions = [
        e
        for machine in sfn.list_state_machines()["stateMachines"]
        for e in sfn.list_executions(stateMachineArn=machine["stateMachineArn"])["executions"]
    ]
    if not executions:
        report.violations.append("no emergency execution found")
        return
    last = max(executions, key=lambda e: e["startDate"])
    described = sfn.describe_execution(executionArn=last["executionArn"])
    report.emergency_status = f"{described['status']} {described.get('error', '')}".strip()
    named = rollout_failures(described)
    # What failed, from SSM's side: every child execution (one per account-region) that ended Failed.
    from devkit.moto_extensions.ssm.models.automation import executions_in

    expected = {
        (account, region)
        for account, region in locations
        for execution in executions_in(account, region)
        if execution.get("ParentAutomationExecutionId") and execution["AutomationExecutionStatus"] == "Failed"
    }
    listed = {location for automation in named for location in automation}
    report.failed_locations = sorted(f"{a}/{r}" for a, r in listed)
    missing = sorted(f"{a}/{r}" for a, r in expected - listed)
    if missing:
        report.violations.append(f"the rollout's status ({report.emergency_status}) does not name {missing}")
    invented = sorted(f"{a}/{r}" for a, r in listed - expected)
    if invented:
        report.violations.append(f"the rollout's status names {invented}, where no child automation failed")
    for automation in named:
        repeated = [f"{a}/{r}" for (a, r), n in Counter(automation).items() if n > 1]
        if repeated:
            report.violations.append(f"the rollout's status names {repeated} more than once in one automation")


def check_leftovers(emu: Emulator, world: World, report: FaultReport) -> None:
    """Builders alive, rebake AMIs no version uses, versions no refresh used: all zero."""
    builders = amis = versions = 0
    for account, region in world.locations:
        session = emu.session(account, region)
        ec2, autoscaling = session.client("ec2"), session.client("autoscaling")
        for instance in _instances(emu, account, region).values():
            if BUILDER_TAG in _tags(instance.get("Tags")) and instance["State"]["Name"] != "terminated":
                builders += 1
                report.violations.append(f"{account}/{region}: builder {instance['InstanceId']} left running")
        used_images: set[str] = set()
        refreshed: dict[str, set[str]] = {}
        for group in autoscaling.describe_auto_scaling_groups()["AutoScalingGroups"]:
            for refresh in autoscaling.describe_instance_refreshes(AutoScalingGroupName=group["AutoScalingGroupName"])[
                "InstanceRefreshes"
            ]:
                spec = refresh.get("DesiredConfiguration", {}).get("LaunchTemplate", {})
                if spec.get("LaunchTemplateId"):
                    refreshed.setdefault(spec["LaunchTemplateId"], set()).add(str(spec.get("Version")))
        for template in ec2.describe_launch_templates()["LaunchTemplates"]:
            template_id = template["LaunchTemplateId"]
            for version in ec2.describe_launch_template_versions(LaunchTemplateId=template_id)[
                "LaunchTemplateVersions"
            ]:
                used_images.add(str(version["LaunchTemplateData"].get("ImageId")))
                number = str(version["VersionNumber"])
                if number != "1" and number not in refreshed.get(template_id, set()):
                    versions += 1
                    report.violations.append(f"{account}/{region}: {template_id} version {number} was never refreshed")
        for image in ec2.describe_images(Owners=["self"])["Images"]:
            if REBAKE_KEY_TAG in _tags(image.get("Tags")) and image["ImageId"] not in used_images:
                amis += 1
                report.violations.append(f"{account}/{region}: AMI {image['ImageId']} is used by no template version")
    report.leftovers = {"builders": builders, "unused AMIs": amis, "unrefreshed versions": versions}


def check(emu: Emulator, world: World, faults: Faults, sweep: Any) -> FaultReport:
    """Every invariant, in order; the emulator is read with the faults stopped."""
    report = FaultReport(injected=dict(faults.injected))
    reported = check_tagging(emu, world, faults, report)
    check_reported_once(world, faults, report)
    check_emergency(emu, (world.hub_account, world.home_region), world.locations, report)
    check_leftovers(emu, world, report)
    check_convergence(emu, world, reported, report, sweep)
    return report
