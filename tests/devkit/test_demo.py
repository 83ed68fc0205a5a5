"""The demo end to end, smaller: every step runs the shipped code on the emulator and the
numbers it reports agree with the fleet it built."""

from __future__ import annotations

import io
import json
from pathlib import Path

from devkit.cli import main
from devkit.demo.narrative import Narrator
from devkit.demo.run import run_demo
from devkit.demo.world import Scenario


def test_a_small_organization_goes_through_a_full_patch_cycle(tmp_path: Path) -> None:
    out = io.StringIO()
    result = run_demo(
        Scenario(child_accounts=2, regions=("us-east-1", "eu-west-1"), instances=60), tmp_path, Narrator(out)
    )
    world = result.world
    kinds = world.kind_counts()
    taggable = sum(
        n for kind, n in kinds.items() if kind not in ("exempt", "eks-node", "ecs-node", "asg-member", "already-right")
    )
    # every taggable instance plus the ASG got its tags once; a second sweep writes nothing
    assert result.sweep["tagged"] == taggable + 1
    assert result.sweep["errors"] == 0
    assert result.second_sweep_writes == 0
    # the self-service window was created and the custom resource answered CloudFormation
    assert result.custom_window == {
        "name": "Prod_maintenance_window",
        "status": "SUCCESS",
        "schedule": "cron(0 2 ? * SAT *)",
    }
    # the windows patched what they target and rebaked the ASG through a new template version
    assert result.patch_run["failures"] == []
    assert result.patch_run["rebaked"] == ["web-frontend"]
    assert result.patch_run["patched"] == taggable + kinds["already-right"]
    # the report counts instances that reported patch data; the failing patch shows up
    summary = result.report["summary"]
    assert summary["compliant"] + summary["non_compliant"] == result.patch_run["patched"]
    assert summary["non_compliant"] > 0
    assert result.report_dir is not None and (result.report_dir / "index.html").exists()
    assert json.loads((result.report_dir / "report.json").read_text())["summary"] == summary
    # the emergency rollout ran both waves, Prod only after approval, and acted in the accounts
    assert result.emergency["status"] == "SUCCEEDED"
    assert result.emergency["approvals"] == ["Prod"]
    assert result.emergency["patched"] > 0
    # the window run's events reached the hub's lake before the data sync; the failed install, one alert
    assert {row["source"] for row in result.events.rows.values()} == {"events"}
    assert len(result.events.rows) == 4  # patch run, compliance change, the failed install delivered twice
    assert len(result.events.alerts) == 1
    text = out.getvalue()
    assert "[8] Emergency patching" in text and "second sweep wrote 0 tags" in text


def test_bad_demo_arguments_exit_2(capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["demo", "--accounts", "0"]) == 2
    assert "--accounts" in capsys.readouterr().err
