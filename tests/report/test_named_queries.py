"""Every named query on DuckDB over a generated fleet, checked against the generator's known answers."""

from __future__ import annotations

import re

import pytest
import sqlglot
from sqlglot import exp

from components.hub.compliance_tables import SQL_DIR, TABLES_BY_NAME, named_queries
from devkit.fleet import Counts, FleetSpec, generate_fleet
from patchctl.report.duck import DuckDBSource
from patchctl.report.queries import QueryResult, report_queries, to_duckdb, with_sla_days
from tests.report.helpers import Fleet, records

EXPECTED = {
    "QueryNonCompliantPatch",
    "QueryInstanceList",
    "PatchComplianceReport",
    "ComplianceSummary",
    "ComplianceByAccount",
    "ComplianceByRegion",
    "ComplianceByEnvironment",
    "ComplianceByPlatform",
    "PatchSlaBreaches",
    "OldestMissingCriticalPatch",
    "StaleInstances",
    "ExemptedInstances",
    "ManagedNodes",
    "NonCompliantInstances",
    "FailedPatchInstalls",
    "ComplianceTrend",
}


def ids(result: QueryResult) -> list[str]:
    return [str(row["resourceid"]) for row in records(result)]


# --- the SQL files themselves ---------------------------------------------------------------


def test_every_expected_query_exists_and_nothing_else() -> None:
    assert {query.name for query in named_queries()} == EXPECTED


@pytest.mark.parametrize("query", named_queries(), ids=lambda q: q.name)
def test_query_is_valid_trino_over_the_glue_tables_only(query) -> None:
    text = (SQL_DIR / f"{query.name}.sql").read_text(encoding="utf-8")
    assert text.startswith("-- "), "line 1 is the NamedQuery description"
    tree = sqlglot.parse_one(query.sql, read="trino", error_level=sqlglot.ErrorLevel.RAISE)
    ctes = {cte.alias_or_name for cte in tree.find_all(exp.CTE)}
    tables = {table.name for table in tree.find_all(exp.Table)} - ctes
    assert tables and tables <= set(TABLES_BY_NAME), tables
    assert not any(table.args.get("db") for table in tree.find_all(exp.Table)), "the database comes from the context"
    assert tree.find(exp.Limit) is None, "named queries return every row"
    assert to_duckdb(query.sql)


def test_instance_level_queries_exclude_terminated_instances() -> None:
    for query in named_queries():
        if "aws_instanceinformation" in query.sql:
            assert "<> 'terminated'" in query.sql, query.name


def test_sla_days_is_one_explicit_literal_and_can_be_changed() -> None:
    (sla,) = [query for query in named_queries() if query.name == "PatchSlaBreaches"]
    assert re.findall(r"SELECT\s+(\d+)\s+AS\s+sla_days", sla.sql) == ["30"]
    assert "SELECT 14 AS sla_days" in with_sla_days(sla, 14).sql
    others = [query for query in named_queries() if query.name != "PatchSlaBreaches"]
    assert all(with_sla_days(query, 14) == query for query in others)


# --- answers ------------------------------------------------------------------------------------


def test_summary_counts_instances_not_items(fleet: Fleet, results: dict[str, QueryResult]) -> None:
    (row,) = records(results["ComplianceSummary"])
    figures = fleet.figures
    got = tuple(row[key] for key in ("instances", "compliant", "non_compliant", "unreported", "exempt", "managed_node"))
    assert got == (
        figures.instances,
        figures.compliant,
        figures.non_compliant,
        figures.unreported,
        figures.exempt,
        figures.managed_node,
    )
    # The fixture exercises every case, and the categories add up.
    assert figures.terminated > 0 and figures.unreported > 0 and figures.exempt > 0 and figures.managed_node > 0
    assert sum(got[1:]) == row["instances"]
    responsible = figures.compliant + figures.non_compliant + figures.unreported
    assert row["responsible"] == responsible
    assert row["compliance_pct"] == pytest.approx(round(100 * figures.compliant / responsible, 2))


