"""``devkit demo --faults``: the spec, and the fault scenario on the steps the faults touch, at a size that fits.

The whole demo under faults takes minutes (the stacks' deploy alone), so here the faulted steps run on their
own: the tag sweep of every account-region (devkit/demo/run.py ``sweep``, the Lambda's real handler, as
EventBridge invokes it) and an emergency rollout on the hub's real state machine (``deploy_emergency_hub``),
under every fault of the documented spec at once; then the run's own invariant checks
(devkit/demo/fault_checks.py) must all hold, and each figure is compared with what the faults imply.
"""

from __future__ import annotations

import io
import json
from contextlib import redirect_stderr
from typing import Any

import boto3
import pytest
import yaml

from components import naming
from components.config import BootstrapConfig, CentralConfig
from components.runbooks import render_runbook
from devkit.cli import main
from devkit.demo import fault_checks
from devkit.demo.emergency import deploy_emergency_hub
from devkit.demo.fault_run import resolve_account
from devkit.demo.run import sweep
from devkit.demo.world import ChildAccount, World
from devkit.faults import Faults, FaultSpecError, injecting, parse
from tests import aws

HUB, HOME = "123456789012", "us-east-1"
ACCOUNTS = ("111111111111", "222222222222", "333333333333")
REGIONS = ("us-east-1", "eu-west-1")
SPEC = "throttle=0.3,deny=child-2,region-down=eu-west-1,lambda-timeout=1,automation-fail=1,seed=7"


BAD_SPECS = [
    "throttle",
    "throttle=1.5",
    "throttle=0.3,throttle=0.1",
    "deny=12345",
    "region-down=Europe",
    "lambda-timeout=-1",
    "automation-fail=x",
    "seed=٣",
    "flood=1",
    ",",
]


@pytest.mark.parametrize("spec", BAD_SPECS)
def test_a_bad_spec_is_one_line(spec: str) -> None:
    with pytest.raises(FaultSpecError) as raised:
        parse(spec)
    assert str(raised.value).startswith("--faults") and "\n" not in str(raised.value)


def test_the_cli_refuses_a_bad_spec_with_exit_2_before_anything_runs() -> None:
    err = io.StringIO()
    with redirect_stderr(err):
        assert main(["demo", "--faults", BAD_SPECS[1], "--out", "/nonexistent/never-written"]) == 2
    assert err.getvalue() == f"devkit demo: error: {parse_error(BAD_SPECS[1])}\n"


def parse_error(spec: str) -> str:
    try:
        parse(spec)
    except FaultSpecError as error:
        return str(error)
    raise AssertionError(spec)


def test_the_documented_spec_parses_and_names_a_child_account() -> None:
    spec = parse(SPEC)
    assert (spec.throttle, spec.deny, spec.region_down, spec.lambda_timeout, spec.automation_fail, spec.seed) == (
        0.3,
        "child-2",
        "eu-west-1",
        1,
        1,
        7,
    )
    world = World(HUB, HOME, "o-abcdefghij", "r-abcd", [ChildAccount(a, a) for a in ACCOUNTS], REGIONS)
    assert resolve_account(spec, world) == ACCOUNTS[1]
    with pytest.raises(FaultSpecError, match="has 3 child accounts"):
        resolve_account(parse("deny=child-4"), world)
    with pytest.raises(FaultSpecError, match="not a child account"):
        resolve_account(parse("deny=999999999999"), world)


def _fleet(world: World) -> dict[tuple[str, str], list[str]]:
    """Per account-region: 3 instances needing tags, 1 exempt, 1 already right; a Dev window in one region."""
    placed: dict[tuple[str, str], list[str]] = {}
    for account, region in world.locations:
        session = aws.session(account, region)
        ids = aws.run_instances(session, {"environment": "Prod"}, count=3)
        exempt = aws.run_instances(session, {"environment": "Test", "install_patch": "no"})
        right = aws.run_instances(
            session, {"environment": "Test", "Patch Group": "Test", "maintenance_window": "Default_maintenance_window"}
        )
        for kind, launched in (("prod", ids), ("exempt", exempt), ("right", right)):
            world.kinds.update(dict.fromkeys(launched, kind))
        placed[(account, region)] = ids
    return placed


