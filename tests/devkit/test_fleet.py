"""The synthetic fleet: deterministic, split-invariant, and internally consistent; and its command,
``python -m devkit fleet``, whose output ``patchctl report`` reads."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from devkit.cli import main as devkit
from devkit.fleet import FleetSpec, generate_fleet
from patchctl.cli import main as patchctl
from tests.report.helpers import Fleet

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def tree_digest(root: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        digest.update(path.relative_to(root).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def test_same_seed_same_bytes_and_workers_do_not_change_them(tmp_path: Path) -> None:
    spec = FleetSpec(accounts=2, regions=2, instances=15, items=5, seed=3)
    one = generate_fleet(tmp_path / "a", spec, NOW)
    two = generate_fleet(tmp_path / "b", FleetSpec(**{**vars(spec), "workers": 2}), NOW)
    assert tree_digest(tmp_path / "a") == tree_digest(tmp_path / "b")
    assert one.as_dict() == two.as_dict()
    other = generate_fleet(tmp_path / "c", FleetSpec(**{**vars(spec), "seed": 4}), NOW)
    assert tree_digest(tmp_path / "c") != tree_digest(tmp_path / "a")
    assert other.instance_ids != one.instance_ids


def test_figures_add_up(fleet: Fleet) -> None:
    figures = fleet.figures
    spec = fleet.spec
    assert figures.instances + figures.terminated == spec.accounts * spec.regions * spec.instances
    # Every instance not terminated is in exactly one category; exempt wins over managed (the tag contract).
    responsible = figures.compliant + figures.non_compliant + figures.unreported
    managed_only = figures.managed_ids - figures.exempt_ids
    assert responsible + figures.exempt + len(managed_only) == figures.instances
    assert sum(c.managed_node for c in figures.per_account.values()) == len(managed_only)
    assert sum(c.instances for c in figures.per_account.values()) == figures.instances
    assert figures.sla_breach_ids <= figures.missing_urgent_ids <= figures.instance_ids
    assert figures.stale_ids | figures.exempt_ids <= figures.instance_ids
    assert not figures.terminated_ids & figures.instance_ids


def test_layout_is_the_sync_layout(fleet: Fleet) -> None:
    base = fleet.root / fleet.spec.prefix
    assert sorted(p.name for p in base.iterdir()) == [
        "AWS:ComplianceItem",
        "AWS:ComplianceSummary",
        "AWS:InstanceInformation",
        "AWS:Tag",
    ]
    account = fleet.spec.account_ids()[0]
    region = fleet.spec.region_names()[0]
    folder = base / "AWS:InstanceInformation" / f"accountid={account}" / f"region={region}"
    (resource_type,) = folder.iterdir()
    assert resource_type.name == "resourcetype=ManagedInstanceInventory"
    files = list(resource_type.iterdir())
    assert len(files) == fleet.spec.instances
    assert all(path.suffix == ".json" and path.stem.startswith("i-0") and len(path.stem) == 19 for path in files)


@pytest.mark.parametrize(
    ("change", "message"),
    [({"regions": 99}, "regions=99"), ({"items": 1}, "items=1"), ({"sla_days": 2}, "sla_days=2")],
)
def test_bad_spec_is_refused_before_writing(tmp_path: Path, change: dict[str, int], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        generate_fleet(tmp_path / "x", FleetSpec(**change))  # type: ignore[arg-type]
    assert not (tmp_path / "x").exists()


def test_fleet_command_prints_known_figures(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    figures_file = tmp_path / "figures.json"
    code = devkit(
        [
            "fleet",
            str(tmp_path / "bucket"),
            "--accounts",
            "2",
            "--regions",
            "1",
            "--instances",
            "10",
            "--figures",
            str(figures_file),
        ]
    )
    assert code == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed == json.loads(figures_file.read_text(encoding="utf-8"))
    assert printed["instances"] + printed["terminated"] == 20
    assert patchctl(["report", "--source", str(tmp_path / "bucket"), "--out", str(tmp_path / "out")]) == 0
    document = json.loads((tmp_path / "out" / "report.json").read_text(encoding="utf-8"))
    assert document["summary"]["instances"] == printed["instances"]


def test_fleet_command_bad_input_exits_2_with_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert devkit(["fleet", str(tmp_path / "f"), "--regions", "99"]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("devkit fleet: "), lines
    assert not (tmp_path / "f").exists()
