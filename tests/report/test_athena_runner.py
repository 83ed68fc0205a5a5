"""The Athena path: start in the workgroup and database, wait with backoff, page the results.

moto's Athena does not run SQL: it returns results queued in advance ("canned"), and it never
pages ``GetQueryResults``. So moto proves the call flow (workgroup, database, states QUEUED ->
RUNNING -> SUCCEEDED and the waiting) and the whole ``patchctl report --athena`` command; paging
and failure states, which moto cannot produce, are driven through botocore's Stubber on a real
client. The SQL itself is proven on DuckDB (test_named_queries.py).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from components.hub.compliance_tables import NamedQuery
from patchctl.cli import main
from patchctl.report.athena import AthenaRunner
from patchctl.report.errors import QueryFailed
from patchctl.report.lake_unmanaged import LAKE_QUERY
from patchctl.report.queries import report_queries

QUERY = NamedQuery("ComplianceByAccount", "Compliance per account.", "SELECT 1")
COLUMNS = [("accountid", "varchar"), ("instances", "bigint"), ("compliance_pct", "double")]


def _rows(values: Sequence[Sequence[str | None]]) -> list[dict[str, Any]]:
    return [{"Data": [{} if value is None else {"VarCharValue": value} for value in row]} for row in values]


def _column_info(columns: list[tuple[str, str]]) -> list[dict[str, Any]]:
    return [
        {"CatalogName": "hive", "SchemaName": "", "TableName": "", "Name": name, "Label": name, "Type": kind}
        for name, kind in columns
    ]


def _queue(results: Sequence[tuple[list[tuple[str, str]], Sequence[Sequence[str | None]]]]) -> None:
    from moto.athena.models import QueryResults, athena_backends

    backend = athena_backends["123456789012"]["us-east-1"]
    for columns, rows in results:
        header = [name for name, _ in columns]
        backend.query_results_queue.append(QueryResults(rows=_rows([header, *rows]), column_info=_column_info(columns)))


class Recorder:
    def __init__(self) -> None:
        self.sleeps: list[float] = []
        self.now = 0.0

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def clock(self) -> float:
        return self.now


@pytest.fixture
def athena(moto_aws: None) -> Any:
    client = boto3.client("athena", region_name="us-east-1")
    client.create_work_group(Name="org-patching", Configuration={})
    return client


def test_call_flow_waits_with_backoff_and_converts_types(athena: Any) -> None:
    from moto.moto_api import state_manager

    _queue([(COLUMNS, [["111111111111", "12", "83.33"], ["222222222222", "3", None]])])
    state_manager.set_transition("athena::execution", {"progression": "manual", "times": 3})
    try:
        recorder = Recorder()
        runner = AthenaRunner(
            athena, "org-patching", "managed_instances_database", sleep=recorder.sleep, clock=recorder.clock
        )
        result = runner.run(QUERY)
    finally:
        state_manager.unset_transition("athena::execution")
    assert result.columns == ["accountid", "instances", "compliance_pct"]
    assert result.rows == [["111111111111", 12, 83.33], ["222222222222", 3, None]]  # header row dropped
    assert recorder.sleeps == [0.5, 1.0, 2.0, 4.0, 5.0][: len(recorder.sleeps)] and len(recorder.sleeps) >= 3
    (execution_id,) = athena.list_query_executions(WorkGroup="org-patching")["QueryExecutionIds"]
    execution = athena.get_query_execution(QueryExecutionId=execution_id)["QueryExecution"]
    assert execution["Query"] == "SELECT 1"
    assert execution["QueryExecutionContext"]["Database"] == "managed_instances_database"
    assert execution["WorkGroup"] == "org-patching"


def _stubbed() -> tuple[Any, Stubber]:
    client = boto3.client("athena", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    return client, Stubber(client)


def test_every_page_is_read() -> None:
    client, stub = _stubbed()
    stub.add_response("start_query_execution", {"QueryExecutionId": "q-1"})
    stub.add_response("get_query_execution", {"QueryExecution": {"Status": {"State": "SUCCEEDED"}}})
    meta = {"ColumnInfo": _column_info(COLUMNS)}
    pages = [
        (
            {
                "Rows": _rows([["accountid", "instances", "compliance_pct"], ["a1", "1", "1.5"]]),
                "ResultSetMetadata": meta,
            },
            "t1",
        ),
        ({"Rows": _rows([["a2", "2", "2.5"], ["a3", "3", "3.5"]]), "ResultSetMetadata": meta}, "t2"),
        ({"Rows": _rows([["a4", "4", "4.5"]]), "ResultSetMetadata": meta}, None),
    ]
    token = None
    for result_set, next_token in pages:
        expected = {"QueryExecutionId": "q-1", "MaxResults": 1000, **({"NextToken": token} if token else {})}
        response = {"ResultSet": result_set, **({"NextToken": next_token} if next_token else {})}
        stub.add_response("get_query_results", response, expected)
        token = next_token
    with stub:
        result = AthenaRunner(client, "wg", "db", sleep=lambda _: None).run(QUERY, max_rows=3)
    stub.assert_no_pending_responses()
    assert result.row_count == 4 and result.truncated
    assert [row[0] for row in result.rows] == ["a1", "a2", "a3"]


def test_failed_query_names_the_query_and_the_reason() -> None:
    client, stub = _stubbed()
    stub.add_response("start_query_execution", {"QueryExecutionId": "q-2"})
    stub.add_response(
        "get_query_execution",
        {"QueryExecution": {"Status": {"State": "FAILED", "StateChangeReason": "TABLE_NOT_FOUND: aws_tag"}}},
    )
    with stub, pytest.raises(QueryFailed, match=r"query ComplianceByAccount: Athena FAILED \(q-2\): TABLE_NOT_FOUND"):
        AthenaRunner(client, "wg", "db", sleep=lambda _: None).run(QUERY)


def test_timeout_stops_the_query() -> None:
    client, stub = _stubbed()
    recorder = Recorder()
    stub.add_response("start_query_execution", {"QueryExecutionId": "q-3"})
    for _ in range(4):
        stub.add_response("get_query_execution", {"QueryExecution": {"Status": {"State": "RUNNING"}}})
    stub.add_response("stop_query_execution", {}, {"QueryExecutionId": "q-3"})
    runner = AthenaRunner(client, "wg", "db", timeout=5.0, sleep=recorder.sleep, clock=recorder.clock)
    with stub, pytest.raises(QueryFailed, match="still RUNNING after 5 s"):
        runner.run(QUERY)
    stub.assert_no_pending_responses()


def test_patchctl_report_athena_end_to_end(athena: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    queries = report_queries()
    # First the lake's unmanaged instances (patchctl/report/lake_unmanaged.py): one sweep line, one instance.
    lake_columns = [(name, "varchar") for name in ("accountid", "region", "dt", "sweptat", "resourceid", "reason")]
    canned = [
        (
            lake_columns,
            [
                ["111111111111", "us-east-1", "2026-11-29", "2026-11-29T05:00:00Z", None, None],
                ["111111111111", "us-east-1", "2026-11-29", "2026-11-29T05:00:00Z", "i-0lake", "no instance profile"],
            ],
        )
    ]
    for query in queries:
        if query.name == "ComplianceSummary":
            names = ("instances", "responsible", "compliant", "non_compliant", "unreported", "exempt", "managed_node")
            columns = [(name, "bigint") for name in names] + [("compliance_pct", "double")]
            canned.append((columns, [["13", "10", "7", "2", "1", "2", "1", "70.0"]]))
        else:
            canned.append(([("resourceid", "varchar")], [[f"i-{query.name.lower()}"]]))
    _queue(canned)
    out = tmp_path / "out"
    code = main(
        ["report", "--athena", "--workgroup", "org-patching", "--database", "managed_instances_database",
         "--region", "us-east-1", "--out", str(out)]
    )  # fmt: skip
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "unmanaged instances from the lake: 1 in 1 account-region sweeps (2026-11-29)" in captured.out
    document = json.loads((out / "report.json").read_text(encoding="utf-8"))
    # The rows are canned (moto runs no SQL): what is checked is what the command did with them and
    # what it asked Athena. The summary row's strings become numbers, each query's rows its own CSV.
    assert document["summary"] == {
        "instances": 14,
        "responsible": 11,
        "compliant": 7,
        "non_compliant": 2,
        "unreported": 1,
        "never_scanned": 1,
        "exempt": 2,
        "managed_node": 1,
        "unmanaged": 1,  # from the lake, with no --unmanaged
        "compliance_pct": round(100 * 7 / 11, 2),
    }
    assert set(document["queries"]) == {query.name for query in queries} | {"UnmanagedInstances"}
    assert (out / "QueryInstanceList.csv").read_text(encoding="utf-8").splitlines() == [
        "resourceid",
        "i-queryinstancelist",
    ]
    # Every named query was sent once, with its own SQL text, in the workgroup and the database asked for.
    executions = athena.list_query_executions(WorkGroup="org-patching")["QueryExecutionIds"]
    sent = [athena.get_query_execution(QueryExecutionId=e)["QueryExecution"] for e in executions]
    assert sorted(e["Query"] for e in sent) == sorted([LAKE_QUERY.sql, *(query.sql for query in queries)])
    assert {e["WorkGroup"] for e in sent} == {"org-patching"}
    assert {e["QueryExecutionContext"]["Database"] for e in sent} == {"managed_instances_database"}
