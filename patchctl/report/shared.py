"""Common table expressions several named queries share, computed once per report instead of once per query.

Why: nine of the sixteen named queries start with the same ``classified`` block (one row per instance, from
the tag contract; ``components/hub/instance_categories.py``), and the two SLA queries share their ``urgent``
and ``last_install`` aggregates over every compliance item (4.9 million rows at 100,000 instances). Each
named query must stay self-contained (Athena runs it alone), so on DuckDB the report recognises the shared
parts instead: a CTE whose whole definition (its own text and every CTE it reads, transpiled) is the same in
two or more of the queries is loaded once into a temporary table, and each query reads that table in place
of the CTE. Same text over the same loaded tables is the same rows, so every answer is unchanged; a CTE that
reads the clock (``current_timestamp``) or a random number is never shared (its value could differ between
two queries), nor one that reads no table (nothing to save).
"""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

import duckdb
import sqlglot
from sqlglot import exp

from components.hub.compliance_tables import NamedQuery

from .queries import parse_trino

#: Functions whose value is not a function of the tables: a CTE calling one is never shared.
_VOLATILE = (exp.CurrentTimestamp, exp.CurrentDate, exp.CurrentTime, exp.CurrentDatetime, exp.Rand, exp.Uuid)


def _ctes(tree: exp.Expr) -> list[exp.CTE]:
    with_ = tree.args.get("with_")
    return list(with_.expressions) if isinstance(with_, exp.With) else []


def _to_duckdb(expression: exp.Expr) -> str:
    return expression.sql(dialect="duckdb", unsupported_level=sqlglot.ErrorLevel.RAISE)


def _dependencies(ctes: list[exp.CTE]) -> dict[str, list[str]]:
    """For each CTE, the earlier CTEs of the same ``WITH`` it reads, directly or not, in their order."""
    names = [cte.alias_or_name for cte in ctes]
    direct = {
        cte.alias_or_name: {table.name for table in cte.this.find_all(exp.Table) if not table.db} & set(names)
        for cte in ctes
    }
    closed: dict[str, list[str]] = {}
    for name in names:
        needed = set(direct[name])
        for dependency in direct[name]:
            needed |= set(closed.get(dependency, ()))
        closed[name] = [other for other in names if other in needed]
    return closed


def _closure(name: str, ctes: dict[str, exp.CTE], dependencies: list[str], bodies: dict[str, exp.Expr]) -> exp.Expr:
    """``WITH <dependencies> SELECT * FROM <name>`` with ``name`` and its dependencies as the query defines them
    (or as ``bodies`` replaces them)."""
    query: exp.Select = exp.select("*").from_(name)
    for dependency in [*dependencies, name]:
        query = query.with_(dependency, as_=bodies.get(dependency, ctes[dependency].this).copy())
    return query


def _shareable(cte: exp.CTE, ctes: dict[str, exp.CTE], dependencies: list[str]) -> bool:
    parts = [cte.this, *(ctes[name].this for name in dependencies)]
    reads_a_table = any(table.name not in ctes for part in parts for table in part.find_all(exp.Table))
    return reads_a_table and not any(part.find(*_VOLATILE) for part in parts)


def _keys(query: NamedQuery) -> dict[str, str]:
    """CTE name -> its closed definition as DuckDB runs it, for every shareable CTE of the query."""
    return dict(_keys_of(query.sql))


@functools.lru_cache(maxsize=64)
def _keys_of(sql: str) -> tuple[tuple[str, str], ...]:
    # Cached: transpiling each CTE's closure costs about as much as a small fleet's query.
    tree = parse_trino(sql)
    ctes = {cte.alias_or_name: cte for cte in _ctes(tree)}
    closed = _dependencies(list(ctes.values()))
    return tuple(
        (name, _to_duckdb(_closure(name, ctes, closed[name], {})))
        for name, cte in ctes.items()
        if _shareable(cte, ctes, closed[name])
    )


def shared_definitions(queries: Iterable[NamedQuery]) -> set[str]:
    """The closed CTE definitions that two or more of ``queries`` contain."""
    counts = Counter(key for query in queries for key in set(_keys(query).values()))
    return {key for key, count in counts.items() if count > 1}


@dataclass
class SharedCtes:
    """Materialises each shared CTE once on ``connection`` and rewrites queries to read it.

    ``tables``: closed definition -> temporary table name, filled as the queries run (the first query that
    needs a shared CTE pays for it, so each query's time still accounts for all the work it caused).
    """

    connection: duckdb.DuckDBPyConnection
    shared: set[str]
    tables: dict[str, str] = field(default_factory=dict)

    def rewrite(self, query: NamedQuery) -> str:
        """The query as DuckDB SQL, each shared CTE replaced by a read of its table (created when first needed)."""
        tree = parse_trino(query.sql)
        keys = {name: key for name, key in _keys(query).items() if key in self.shared}
        if not keys:
            return _to_duckdb(tree)
        tree = tree.copy()
        ctes = {cte.alias_or_name: cte for cte in _ctes(tree)}
        closed = _dependencies(list(ctes.values()))
        bodies: dict[str, exp.Expr] = {}
        for name in ctes:  # in WITH order: a CTE's dependencies are rewritten before it
            key = keys.get(name)
            if key is None:
                continue
            if key not in self.tables:
                table = f"_shared_{len(self.tables)}"
                sql = _to_duckdb(_closure(name, ctes, closed[name], bodies))
                self.connection.execute(f"CREATE TEMP TABLE {table} AS {sql}")
                self.tables[key] = table
            bodies[name] = exp.select("*").from_(self.tables[key])
        for name, body in bodies.items():
            ctes[name].set("this", body)
        return _to_duckdb(tree)

    def drop(self) -> None:
        for table in self.tables.values():
            self.connection.execute(f"DROP TABLE IF EXISTS {table}")
        self.tables.clear()
