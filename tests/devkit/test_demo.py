"""The demo end to end, smaller: both stacks deployed by the applier, then every step on them.

Every expected figure is derived from the fleet spec (``devkit/demo/fleet_spec.py``: each kind's
expected fate under the tag contract) and the counts it launches — never from what the demo
counted — and every failure must be printed with its reason."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest

from components import naming, secure_bucket
from components.config import CentralConfig, ChildConfig
from devkit.applier import ServiceRuleViolation
from devkit.cli import main
from devkit.demo import run as demo_run
from devkit.demo.fleet_spec import FLEET_MIX, KINDS, kind_counts
from devkit.demo.narrative import Narrator
from devkit.demo.run import FAILING_PATCH, run_demo
from devkit.demo.world import Scenario
from tests.pulumi_leftovers import collect_failed_program_leftovers

SCENARIO = Scenario(child_accounts=2, regions=("us-east-1", "eu-west-1"), instances=60)
LOCATIONS = SCENARIO.child_accounts * len(SCENARIO.regions)
PER_LOCATION = kind_counts(max(len(FLEET_MIX), SCENARIO.instances // LOCATIONS))
ASG_MEMBERS = 2  # world.build_asg: DesiredCapacity


def spec_total(select: object) -> int:
    """Instances of the kinds ``select(kind)`` picks, over every account-region."""
    return sum(PER_LOCATION[k.name] for k in FLEET_MIX if select(k)) * LOCATIONS  # type: ignore[operator]


def test_a_small_organization_goes_through_a_full_patch_cycle(tmp_path: Path) -> None:
    out = io.StringIO()
    result = run_demo(SCENARIO, tmp_path, Narrator(out))
    text = out.getvalue()
    world = result.world
    assert world.kind_counts() == {
        **{name: n * LOCATIONS for name, n in PER_LOCATION.items()},
        "asg-member": ASG_MEMBERS,
    }

    # [2] the sweep: every "tagged" kind plus the ASG written once; exempt, managed and ASG members skipped
    assert result.sweep == {
        "tagged": spec_total(lambda k: k.sweep == "tagged") + 1,
        "skipped": spec_total(lambda k: k.sweep == "skipped" and not k.exempt) + ASG_MEMBERS,
        "exempt": spec_total(lambda k: k.exempt),
        "unchanged": spec_total(lambda k: k.sweep == "right"),
        "errors": 0,
        "kinds": {**{k.name: PER_LOCATION[k.name] * LOCATIONS for k in FLEET_MIX if k.sweep == "tagged"}, "asg": 1},
    }
    assert result.second_sweep_writes == 0

    # [3] the self-service window was created and the custom resource answered CloudFormation
    assert result.custom_window == {
        "name": "Prod_payments_maintenance_window",
        "status": "SUCCESS",
        "schedule": "cron(0 2 ? * SAT *)",
    }

    # [4] before the windows fire, the payments team's topic delivered ONE notice of its window (issue 16 item 1):
    # the product's operation and reboot option, the team window's Prod instances and its ASG
    notices = result.notices
    prod_in_team_window = sum(PER_LOCATION[k.name] for k in FLEET_MIX if k.patch_group == "Prod")
    assert notices.window == "Prod_payments_maintenance_window"
    assert notices.runs_at.endswith("T02:00Z")  # Saturday 02:00, the product's UTC schedule
    [key] = notices.sent
    assert key.startswith(f"notice:{world.asg['account']}:{world.asg['region']}:mw-") and key.endswith(
        f":payments:{notices.runs_at}"
    )
    assert notices.repeated == []  # the next check finds the claim: one notice per window run
    [message] = notices.messages
    lines = dict(line.split(": ", 1) for line in message.splitlines()[1:])
    assert lines["team"].strip() == "payments" and lines["operation"].strip() == "Install"
    assert lines["reboot"].strip() == "RebootIfNeeded"
    assert lines["runs at"].strip() == f"{notices.runs_at[:10]} 02:00 UTC"
    assert lines["instances"].strip().startswith(f"{prod_in_team_window}: i-")
    assert lines["ASGs"].strip() == "1: web-frontend"

    in_windows = spec_total(lambda k: k.patch_group is not None)

    # a change freeze: the first location's Default window scans every instance it patches instead of
    # installing (the team's window is elsewhere), rebakes nothing; the calendar is OPEN again afterwards
    freeze = result.freeze
    assert freeze == {
        "location": "/".join(world.locations[0]),
        "state": "CLOSED",
        "frozen": [True],  # the standalone runbook's gate; the ASG runbook rebakes nothing
        "operations": ["Scan"],
        "scanned": in_windows // LOCATIONS,
        "rebaked": 0,
        "after": "OPEN",
        "failures": [],
    }
    assert "operation sent Scan (asked: Install)" in text

    # [5] windows: every instance with a Patch Group is patched exactly once, by its window's
    # registered task; the one whose openssl fails fails its command, its task and its window
    run = result.patch_run
    assert run["windows"] == LOCATIONS + 1  # Default everywhere + the team's Prod window
    assert run["tasks"] == 2 * run["windows"]  # each: the instance task and the ASG task, as registered
    assert run["patched"] == in_windows - 1 and run["failed"] == 1
    assert run["builders"] == 1  # the team's Prod window rebakes its ASG once; no window patches members
    assert run["rebaked"] == ["web-frontend"]
    account, region = world.locations[-1]
    [failure] = run["failures"]
    assert failure.startswith(f"{account}/{region}/Default_maintenance_window task ")
    assert "1 patch(es) failed to install" in failure
    assert f"FAILED in {account}/{region}: command" in text
    # command outputs: written by the agents under the registered prefix, with the instance role;
    # the catalog product's tasks register no output bucket (printed, not hidden)
    keys = run["output_keys"]  # listed from the bucket after the windows ran
    # (plus the outputs of the freeze's scan, one per scanned instance)
    assert len(keys) == in_windows - prod_in_team_window + freeze["scanned"] and run["not_written"] == []
    assert all(k.split("/")[1] == "patching" and "/accountid=" in k for k in keys)
    assert run["unlogged"] == prod_in_team_window + 1
    assert text.count("no output bucket registered") == 2

    # [6] the report counts every instance that reported patch data; the failed one is non-compliant
    summary = result.report["summary"]
    assert summary["compliant"] == in_windows - 1 and summary["non_compliant"] == 1
    assert result.report_dir is not None and (result.report_dir / "index.html").exists()
    assert json.loads((result.report_dir / "report.json").read_text())["summary"] == summary
    # issue 17: exempt instances and EKS/ECS/ASG nodes are apart, not "never scanned"; names; the failed run
    assert summary["exempt"] == spec_total(lambda k: k.name == "exempt")
    assert summary["managed_node"] >= spec_total(lambda k: k.name in ("eks-node", "ecs-node"))
    # issue 15.4: the deployed sweep wrote one object per account-region into the hub's lake (twice for none: a
    # re-run overwrites), and the report counted the app team's instance without SSM from there, with no flag
    lake = result.unmanaged_lake
    assert lake["errors"] == [] and len(lake["written"]) == LOCATIONS and len(lake["keys"]) == LOCATIONS
    assert set(lake["written"]) == {f"s3://{world.inventory_bucket}/{key}" for key in lake["keys"]}
    assert list(lake["found"]) == [lake["instance"]]
    assert lake["found"][lake["instance"]].endswith("lacks AmazonSSMManagedInstanceCore")
    assert f"unmanaged instances from the lake: 1 in {LOCATIONS} account-region sweeps" in text
    listing = result.report["queries"]["UnmanagedInstances"]
    assert [row[listing["columns"].index("resourceid")] for row in listing["rows"]] == [lake["instance"]]
    assert summary["unmanaged"] == 1 and summary["unreported"] == 0
    assert summary["compliance_pct"] == round(100 * summary["compliant"] / summary["responsible"], 2)
    assert result.report["accounts"] == {account.id: account.name for account in world.accounts} | {
        world.hub_account: result.report["accounts"][world.hub_account]
    }
    failed = result.report["queries"]["FailedPatchInstalls"]
    assert {row[failed["columns"].index("patch")] for row in failed["rows"]} == {"openssl.x86_64"}
    page = (result.report_dir / "index.html").read_text(encoding="utf-8")
    assert "openssl.x86_64" in page and world.accounts[-1].name in page

    # [7] the emergency rollout: waves Dev then Prod (after approval), on the Patch Groups only;
    # ASG members carry no Patch Group (the group's tags do not propagate), so no wave targets them
    dev = spec_total(lambda k: k.patch_group == "Dev")
    prod = spec_total(lambda k: k.patch_group == "Prod")
    emergency = result.emergency
    assert emergency["approvals"] == ["Prod"]
    # every targeted instance is patched, failed, or not sent once the failure reached MaxErrors
    assert emergency["failed"] == 1 and emergency["patched"] + emergency["failed"] + emergency["not_sent"] == dev + prod
    assert emergency["not_sent"] < prod  # only in the failing location
    assert emergency["builders"] == 1  # the Prod wave rebakes the ASG
    [location] = emergency["failed_locations"]
    assert location.startswith(f"{account}/{region} ") and "1 patch(es) failed to install" in location
    assert f"FAILED location {account}/{region}" in text
    assert "not a managed instance" not in text
    # [5] the window run's events reached the hub's lake before the data sync; the failed install, one alert
    assert {row["source"] for row in result.events.rows.values()} == {"events"}
    assert len(result.events.rows) == 4  # patch run, compliance change, the failed install delivered twice
    assert len(result.events.alerts) == 1
    text = out.getvalue()
    assert re.search(r"\[\d+\] Emergency patching", text) and "second sweep wrote 0 tags" in text
    # an Inspector finding on one Prod instance: one approved wave for exactly that instance, and
    # patchctl emergency status shows it (its finding, its one account-Region); the re-published finding started nothing
    inspector = result.inspector
    first_account, first_region = world.locations[0]
    assert inspector["status"] == "SUCCEEDED"
    assert inspector["patched"] == [inspector["instance"]] and world.kinds[inspector["instance"]] == "prod"
    assert inspector["approvals"] == ["Prod"] and inspector["claims_for_instance"] == 1
    assert inspector["status_waves"] == ["Prod"]
    assert inspector["status_locations"] == [(first_account, first_region, "Success")]
    assert inspector["status_findings"] == [inspector["finding_arn"]]
    assert inspector["requested_by"].endswith(f"assumed-role/{naming.INSPECTOR_FINDINGS_FUNCTION}/lambda")
    assert re.search(r"\[\d+\] Inspector finding", text)
    # [11] every call the program's roles made was allowed by the policies the program deployed
    assert result.iam_problems == []
    assert result.iam_calls >= 30


def test_a_deploy_blocker_fails_the_demo_with_the_resource_and_the_rule(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An expiration before the transition in a rendered lifecycle (what the results bucket
    once had): S3 refuses it, so the applier refuses it, so the demo stops there."""
    monkeypatch.setattr(secure_bucket, "validate_lifecycle", lambda name, args: None)  # the program's own guard

    def expire_logs_before_archive(central: CentralConfig, child: ChildConfig) -> tuple[CentralConfig, ChildConfig]:
        compliance = central.compliance.model_copy(update={"log_retention_days": 60, "archive_after_days": 90})
        return central.model_copy(update={"compliance": compliance}), child

    with pytest.raises(ServiceRuleViolation) as raised:
        run_demo(SCENARIO, tmp_path, Narrator(io.StringIO()), configure=expire_logs_before_archive)
    collect_failed_program_leftovers()  # the program stopped mid-apply (tests/pulumi_leftovers.py)
    message = str(raised.value)
    assert "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration" in message
    assert "-lifecycle" in message and ("patch-logs" in message or "patch-lists" in message), message
    assert "'Days' in the Expiration action (60) must be greater than 'Days' in the Transition action (90" in message


def test_the_demo_command_reports_a_deploy_failure_in_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def refused(*args: object, **kwargs: object) -> None:
        raise ServiceRuleViolation("aws:s3/bucket:Bucket", "urn:pulumi:demo::org-patching::x", "InvalidArgument: no")

    monkeypatch.setattr(demo_run, "deploy_stacks", refused)
    assert main(["demo", "--accounts", "1", "--instances", "10", "--regions", "us-east-1", "--quiet"]) == 1
    collect_failed_program_leftovers()
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("devkit demo: error: ") and "InvalidArgument: no" in err[0]


def test_bad_demo_arguments_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--accounts", "0"]) == 2
    assert "--accounts" in capsys.readouterr().err


def test_the_fleet_spec_covers_every_kind_once() -> None:
    assert len(KINDS) == len(FLEET_MIX) and FAILING_PATCH.endswith(".x86_64")
