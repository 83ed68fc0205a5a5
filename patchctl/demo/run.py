"""A full patch cycle for a simulated organization, on the local AWS emulator.

Each step calls the code that runs in AWS — the Lambda handlers, the runbook scripts, the
state machine definition, the report queries — against moto with several accounts.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from components.config import MaintenanceWindowConfig
from patchctl.demo.narrative import Narrator
from patchctl.demo.world import Scenario, World, build_fleet, build_organization, install_hub, install_spoke
from patchctl.emulator import Emulator, load_lambda


@dataclass
class DemoResult:
    world: World
    sweep: dict[str, Any] = field(default_factory=dict)
    second_sweep_writes: int = -1
    custom_window: dict[str, Any] = field(default_factory=dict)
    patch_run: dict[str, Any] = field(default_factory=dict)
    report: dict[str, Any] = field(default_factory=dict)
    emergency: dict[str, Any] = field(default_factory=dict)
    report_dir: Path | None = None
    seconds: float = 0.0


def scheduled_event(account: str, region: str) -> dict[str, Any]:
    """The event an EventBridge schedule delivers to the tag-remediation Lambda."""
    return {
        "version": "0",
        "id": "demo-sweep",
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": account,
        "time": "2026-11-20T05:00:00Z",
        "region": region,
        "resources": [f"arn:aws:events:{region}:{account}:rule/org-patching-tag-sweep"],
        "detail": {},
    }


def sweep(emu: Emulator, world: World) -> tuple[dict[str, dict[str, str]], dict[str, str], dict[str, str], list[Any]]:
    """Run the tag-remediation Lambda's scheduled sweep in every account and region."""
    handler = load_lambda("tag_remediation").handler
    tagged: dict[str, dict[str, str]] = {}
    skipped: dict[str, str] = {}
    notes: dict[str, str] = {}
    errors: list[Any] = []
    for account, region in world.locations:
        with emu.as_account(account, region):
            result = handler(scheduled_event(account, region), None)
        tagged.update(result["tagged"])
        skipped.update(result["skipped"])
        notes.update(result.get("notes", {}))
        errors += result["errors"]
    return tagged, skipped, notes, errors


def step_tag_sweep(emu: Emulator, world: World, say: Narrator, result: DemoResult) -> None:
    tagged, skipped, notes, errors = sweep(emu, world)
    kinds = Counter(world.kinds[i] for i in tagged if i in world.kinds)
    say.fact(f"tagged {len(tagged)} resources in {len(world.locations)} account-regions: {dict(sorted(kinds.items()))}")
    reasons = Counter(reason.split(":")[0] for reason in skipped.values())
    say.fact(f"skipped {len(skipped)}: {dict(sorted(reasons.items()))}")
    example = next((n for n in notes.values() if "Production" in n), None)
    if example:
        say.fact(f"fell back to Default with a reason, e.g. {example}")
    if errors:
        say.fact(f"errors: {errors}")
    second, _, _, _ = sweep(emu, world)
    say.fact(f"second sweep wrote {len(second)} tags (a correct tag is never rewritten)")
    result.sweep = {"tagged": len(tagged), "skipped": len(skipped), "errors": len(errors), "kinds": dict(kinds)}
    result.second_sweep_writes = len(second)


def run_demo(scenario: Scenario, out_dir: Path, say: Narrator) -> DemoResult:
    window = MaintenanceWindowConfig()
    with Emulator() as emu:
        with say.step("An organization on the local AWS emulator"):
            world = build_organization(emu, scenario)
            install_hub(emu, world)
            for account, region in world.locations:
                install_spoke(emu, world, account, region, window)
            build_fleet(emu, world, scenario)
            say.fact(f"hub {world.hub_account} ({world.org_id}), children {', '.join(a.id for a in world.accounts)}")
            say.fact(f"{len(world.kinds)} instances in {len(world.locations)} account-regions, 1 Auto Scaling group")
            say.fact(f"each spoke: Default_maintenance_window ({window.schedule}), runbooks, instance profile")
        result = DemoResult(world)
        with say.step("Tag remediation sweep (EventBridge schedule → Lambda), every account and region"):
            step_tag_sweep(emu, world, say, result)
    result.seconds = say.elapsed
    return result
