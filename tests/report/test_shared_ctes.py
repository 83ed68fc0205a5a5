"""The report's shared CTEs (patchctl/report/shared.py) change its speed, never its answers.

The reference is the same report with ``share=False``: every named query run on its own, as Athena runs it.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from components.hub.compliance_tables import NamedQuery
from patchctl.report.build import build_report
from patchctl.report.duck import DuckDBSource
from patchctl.report.queries import parse_trino, report_queries
from patchctl.report.shared import SharedCtes, shared_definitions
from tests.report.helpers import Fleet


def _report(source: DuckDBSource, out: Path) -> dict[str, Any]:
    build_report(source, report_queries(sla_days=20), out, source="fleet", json_rows=7)
    document: dict[str, Any] = json.loads((out / "report.json").read_text(encoding="utf-8"))
    document.pop("generated_at")
    for query in document["queries"].values():
        query.pop("seconds")
    return document


def _csv(path: Path, ordered: bool) -> list[list[str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    return rows if ordered else [rows[0], *sorted(rows[1:])]


def test_shared_ctes_give_the_same_report_json_and_csvs(fleet: Fleet, tmp_path: Path) -> None:
    source = DuckDBSource(fleet.root, queries=report_queries(sla_days=20))
    try:
        shared = _report(source, tmp_path / "shared")
        assert len(source.shared.tables) == 7
        # The same loaded tables, every query on its own (what share=False does).
        source.shared = SharedCtes(source.connection, set())
        alone = _report(source, tmp_path / "alone")
        assert not source.shared.tables
    finally:
        source.close()
    unsorted = {q.name for q in report_queries() if parse_trino(q.sql).args.get("order") is None}
    assert unsorted == {"ComplianceSummary", "PatchComplianceReport"}  # one row, and the export
    # The export's sample rows are whichever came first: its rows as a set (the CSV) is what it defines.
    for document in (alone, shared):
        assert document["queries"]["PatchComplianceReport"]["truncated"]
        document["queries"]["PatchComplianceReport"]["rows"] = len(document["queries"]["PatchComplianceReport"]["rows"])
    assert shared == alone
    csvs = sorted(path.name for path in (tmp_path / "alone").glob("*.csv"))
    assert csvs == sorted(path.name for path in (tmp_path / "shared").glob("*.csv")) and len(csvs) == 16
    for name in csvs:
        ordered = Path(name).stem not in unsorted
        assert _csv(tmp_path / "shared" / name, ordered) == _csv(tmp_path / "alone" / name, ordered), name


def test_what_is_shared_and_what_never_is() -> None:
    queries = {query.name: query for query in report_queries()}
    shared = shared_definitions(queries.values())
    # classified (and the CTEs it reads) for the nine category queries, urgent and last_install for the SLA pair.
    assert len(shared) == 7
    clock = "WITH now_cte AS (SELECT resourceid, current_timestamp AS t FROM aws_tag) SELECT * FROM now_cte"
    constant = "WITH p AS (SELECT 7 AS stale_days) SELECT * FROM p"
    twice = [NamedQuery(f"Q{n}", "d", sql) for n in range(2) for sql in (clock, constant)]
    assert shared_definitions(twice) == set()
    assert shared_definitions([queries["PatchSlaBreaches"]]) == set()
