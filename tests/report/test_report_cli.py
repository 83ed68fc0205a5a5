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


def test_names_and_unmanaged_instances(fleet: Fleet, tmp_path: Path) -> None:
    """--accounts names every account id; --unmanaged joins the categories (the contract still applies)."""
    first, second = fleet.spec.account_ids()[:2]
    region = fleet.spec.region_names()[0]
    accounts = tmp_path / "accounts.json"
    listing = {"Accounts": [{"Id": first, "Name": "payments-prod", "Status": "ACTIVE"}]}
    accounts.write_text(json.dumps(listing), encoding="utf-8")
    unmanaged = tmp_path / "unmanaged.jsonl"
    entries = [
        {"accountid": first, "region": region, "resourceid": "i-0noagent", "reason": "no instance profile"},
        {"accountid": second, "region": region, "InstanceId": "i-0noprofile"},
        {"accountid": "999999999999", "region": region, "resourceid": "i-0elsewhere"},
        {
            "accountid": first,
            "region": region,
            "resourceid": "i-0asg",
            "Tags": [{"Key": "aws:autoscaling:groupName", "Value": "a"}],
        },
    ]
    unmanaged.write_text("\n".join(json.dumps(entry) for entry in entries) + "\n", encoding="utf-8")
    out = tmp_path / "out"
    argv = ["report", "--source", str(fleet.root), "--out", str(out), "--accounts", str(accounts)]
    assert main([*argv, "--unmanaged", str(unmanaged)]) == 0
    document = json.loads((out / "report.json").read_text(encoding="utf-8"))
    summary = document["summary"]
    figures = fleet.figures
    assert summary["unmanaged"] == 3 and summary["managed_node"] == figures.managed_node + 1
    responsible = figures.compliant + figures.non_compliant + figures.unreported + 3
    assert summary["responsible"] == responsible
    assert summary["compliance_pct"] == round(100 * figures.compliant / responsible, 2)
    assert summary["instances"] == figures.instances + 4
    by_account = document["queries"]["ComplianceByAccount"]
    rows = {row[0]: dict(zip(by_account["columns"], row, strict=True)) for row in by_account["rows"]}
    assert rows[first]["account_name"] == "payments-prod" and rows[second]["account_name"] == ""
    assert rows[first]["unmanaged"] == 1 and rows["999999999999"]["unmanaged"] == 1
    assert rows[first]["instances"] == figures.per_account[first].instances + 2
    with open(out / "ComplianceByAccount.csv", newline="", encoding="utf-8") as handle:
        table = list(csv.reader(handle))
    assert table[0] == by_account["columns"] and len(table) - 1 == len(rows)
    with open(out / "PatchSlaBreaches.csv", newline="", encoding="utf-8") as handle:
        sla = list(csv.DictReader(handle))
    assert sla and all(row["account_name"] == ("payments-prod" if row["accountid"] == first else "") for row in sla)
    page = (out / "index.html").read_text(encoding="utf-8")
    assert "payments-prod" in page and "Unmanaged (no SSM)" in page


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
    unquoted = tmp_path / "unquoted.json"
    unquoted.write_text('{"Accounts": [{"Id": 222222222222, "Name": "x"}]}', encoding="utf-8")
    broken = tmp_path / "broken.json"
    broken.write_text('{"222222222222": ', encoding="utf-8")
    no_id = tmp_path / "no-id.jsonl"
    no_id.write_text('{"accountid": "222222222222", "region": "eu-west-1"}\n', encoding="utf-8")
    bad_line = tmp_path / "bad-line.jsonl"
    bad_line.write_text('{"accountid": "222222222222", "resourceid": "i-1"}\n{"accountid": \n', encoding="utf-8")
    return {
        "unmanaged bad line": ["report", "--source", str(empty), "--out", out, "--unmanaged", str(bad_line)],
        "accounts file missing": ["report", "--source", str(empty), "--out", out, "--accounts", str(tmp_path / "n")],
        "account id unquoted": ["report", "--source", str(empty), "--out", out, "--accounts", str(unquoted)],
        "accounts not json": ["report", "--source", str(empty), "--out", out, "--accounts", str(broken)],
        "unmanaged without id": ["report", "--source", str(empty), "--out", out, "--unmanaged", str(no_id)],
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
        "accounts file missing",
        "account id unquoted",
        "accounts not json",
        "unmanaged without id",
        "unmanaged bad line",
    ],
)
def test_bad_input_exits_2_with_one_line(case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(_bad(tmp_path)[case]) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("patchctl "), captured.err
    assert not (tmp_path / "out").exists()
