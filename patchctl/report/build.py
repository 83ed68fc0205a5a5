"""Run every named query on one engine and write the report: CSVs, ``report.json``, ``index.html``.

Why one function for both engines: the Athena and DuckDB paths differ only in who runs the
SQL, so the outputs (and the tests that check them) are the same. Files are written to a
staging directory beside ``out`` and moved into place at the end: a failing query leaves no
half-written report (DEVELOPING.md: no partial writes).
"""

from __future__ import annotations

import csv
import json
import shutil
import tempfile
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from tag_contract import exemption_reason, managed_elsewhere_reason

from components.hub.compliance_tables import NamedQuery

from .dashboard import render_dashboard
from .queries import DEFAULT_JSON_ROWS, QueryResult, sla_days_of, with_account_names

SUMMARY_QUERY = "ComplianceSummary"


class Runner(Protocol):
    def run(
        self,
        query: NamedQuery,
        csv_path: Path | None = None,
        max_rows: int | None = None,
        account_names: Mapping[str, str] | None = None,
    ) -> QueryResult: ...


#: The summary's counts (ComplianceSummary's columns); ``unmanaged`` comes from ``--unmanaged`` (None: unknown).
SUMMARY_KEYS = ("instances", "responsible", "compliant", "non_compliant", "unreported", "exempt", "managed_node")
#: Queries whose rows are counts per group: they gain ``unmanaged`` and their % includes it.
CATEGORY_QUERIES = ("ComplianceSummary", "ComplianceByAccount", "ComplianceByRegion")
TREND_QUERY = "ComplianceTrend"
#: Queries whose every row the report itself uses (small: groups, not instances).
FULL_QUERIES = (*CATEGORY_QUERIES, TREND_QUERY)
UNMANAGED_QUERY = "UnmanagedInstances"
UNMANAGED_COLUMNS = ["accountid", "region", "resourceid", "reason"]


def summary_from(results: Sequence[QueryResult]) -> dict[str, Any]:
    """The organization's counts per category from the summary query (instances, not items)."""
    summary: dict[str, Any] = dict.fromkeys(SUMMARY_KEYS, 0) | {"compliance_pct": None, "unmanaged": None}
    for result in results:
        if result.name == SUMMARY_QUERY and result.rows:
            row = dict(zip(result.columns, result.rows[0], strict=False))
            summary = {key: int(row.get(key) or 0) for key in SUMMARY_KEYS}
            summary["compliance_pct"] = row.get("compliance_pct")
            # None: not known (no --unmanaged); add_unmanaged adds the column when it is.
            summary["unmanaged"] = int(row["unmanaged"]) if row.get("unmanaged") is not None else None
    summary["never_scanned"] = summary["unreported"]
    return summary


def _pct(compliant: int, responsible: int) -> float | None:
    return round(100.0 * compliant / responsible, 2) if responsible else None


def unmanaged_category(entry: Mapping[str, Any]) -> str:
    """``unmanaged``, unless the tag contract leaves the instance alone (exempt, or its ASG/EKS/ECS patches it)."""
    tags = entry.get("tags") or {}
    if exemption_reason(tags):
        return "exempt"
    if managed_elsewhere_reason(tags):
        return "managed_node"
    return "unmanaged"


def add_unmanaged(
    results: list[QueryResult], unmanaged: Sequence[Mapping[str, Any]], names: Mapping[str, str]
) -> list[QueryResult]:
    """Instances with no SSM inventory at all (``--unmanaged``) join the category counts and the %.

    Why here and not in SQL: they are, by definition, absent from every Glue table, so the queries cannot
    see them; the listing comes from an EC2-side check (DescribeInstances against SSM's managed nodes).
    The tag contract still applies to them (their tags come with the listing): an exempt one or an ASG,
    EKS or ECS node is counted apart, the others are ``unmanaged``, ours and not compliant. The summary and
    the per-account and per-region rows gain ``unmanaged``.
    """
    counts: dict[str, Counter[tuple[str, str]]] = {"accountid": Counter(), "region": Counter(), "": Counter()}
    categories = [unmanaged_category(entry) for entry in unmanaged]
    for entry, category in zip(unmanaged, categories, strict=True):
        for key, counter in counts.items():
            counter[str(entry.get(key, "")) if key else "", category] += 1
    changed = []
    for result in results:
        if result.name not in CATEGORY_QUERIES:
            changed.append(result)
            continue
        key = next((k for k in ("accountid", "region") if k in result.columns), "")
        columns = [*result.columns, "unmanaged"]
        groups = {group for group, _ in counts[key]}
        rows = []
        for values in result.rows:
            row = dict(zip(result.columns, values, strict=False))
            group = str(row[key]) if key else ""
            groups.discard(group)
            rows.append(_with_unmanaged(row, group, counts[key], columns))
        for group in sorted(groups):  # an account (or region) whose every instance lacks SSM
            empty = dict.fromkeys(result.columns, 0) | {key: group, "account_name": names.get(group, "")}
            rows.append(_with_unmanaged(empty, group, counts[key], columns))
        changed.append(replace(result, columns=columns, rows=rows, row_count=len(rows)))
    listing = [
        [str(entry.get(column, "")) for column in UNMANAGED_COLUMNS] + [category]
        for entry, category in zip(unmanaged, categories, strict=True)
    ]
    description = (
        "Instances with no SSM inventory (no agent, no instance profile, or DHMC off), from the tag sweeps' "
        "findings in the lake or --unmanaged"
    )
    found = QueryResult(UNMANAGED_QUERY, description, [*UNMANAGED_COLUMNS, "category"], listing, len(listing), 0.0)
    changed.append(with_account_names(found, names))
    return changed