@pytest.mark.parametrize(
    ("query", "key", "attribute"),
    [
        ("ComplianceByAccount", "accountid", "per_account"),
        ("ComplianceByRegion", "region", "per_region"),
        ("ComplianceByEnvironment", "environment", "per_environment"),
        ("ComplianceByPlatform", "platformtype", "per_platform"),
    ],
)
def test_compliance_by_group(
    fleet: Fleet, results: dict[str, QueryResult], query: str, key: str, attribute: str
) -> None:
    expected: dict[str, Counts] = getattr(fleet.figures, attribute)
    got = {row[key]: row for row in records(results[query])}
    assert set(got) == set(expected)
    for group, counts in expected.items():
        row = got[group]
        keys = ("instances", "compliant", "non_compliant", "unreported", "exempt", "managed_node", "responsible")
        assert tuple(row[key] for key in keys) == tuple(getattr(counts, key) for key in keys), group
        expected_pct = round(100 * counts.compliant / counts.responsible, 2) if counts.responsible else None
        assert row["compliance_pct"] == pytest.approx(expected_pct)


def test_environment_tag_is_read_case_insensitively(fleet: Fleet, results: dict[str, QueryResult]) -> None:
    environments = {row["environment"] for row in records(results["ComplianceByEnvironment"])}
    assert environments == {"Dev", "Test", "Prod", "Default"}


def test_instance_list_is_every_instance_not_terminated(fleet: Fleet, results: dict[str, QueryResult]) -> None:
    listed = ids(results["QueryInstanceList"])
    assert len(listed) == len(set(listed))
    assert set(listed) == fleet.figures.instance_ids


def test_non_compliant_patch_items(fleet: Fleet, results: dict[str, QueryResult]) -> None:
    rows = records(results["QueryNonCompliantPatch"])
    assert len(rows) == fleet.figures.non_compliant_items
    assert {row["patchstate"] for row in rows} == {"Missing", "Failed"}
    assert not {row["resourceid"] for row in rows} & fleet.figures.terminated_ids


def test_patch_compliance_report_has_every_patch_row(fleet: Fleet, results: dict[str, QueryResult]) -> None:
    rows = records(results["PatchComplianceReport"])
    assert len(rows) == fleet.figures.patch_items
    assert {row["compliancetype"] for row in rows} == {"Patch"}  # Association items are in the same files


def test_sla_breach_list(fleet: Fleet, results: dict[str, QueryResult]) -> None:
    rows = records(results["PatchSlaBreaches"])
    assert set(ids(results["PatchSlaBreaches"])) == fleet.figures.sla_breach_ids
    assert fleet.figures.sla_breaches > 0
    assert all(row["sla_days"] == 30 and row["days_since_last_patch"] > 30 for row in rows)
    # Missing urgent patches but patched recently: not a breach.
    assert fleet.figures.missing_urgent_ids - fleet.figures.sla_breach_ids


def test_sla_days_changes_the_answer(tmp_path) -> None:
    spec = FleetSpec(accounts=1, regions=1, instances=80, items=6, seed=5, sla_days=14)
    figures = generate_fleet(tmp_path, spec)
    source = DuckDBSource(tmp_path)
    try:
        (query,) = [q for q in report_queries(14) if q.name == "PatchSlaBreaches"]
        assert set(ids(source.run(query))) == figures.sla_breach_ids
        (never,) = [q for q in report_queries(100_000) if q.name == "PatchSlaBreaches"]
        assert source.run(never).row_count == 0
    finally:
        source.close()


