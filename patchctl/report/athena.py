"""The named queries on Amazon Athena (real use): start, wait with backoff, page the results.

Why a thin adapter: Athena does the work; this only starts each query in the workgroup (whose
result location and encryption the ComplianceLake configures) against the Glue database,
waits for a terminal state without hammering the API, and pages ``GetQueryResults`` (1,000
rows a page) so nothing is lost on a large organization. The client comes from boto3's default
session chain, so ``AWS_PROFILE``, ``AWS_ENDPOINT_URL`` and moto work unchanged.
"""

from __future__ import annotations

import csv
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from components.hub.compliance_tables import NamedQuery

from .errors import QueryFailed
from .queries import QueryResult, with_account_names

_RUNNING = ("QUEUED", "RUNNING")
_INTEGER_TYPES = ("tinyint", "smallint", "integer", "int", "bigint")
_FLOAT_TYPES = ("double", "float", "real", "decimal")


def _convert(value: str | None, athena_type: str) -> Any:
    """Athena returns every cell as a string: give numbers back their type (NULL stays None)."""
    if value is None:
        return None
    kind = athena_type.lower()
    try:
        if kind in _INTEGER_TYPES:
            return int(value)
        if kind.startswith(_FLOAT_TYPES):
            return float(value)
    except ValueError:
        return value
    if kind == "boolean":
        return value.lower() == "true"
    return value


class AthenaRunner:
    """Runs named queries in one workgroup and database.

    ``sleep`` and ``clock`` are injectable so tests wait without sleeping; ``timeout`` bounds
    one query (then it is stopped, so it does not keep scanning and billing).
    """

    def __init__(
        self,
        client: Any,
        workgroup: str,
        database: str,
        *,
        catalog: str = "AwsDataCatalog",
        timeout: float = 600.0,
        first_wait: float = 0.5,
        max_wait: float = 5.0,
        page_size: int = 1000,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client
        self.workgroup = workgroup
        self.database = database
        self.catalog = catalog
        self.timeout = timeout
        self.first_wait = first_wait
        self.max_wait = max_wait
        self.page_size = page_size
        self.sleep = sleep
        self.clock = clock
        self.polls = 0

    def start(self, query: NamedQuery) -> str:
        response = self.client.start_query_execution(
            QueryString=query.sql,
            WorkGroup=self.workgroup,
            QueryExecutionContext={"Database": self.database, "Catalog": self.catalog},
        )
        return str(response["QueryExecutionId"])

    def wait(self, query: NamedQuery, execution_id: str) -> float:
        """Poll until SUCCEEDED (returns the seconds waited); FAILED/CANCELLED/timeout raise."""
        started = self.clock()
        delay = self.first_wait
        while True:
            execution = self.client.get_query_execution(QueryExecutionId=execution_id)["QueryExecution"]
            self.polls += 1
            status = execution.get("Status", {})
            state = status.get("State", "QUEUED")
            if state == "SUCCEEDED":
                return self.clock() - started
            if state not in _RUNNING:
                reason = status.get("StateChangeReason") or status.get("AthenaError", {}).get("ErrorMessage") or ""
                raise QueryFailed(query.name, f"Athena {state} ({execution_id}){': ' + reason if reason else ''}")
            if self.clock() - started + delay > self.timeout:
                self.client.stop_query_execution(QueryExecutionId=execution_id)
                raise QueryFailed(
                    query.name, f"Athena still {state} after {self.timeout:.0f} s ({execution_id}); stopped"
                )
            self.sleep(delay)
            delay = min(delay * 2, self.max_wait)

    def results(self, execution_id: str) -> tuple[list[str], list[list[Any]]]:
        """Every row of a finished query, all pages; the header row Athena puts first is dropped."""
        columns: list[str] = []
        types: list[str] = []
        rows: list[list[Any]] = []
        first_page = True
        token: str | None = None
        while True:
            kwargs: dict[str, Any] = {"QueryExecutionId": execution_id, "MaxResults": self.page_size}
            if token:
                kwargs["NextToken"] = token
            page = self.client.get_query_results(**kwargs)
            result_set = page.get("ResultSet", {})
            if first_page:
                info = result_set.get("ResultSetMetadata", {}).get("ColumnInfo", [])
                columns = [column.get("Label") or column["Name"] for column in info]
                types = [column.get("Type", "varchar") for column in info]
            page_rows = [
                [cell.get("VarCharValue") for cell in row.get("Data", [])] for row in result_set.get("Rows", [])
            ]
            if first_page and page_rows and page_rows[0] == columns:
                page_rows = page_rows[1:]  # SELECT results start with the column names
            first_page = False
            for raw in page_rows:
                rows.append([_convert(value, types[i] if i < len(types) else "varchar") for i, value in enumerate(raw)])
            token = page.get("NextToken")
            if not token:
                return columns, rows

    def run(
        self,
        query: NamedQuery,
        csv_path: Path | None = None,
        max_rows: int | None = None,
        account_names: Mapping[str, str] | None = None,
    ) -> QueryResult:
        execution_id = self.start(query)
        seconds = self.wait(query, execution_id)
        columns, rows = self.results(execution_id)
        named = with_account_names(
            QueryResult(query.name, query.description, columns, rows, len(rows), 0), account_names
        )
        columns, rows = named.columns, named.rows
        if csv_path is not None:
            with open(csv_path, "w", newline="", encoding="utf-8") as handle:
                writer = csv.writer(handle)
                writer.writerow(columns)
                writer.writerows(rows)
        kept = rows if max_rows is None else rows[:max_rows]
        return QueryResult(query.name, query.description, columns, kept, len(rows), seconds)