def _with_unmanaged(row: dict[str, Any], group: str, counts: Counter[tuple[str, str]], columns: list[str]) -> list[Any]:
    row = dict(row)
    for category in ("unmanaged", "exempt", "managed_node"):
        extra = counts.get((group, category), 0)
        row[category] = int(row.get(category) or 0) + extra
        row["instances"] = int(row.get("instances") or 0) + extra
    row["responsible"] = int(row.get("responsible") or 0) + counts.get((group, "unmanaged"), 0)
    row["compliance_pct"] = _pct(int(row.get("compliant") or 0), row["responsible"])
    return [row.get(column) for column in columns]


def trends_from(results: Sequence[QueryResult]) -> dict[str, dict[str, dict[str, float | None]]]:
    """``{"environment": {env: {day: pct}}, "accountid": {id: {day: pct}}}``; empty with fewer than two days."""
    wanted = {"day", "environment", "accountid", "responsible", "compliant"}
    rows = [
        dict(zip(r.columns, row, strict=False))
        for r in results
        if r.name == TREND_QUERY and wanted <= set(r.columns)
        for row in r.rows
    ]
    if len({row["day"] for row in rows}) < 2:
        return {}
    trends: dict[str, dict[str, dict[str, float | None]]] = {}
    for key in ("environment", "accountid"):
        totals: dict[tuple[str, str], list[int]] = {}
        for row in rows:
            pair = totals.setdefault((str(row[key]), str(row["day"])), [0, 0])
            pair[0] += int(row["compliant"] or 0)
            pair[1] += int(row["responsible"] or 0)
        series: dict[str, dict[str, float | None]] = {}
        for (group, day), (compliant, responsible) in sorted(totals.items()):
            series.setdefault(group, {})[day] = _pct(compliant, responsible)
        trends[key] = series
    return trends


def _write_csv(path: Path, result: QueryResult) -> None:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(result.columns)
        writer.writerows(result.rows)


def build_report(
    runner: Runner,
    queries: Sequence[NamedQuery],
    out: Path,
    *,
    source: str,
    sla_days: int | None = None,
    json_rows: int = DEFAULT_JSON_ROWS,
    account_names: Mapping[str, str] | None = None,
    unmanaged: Sequence[Mapping[str, Any]] | None = None,
) -> dict[str, Any]:
    """Run ``queries`` with ``runner`` and write the report into ``out``; returns ``report.json``'s document.

    ``account_names``: id -> name (``--accounts``), shown wherever an id is. ``unmanaged``: instances with no
    SSM inventory (``--unmanaged``); None means not known, and the page says so.
    """
    names = dict(account_names or {})
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}-", dir=out.parent))
    try:
        results = [
            # The per-group counts are small and are rewritten with the unmanaged ones: keep every row.
            runner.run(
                query,
                staging / f"{query.name}.csv",
                None if query.name in FULL_QUERIES else json_rows,
                account_names=names,
            )
            for query in queries
        ]
        if unmanaged is not None:
            results = add_unmanaged(results, unmanaged, names)
            for result in results:
                if result.name in (*CATEGORY_QUERIES, UNMANAGED_QUERY):
                    _write_csv(staging / f"{result.name}.csv", result)
        summary = summary_from(results)
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
            "summary": summary,
            # The N of "more than N days" actually used (the SQL's literal, or --sla-days).
            "sla_days": sla_days if sla_days is not None else sla_days_of(queries),
            "accounts": names,
            # Compliant % per capture day, per environment and per account (empty: one day only).
            "trends": trends_from(results),
            # Lines the engine could not use, per type and reason (DuckDBSource.skipped); empty on Athena.
            "skipped": dict(getattr(runner, "skipped", {}) or {}),
        }
        generated_at = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
        document["generated_at"] = generated_at
        # No indent: json's C encoder only runs without one (3x faster on 100,000s of rows).
        (staging / "report.json").write_text(json.dumps(document, separators=(",", ":")) + "\n", encoding="utf-8")
        (staging / "index.html").write_text(render_dashboard(document, generated_at, source), encoding="utf-8")
        out.mkdir(parents=True, exist_ok=True)
        for path in staging.iterdir():
            path.replace(out / path.name)
        return document
    finally:
        shutil.rmtree(staging, ignore_errors=True)