def test_oldest_missing_critical_patch(fleet: Fleet, results: dict[str, QueryResult]) -> None:
    rows = records(results["OldestMissingCriticalPatch"])
    expected = fleet.figures.missing_critical_age
    assert {row["resourceid"] for row in rows} == set(expected)
    for row in rows:
        assert abs(row["days_since_last_patch"] - expected[row["resourceid"]]) <= 1
    ages = [row["days_since_last_patch"] for row in rows]
    assert ages == sorted(ages, reverse=True)


def test_stale_instances(fleet: Fleet, results: dict[str, QueryResult]) -> None:
    assert set(ids(results["StaleInstances"])) == fleet.figures.stale_ids
    assert fleet.figures.stale > 0
    assert all(row["days_since_capture"] > 7 for row in records(results["StaleInstances"]))


def test_exempted_instances_both_spellings_any_case(fleet: Fleet, results: dict[str, QueryResult]) -> None:
    rows = records(results["ExemptedInstances"])
    assert set(ids(results["ExemptedInstances"])) == fleet.figures.exempt_ids
    keys = {str(row["exemption_tag"]).split("=")[0] for row in rows}
    assert keys == {"install_patch", "patch_install"}


def test_managed_nodes_are_apart(fleet: Fleet, results: dict[str, QueryResult]) -> None:
    rows = records(results["ManagedNodes"])
    assert set(ids(results["ManagedNodes"])) == fleet.figures.managed_ids
    assert all(row["managed_by"] for row in rows)


def test_failed_installs_are_listed_with_their_reason(fleet: Fleet, results: dict[str, QueryResult]) -> None:
    rows = records(results["FailedPatchInstalls"])
    got: dict[str, list[str]] = {}
    for row in rows:
        got.setdefault(str(row["resourceid"]), []).append(str(row["patch"]))
        assert str(row["patch"]) in row["reason"] and str(row["executionid"]) in row["reason"]
    assert got == fleet.figures.failed and got


def test_non_compliant_instances_drill_down(fleet: Fleet, results: dict[str, QueryResult]) -> None:
    rows = records(results["NonCompliantInstances"])
    assert len(rows) == fleet.figures.non_compliant
    assert not {row["resourceid"] for row in rows} & (fleet.figures.exempt_ids | fleet.figures.managed_ids)
    for row in rows:
        assert row["missing_patches"] >= 1 and len(str(row["patch_ids"]).split(", ")) == row["missing_patches"]
        assert row["maintenance_window"] == f"{row['environment']}_maintenance_window"
        assert row["last_scan"]
        failed = fleet.figures.failed.get(str(row["resourceid"]), [])
        assert row["failed_patches"] == len(failed)


def test_trend_counts_add_up_to_the_summary(fleet: Fleet, results: dict[str, QueryResult]) -> None:
    rows = records(results["ComplianceTrend"])
    assert len({row["day"] for row in rows}) > 1
    assert sum(row["compliant"] for row in rows) == fleet.figures.compliant
    scanned = fleet.figures.compliant + fleet.figures.non_compliant
    assert scanned <= sum(row["responsible"] for row in rows) <= scanned + fleet.figures.unreported


def test_no_query_returns_a_terminated_instance(fleet: Fleet, results: dict[str, QueryResult]) -> None:
    for result in results.values():
        if "resourceid" in result.columns:
            assert not set(ids(result)) & fleet.figures.terminated_ids, result.name


def test_views_over_the_files_give_the_same_answers(tmp_path) -> None:
    """The staged, column-pruned load the report uses and plain views over the sync's files agree."""
    generate_fleet(tmp_path, FleetSpec(accounts=1, regions=2, instances=15, items=5, seed=2))
    queries = report_queries()
    staged = DuckDBSource(tmp_path, queries=queries)
    views = DuckDBSource(tmp_path, materialize=False)
    try:
        for query in queries:
            # PatchComplianceReport is unsorted on purpose: compare the rows as a multiset.
            assert sorted(views.run(query).rows, key=repr) == sorted(staged.run(query).rows, key=repr), query.name
    finally:
        staged.close()
        views.close()
