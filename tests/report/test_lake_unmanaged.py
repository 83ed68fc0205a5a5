"""``patchctl report`` counts the tag sweeps' unmanaged instances from the lake, with no flag (issue 15.4).

A copy of the hub's inventory bucket holds the sync's prefix and the sweeps' ``unmanaged/`` prefix side by side;
the report runs the hub's ``LatestUnmanagedInstances`` query on DuckDB over them: each account-region's latest
sweep of the last week, minus the instances that are in SSM inventory by now.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from components import naming
from components.hub import unmanaged_table
from patchctl.cli import main
from tests.report.helpers import Fleet


def _day(days_ago: int) -> str:
    return (datetime.now(UTC) - timedelta(days=days_ago)).strftime("%Y-%m-%d")


def _write(root: Path, account: str, region: str, days_ago: int, instances: list[str]) -> None:
    """One sweep's object, as lambda_shared.unmanaged_findings writes it."""
    day = _day(days_ago)
    swept = f"{day}T05:00:00Z"
    lines: list[dict[str, Any]] = [{"sweep": True, "sweptAt": swept, "checked": 9, "unmanagedCount": len(instances)}]
    lines += [
        {"accountid": account, "region": region, "resourceid": i, "reason": "no instance profile", "sweptAt": swept}
        for i in instances
    ]
    target = root / naming.UNMANAGED_PREFIX / f"accountid={account}/region={region}/dt={day}/findings.jsonl"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text("\n".join(json.dumps(line) for line in lines) + "\n", encoding="utf-8")


@pytest.fixture(scope="module")
def bucket(fleet: Fleet, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The fleet's sync prefix (linked, read only) beside the sweeps' objects, as ``aws s3 sync`` copies them."""
    root = tmp_path_factory.mktemp("lake")
    (root / naming.INVENTORY_PREFIX).symlink_to(fleet.root / fleet.spec.prefix, target_is_directory=True)
    first, second, third = fleet.spec.account_ids()[:3]
    region = fleet.spec.region_names()[0]
    info = fleet.root / fleet.spec.prefix / "AWS:InstanceInformation"
    in_inventory = next(info.glob(f"accountid={first}/region={region}/*/*.json")).stem
    _write(root, first, region, 0, ["i-0today", in_inventory])  # managed since: counted by the inventory
    _write(root, first, region, 2, ["i-0yesterdays"])  # an older sweep of the same account-region: not read
    _write(root, second, region, 1, [])  # checked, nothing unmanaged
    _write(root, third, region, unmanaged_table.FRESH_DAYS + 2, ["i-0stale"])  # stopped sweeping: not read
    (root / naming.UNMANAGED_PREFIX / "accountid=x" / "stray.txt").parent.mkdir(parents=True)
    return root


def test_the_report_reads_the_latest_sweeps_from_the_lake(
    bucket: Path, fleet: Fleet, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    assert main(["report", "--source", str(bucket), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert f"unmanaged instances from the lake: 1 in 2 account-region sweeps ({_day(1)}..{_day(0)})" in printed
    document = json.loads((out / "report.json").read_text(encoding="utf-8"))
    summary, figures = document["summary"], fleet.figures
    assert summary["unmanaged"] == 1 and summary["instances"] == figures.instances + 1
    assert summary["responsible"] == figures.compliant + figures.non_compliant + figures.unreported + 1
    listing = document["queries"]["UnmanagedInstances"]
    assert [row[listing["columns"].index("resourceid")] for row in listing["rows"]] == ["i-0today"]
    assert "unmanaged=1" in printed and (out / "UnmanagedInstances.csv").is_file()


def test_unmanaged_file_overrides_the_lake(bucket: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    given = tmp_path / "given.jsonl"
    given.write_text(
        '{"accountid": "444444444444", "region": "eu-west-1", "resourceid": "i-0a"}\n'
        '{"accountid": "444444444444", "region": "eu-west-1", "resourceid": "i-0b"}\n',
        encoding="utf-8",
    )
    out = tmp_path / "out"
    assert main(["report", "--source", str(bucket), "--out", str(out), "--unmanaged", str(given)]) == 0
    assert "from the lake" not in capsys.readouterr().out
    assert json.loads((out / "report.json").read_text(encoding="utf-8"))["summary"]["unmanaged"] == 2


def test_no_sweep_in_the_lake_is_not_known(fleet: Fleet, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    assert main(["report", "--source", str(fleet.root), "--out", str(out)]) == 0
    assert "unmanaged instances not known: no tag sweep wrote findings in the last 7 days" in capsys.readouterr().out
    assert json.loads((out / "report.json").read_text(encoding="utf-8"))["summary"]["unmanaged"] is None


def test_the_hub_deploys_the_query_the_report_runs() -> None:
    """One text: the named query's SQL parses as Trino and reads the table the hub declares over the prefix."""
    from patchctl.report.lake_unmanaged import LAKE_QUERY
    from patchctl.report.queries import parse_trino, to_duckdb

    assert LAKE_QUERY.sql == unmanaged_table.NAMED_QUERY_SQL and parse_trino(LAKE_QUERY.sql) is not None
    assert naming.UNMANAGED_TABLE in to_duckdb(LAKE_QUERY.sql)
    args = unmanaged_table.table_args("db", "bucket-1", ["222222222222"], ["eu-west-1"])
    template = args["parameters"]["storage.location.template"]
    assert template == "s3://bucket-1/unmanaged/accountid=${accountid}/region=${region}/dt=${dt}/"
    assert [k["name"] for k in args["partition_keys"]] == ["accountid", "region", "dt"]