def _rollout(emu: Any) -> dict[str, Any]:
    cfg = CentralConfig(
        stack="central",
        org_id="o-abcdefghij",
        central_account_id=HUB,
        home_region=HOME,
        regions=list(REGIONS),
        accounts=list(ACCOUNTS),
        bootstrap=BootstrapConfig(enabled=False),
    )
    runbook = {
        "schemaVersion": "0.3",
        "assumeRole": "{{ AutomationAssumeRole }}",
        "mainSteps": [{"name": "patch", "action": "aws:sleep", "inputs": {"Duration": "PT1S"}}],
    }
    runbooks = {}
    for name in (naming.RUNBOOK_STANDALONE, naming.RUNBOOK_ASG):
        runbooks[name] = json.dumps({**runbook, "parameters": yaml.safe_load(render_runbook(name))["parameters"]})
    hub = deploy_emergency_hub(boto3.session.Session(region_name=HOME), cfg, runbooks)
    request = {
        "patching_operation": "Install",
        "operation_post_patching": "RebootIfNeeded",
        "include_asg": "No",
        "retain_healthy_percentage": "90",
        "refresh_asg_instances": "Yes",
        "run_patch_baseline_install_override_list": "",
        "targets": {"accounts": list(ACCOUNTS), "regions": list(REGIONS)},
        "waves": ["Dev"],
        "target_location_max_concurrency": "3",
        "target_location_max_errors": "1",
        "poll_seconds": 0,
    }
    return hub.finish(hub.start(request), timeout_seconds=60)


@pytest.mark.usefixtures("moto_aws")
def test_the_faulted_steps_keep_every_invariant() -> None:
    emu = aws.emulator()
    world = World(HUB, HOME, "o-abcdefghij", "r-abcd", [ChildAccount(a, a) for a in ACCOUNTS], REGIONS)
    placed = _fleet(world)
    spec = parse(SPEC)
    faults = Faults(spec, denied_account=resolve_account(spec, world))
    with injecting(faults):
        sweep(emu, world)
        second = sweep(emu, world)[0]
        outcome = _rollout(emu)

    # what each fault did, as injected
    assert faults.injected["throttled"] > 0
    faulted = [loc for loc in world.locations if faults.location_fault(*loc)]
    healthy = [loc for loc in world.locations if loc not in faulted]
    assert faulted == [
        (ACCOUNTS[0], "eu-west-1"),
        (ACCOUNTS[1], "us-east-1"),
        (ACCOUNTS[1], "eu-west-1"),
        (ACCOUNTS[2], "eu-west-1"),
    ]
    [(where_account, where_region, message)] = faults.timeouts  # the first invocation, retried
    assert (where_account, where_region) == world.locations[0] and "timed out" in message
    # the healthy locations were tagged despite the throttling and the timeout; the retry wrote nothing twice
    assert not any(i in second for loc in healthy for i in placed[loc])
    # the rollout stopped with the status naming every failed location
    assert outcome["status"] == "FAILED" and outcome["error"] == "WaveErrorThresholdExceeded"

    report = fault_checks.FaultReport(injected=dict(faults.injected))
    reported = fault_checks.check_tagging(emu, world, faults, report)
    fault_checks.check_reported_once(world, faults, report)
    fault_checks.check_emergency(emu, (HUB, HOME), world.locations, report)
    fault_checks.check_leftovers(emu, world, report)
    fault_checks.check_convergence(emu, world, reported, report, sweep)
    assert report.violations == []
    assert reported == {i for loc in faulted for i in placed[loc]}
    # already right: 3 tagged + 1 launched right in each healthy location, the 1 launched right in each faulted one
    assert report.tagged_right == 4 * len(healthy) + len(faulted) and report.skipped_by_contract == len(world.locations)
    assert report.repaired == sorted(reported) and report.converged_writes == 0
    [(child_account, child_region, _)] = faults.failed_children
    assert (child_account, child_region) in healthy
    # SSM ran children in order until the location's errors exceeded 1: the injected failure, then the faulted ones
    assert f"{child_account}/{child_region}" in report.failed_locations and len(report.failed_locations) >= 2
    assert set(report.failed_locations) <= {f"{a}/{r}" for a, r in [*faulted, (child_account, child_region)]}
    assert report.leftovers == {"builders": 0, "unused AMIs": 0, "unrefreshed versions": 0}


@pytest.mark.usefixtures("moto_aws")
def test_a_broken_invariant_is_found() -> None:
    """The checks can fail: an instance left wrong that no sweep reported is named."""
    emu = aws.emulator()
    world = World(HUB, HOME, "o-abcdefghij", "r-abcd", [ChildAccount(ACCOUNTS[0], "a")], (HOME,))
    [instance] = aws.run_instances(aws.session(ACCOUNTS[0], HOME), {"environment": "Prod"})
    world.kinds[instance] = "prod"
    faults = Faults(parse("seed=1"))
    faults.results.append((ACCOUNTS[0], HOME, {"tagged": {}, "skipped": {}, "errors": []}))  # a sweep that lied
    report = fault_checks.FaultReport()
    reported = fault_checks.check_tagging(emu, world, faults, report)
    assert report.violations == [
        f"{ACCOUNTS[0]}/{HOME} {instance}: wrong tags {{'environment': 'Prod'}} reported 0 times (expected once)"
    ]
    fault_checks.check_convergence(emu, world, reported, report, sweep)
    assert any("nobody reported" in v for v in report.violations)
