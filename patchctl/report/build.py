"""Run every named query on one engine and write the report: CSVs, ``report.json``, ``index.html``.

Why one function for both engines: the Athena and DuckDB paths differ only in who runs the
SQL, so the outputs (and the tests that check them) are the same. Files are written to a
staging directory beside ``out`` and moved into place at the end: a failing query leaves no
half-written report (DEVELOPING.md: no partial writes).
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from components.hub.compliance_tables import NamedQuery

from .dashboard import render_dashboard
from .queries import DEFAULT_JSON_ROWS, QueryResult

SUMMARY_QUERY = "ComplianceSummary"


class Runner(Protocol):
    def run(self, query: NamedQuery, csv_path: Path | None = None, max_rows: int | None = None) -> QueryResult: ...


def summary_from(results: Sequence[QueryResult]) -> dict[str, int]:
    """``{"instances", "compliant", "non_compliant", "unreported"}`` from the summary query (instances, not items)."""
    for result in results:
        if result.name == SUMMARY_QUERY and result.rows:
            row = dict(zip(result.columns, result.rows[0], strict=False))
            return {key: int(row.get(key) or 0) for key in ("instances", "compliant", "non_compliant", "unreported")}
    return {"instances": 0, "compliant": 0, "non_compliant": 0, "unreported": 0}


def build_report(
    runner: Runner,
    queries: Sequence[NamedQuery],
    out: Path,
    *,
    source: str,
    sla_days: int | None = None,
    json_rows: int = DEFAULT_JSON_ROWS,
) -> dict[str, Any]:
    """Run ``queries`` with ``runner`` and write the report into ``out``; returns ``report.json``'s document."""
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}-", dir=out.parent))
    try:
        results = [runner.run(query, staging / f"{query.name}.csv", json_rows) for query in queries]
        document: dict[str, Any] = {
            "queries": {
                result.name: {
                    "description": result.description,
                    "columns": result.columns,
                    "rows": result.rows,
                    "row_count": result.row_count,
                    "truncated": result.truncated,
                    "seconds": round(result.seconds, 4),
                }
                for result in results
            },
            "summary": summary_from(results),
            "sla_days": sla_days,
            # Lines the engine could not use, per type and reason (DuckDBSource.skipped); empty on Athena.
            "skipped": dict(getattr(runner, "skipped", {}) or {}),
        }
        generated_at = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
        document["generated_at"] = generated_at
        (staging / "report.json").write_text(json.dumps(document, indent=1) + "\n", encoding="utf-8")
        (staging / "index.html").write_text(render_dashboard(document, generated_at, source), encoding="utf-8")
        out.mkdir(parents=True, exist_ok=True)
        for path in staging.iterdir():
            path.replace(out / path.name)
        return document
    finally:
        shutil.rmtree(staging, ignore_errors=True)
