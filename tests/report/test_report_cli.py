"""``patchctl report --source`` over a generated fleet: the issue's "done when", and bad input."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from patchctl.cli import main
from tests.report.helpers import Fleet


def test_report_from_source_matches_the_generator(
    fleet: Fleet, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    assert main(["report", "--source", str(fleet.root), "--out", str(out), "--json-rows", "5"]) == 0
    document = json.loads((out / "report.json").read_text(encoding="utf-8"))
    summary = fleet.figures.summary()
    assert {key: document["summary"][key] for key in summary} == summary
    items = document["queries"]["PatchComplianceReport"]
    assert items["row_count"] == fleet.figures.patch_items and len(items["rows"]) == 5 and items["truncated"]
    with open(out / "PatchComplianceReport.csv", newline="", encoding="utf-8") as handle:
        table = list(csv.reader(handle))
    assert table[0] == items["columns"] and len(table) - 1 == fleet.figures.patch_items
    assert (out / "index.html").is_file()
    assert f"instances={fleet.figures.instances}" in capsys.readouterr().out


def test_source_may_be_the_prefix_itself(fleet: Fleet, tmp_path: Path) -> None:
    assert main(["report", "--source", str(fleet.root / fleet.spec.prefix), "--out", str(tmp_path / "out")]) == 0
    document = json.loads((tmp_path / "out" / "report.json").read_text(encoding="utf-8"))
    assert document["summary"]["instances"] == fleet.figures.instances


def _bad(tmp_path: Path) -> dict[str, list[str]]:
    empty = tmp_path / "empty"
    empty.mkdir()
    hollow = tmp_path / "hollow" / "AWS:InstanceInformation"
    hollow.mkdir(parents=True)
    for prefix in ("one", "two"):
        (tmp_path / "twice" / prefix / "AWS:InstanceInformation").mkdir(parents=True)
    a_file = tmp_path / "file.txt"
    a_file.write_text("x", encoding="utf-8")
    out = str(tmp_path / "out")
    return {
        "missing dir": ["report", "--source", str(tmp_path / "nope"), "--out", out],
        "empty dir": ["report", "--source", str(empty), "--out", out],
        "no files": ["report", "--source", str(tmp_path / "hollow"), "--out", out],
        "two prefixes": ["report", "--source", str(tmp_path / "twice"), "--out", out],
        "source is a file": ["report", "--source", str(a_file), "--out", out],
        "out is a file": ["report", "--source", str(empty), "--out", str(a_file)],
        "athena without workgroup": ["report", "--athena", "--database", "d", "--out", out],
        "sla days": ["report", "--source", str(empty), "--out", out, "--sla-days", "0"],
        "athena option with source": ["report", "--source", str(empty), "--workgroup", "w", "--out", out],
    }


@pytest.mark.parametrize(
    "case",
    [
        "missing dir",
        "empty dir",
        "no files",
        "two prefixes",
        "source is a file",
        "out is a file",
        "athena without workgroup",
        "sla days",
        "athena option with source",
    ],
)
def test_bad_input_exits_2_with_one_line(case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(_bad(tmp_path)[case]) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("patchctl "), captured.err
    assert not (tmp_path / "out").exists()
