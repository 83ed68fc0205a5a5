"""The named queries as the report runs them: the Athena text, with N of the SLA applied.

The ``.sql`` files under ``components/hub/sql`` are the single source: the ComplianceLake
deploys them as Athena named queries unchanged, and the report runs the same text (on Athena
as is, on DuckDB after sqlglot transpiles it from Trino).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import sqlglot

from components.hub.compliance_tables import NamedQuery, named_queries

#: The one literal ``--sla-days`` rewrites: ``SELECT 30 AS sla_days`` in the ``params`` CTE.
_SLA_LITERAL = re.compile(r"(\bSELECT\s+)(\d+)(\s+AS\s+sla_days\b)", re.IGNORECASE)


#: Rows of one query kept in ``report.json`` (the CSV always has them all): a 100,000-instance
#: fleet has 5 million patch rows, which belong in a CSV, not in a JSON document a browser opens.
DEFAULT_JSON_ROWS = 10_000


@dataclass(frozen=True)
class QueryResult:
    """What one named query returned, on either engine, with JSON-friendly values.

    ``rows`` holds at most the requested number of rows (the first ones, in the query's
    order); ``row_count`` is the full count, which the CSV holds.
    """

    name: str
    description: str
    columns: list[str]
    rows: list[list[Any]]
    row_count: int
    seconds: float

    @property
    def truncated(self) -> bool:
        return self.row_count > len(self.rows)


def with_sla_days(query: NamedQuery, sla_days: int | None) -> NamedQuery:
    """The query with N of the SLA replaced (queries without the ``params`` CTE are unchanged)."""
    if sla_days is None or not _SLA_LITERAL.search(query.sql):
        return query
    return replace(query, sql=_SLA_LITERAL.sub(lambda m: f"{m.group(1)}{int(sla_days)}{m.group(3)}", query.sql, 1))


def sla_days_of(queries: Sequence[NamedQuery]) -> int | None:
    """The SLA's N in the queries as they will run (the literal of ``PatchSlaBreaches``' ``params``)."""
    for query in queries:
        if match := _SLA_LITERAL.search(query.sql):
            return int(match.group(2))
    return None


def report_queries(sla_days: int | None = None) -> list[NamedQuery]:
    """Every named query, SLA applied, in file-name order."""
    return [with_sla_days(query, sla_days) for query in named_queries()]


@functools.lru_cache(maxsize=64)
def parse_trino(sql: str) -> sqlglot.exp.Expr:
    """The query's syntax tree, parsed once (parsing the dozen queries costs about as much as running them
    on a small fleet, and both the load and the transpilation need it). Raises ParseError; one statement."""
    statements = sqlglot.parse(sql, read="trino")
    if len(statements) != 1 or statements[0] is None:
        raise ValueError(f"expected one statement, got {len(statements)}")
    return statements[0]


@functools.lru_cache(maxsize=64)
def to_duckdb(sql: str) -> str:
    """Athena (Trino) SQL to DuckDB SQL; raises sqlglot's ParseError on SQL Trino would reject."""
    return parse_trino(sql).sql(dialect="duckdb", unsupported_level=sqlglot.ErrorLevel.RAISE)


def json_value(value: Any) -> Any:
    """Engine values to what JSON and CSV carry: decimals to float, times to ISO-8601."""
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def with_account_names(result: QueryResult, names: Mapping[str, str] | None) -> QueryResult:
    """``account_name`` right after ``accountid`` (empty when unknown); unchanged without names or accountid."""
    if not names or "accountid" not in result.columns or "account_name" in result.columns:
        return result
    at = result.columns.index("accountid") + 1
    columns = [*result.columns[:at], "account_name", *result.columns[at:]]
    rows = [[*row[:at], names.get(str(row[at - 1]), ""), *row[at:]] for row in result.rows]
    return replace(result, columns=columns, rows=rows)


def account_name_sql(column: str, names: Mapping[str, str]) -> str:
    """A DuckDB expression naming the account in ``column`` (CASE keeps the row order, unlike a join)."""
    branches = " ".join(
        "WHEN '{}' THEN '{}'".format(account.replace("'", "''"), name.replace("'", "''"))
        for account, name in sorted(names.items())
    )
    return f"CASE {column} {branches} ELSE '' END" if branches else "''"
