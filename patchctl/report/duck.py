"""DuckDB over a local copy of the resource data sync bucket, with views named like the Glue tables.

Why: the same SQL the ComplianceLake deploys to Athena runs here, unchanged but for sqlglot's
Trino-to-DuckDB transpilation, so tests and the offline report prove the named queries. The
views read the sync's files with Hive partitioning from the path, exactly the columns the Glue
tables declare (``components.hub.compliance_tables``), every value as a string like the SerDe.

Difference from Athena, on purpose: DuckDB matches JSON keys case-sensitively, so each column
reads the key the sync writes (``resourceId`` for ``resourceid``); the OpenX SerDe on Athena
is case-insensitive. Large sources are loaded once into tables (``materialize``) so a dozen
queries do not each re-read every file.
"""

from __future__ import annotations

import functools
import os
import shutil
import tempfile
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path

import duckdb
from sqlglot import exp

from components.hub.compliance_tables import PARTITION_KEYS, TABLES, Column, ComplianceTable, NamedQuery

from .errors import QueryFailed, ReportError
from .queries import QueryResult, account_name_sql, json_value, parse_trino, to_duckdb
from .shared import SharedCtes, shared_definitions

_ANCHOR = "AWS:InstanceInformation"
#: The inventory schema version the Glue tables describe (every type the sync writes is at 1.0).
KNOWN_SCHEMA_VERSIONS = ("1.0",)


def find_sync_root(source: Path) -> Path:
    """The directory holding ``AWS:InstanceInformation/`` (``source`` itself or below, up to 3 levels).

    ``--source`` may be the bucket copy's root (with the sync's prefix inside) or the prefix.
    """
    if not source.exists():
        raise ReportError(f"--source {source}: no such directory")
    if not source.is_dir():
        raise ReportError(f"--source {source}: not a directory")
    if (source / _ANCHOR).is_dir():
        return source
    candidates = sorted(
        {
            path.parent
            for pattern in ("*/" + _ANCHOR, "*/*/" + _ANCHOR, "*/*/*/" + _ANCHOR)
            for path in source.glob(pattern)
        }
    )
    if not candidates:
        raise ReportError(
            f"--source {source}: no {_ANCHOR}/ directory (is this a copy of the resource data sync bucket?)"
        )
    if len(candidates) > 1:
        found = ", ".join(str(path) for path in candidates)
        raise ReportError(f"--source {source}: several resource data sync prefixes ({found}); pass one of them")
    return candidates[0]


def _glob(root: Path, table: ComplianceTable) -> str:
    segments = "/".join(f"{key.name}=*" for key in PARTITION_KEYS)
    return (root / table.type_name).as_posix() + f"/{segments}/*.json"


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def referenced_columns(queries: Iterable[NamedQuery]) -> set[str]:
    """Every column name the queries mention (lower case): what a load needs to read."""
    names: set[str] = set()
    for query in queries:
        names |= _columns_of(query.sql)
    return names


@functools.lru_cache(maxsize=64)
def _columns_of(sql: str) -> frozenset[str]:
    # Cached: parsing the dozen queries costs about as much as running them on a small fleet.
    return frozenset(column.name.lower() for column in parse_trino(sql).find_all(exp.Column))


def _partitions(source_root: Path, table: ComplianceTable) -> Iterable[tuple[tuple[str, ...], str]]:
    """``((accountid, region, resourcetype), directory)`` for every partition directory of one type."""
    top = source_root / table.type_name
    for account in os.scandir(top):
        if not account.is_dir() or not account.name.startswith("accountid="):
            continue
        for region in os.scandir(account.path):
            if not region.is_dir() or not region.name.startswith("region="):
                continue
            for resource_type in os.scandir(region.path):
                if resource_type.is_dir() and resource_type.name.startswith("resourcetype="):
                    values = tuple(entry.name.partition("=")[2] for entry in (account, region, resource_type))
                    yield values, resource_type.path


#: JSON keys the staged lines carry for the partition keys (no inventory type has keys like these).
_STAGED_KEYS = tuple(f"__{key.name}" for key in PARTITION_KEYS)


def _stage(source_root: Path, table: ComplianceTable, target: Path) -> int:
    """Every file of one type into ``target``, each line starting with its partition keys; returns the files read.

    Why: DuckDB's JSON reader pays about a millisecond per file, and the sync writes one file per instance
    (100,000 instances = 400,000 files); one statement per partition, or Hive paths, cost as much again.
    One file per type, the partition written into each object (a bytes replace, no JSON parsing in Python),
    loads with one ``read_json``. A line that is not an object gets no prefix and is counted as unreadable.
    """
    count = 0
    with open(target, "wb") as out:
        for values, directory in _partitions(source_root, table):
            fields = ",".join(f'"{key}":"{value}"' for key, value in zip(_STAGED_KEYS, values, strict=True))
            prefix = ("{" + fields + ",").encode()
            for entry in os.scandir(directory):
                if not entry.name.endswith(".json") or not entry.is_file():
                    continue
                with open(entry.path, "rb") as handle:
                    data = handle.read()
                count += 1
                if not data:
                    continue
                if not data.endswith(b"\n"):
                    data += b"\n"
                # "{}" becomes '{"__accountid":..,}', invalid: counted as unreadable (it has no resourceId either).
                out.write(b"\n".join(prefix + line[1:] if line[:1] == b"{" else line for line in data.split(b"\n")))
    return count


def _staged_sql(path: Path, columns: Sequence[Column], strict: bool) -> str:
    keys = [*(column.json_key for column in columns), *_STAGED_KEYS]
    json_columns = ", ".join(f"{_quote(key)}: 'VARCHAR'" for key in keys)
    selected = ", ".join(
        [f'"{column.json_key}" AS {column.name}' for column in columns]
        + [f'"{staged}" AS {key.name}' for staged, key in zip(_STAGED_KEYS, PARTITION_KEYS, strict=True)]
    )
    errors = "" if strict else ", ignore_errors = true"
    return (
        f"SELECT {selected} FROM read_json({_quote(path.as_posix())}, format = 'newline_delimited', "
        f"columns = {{{json_columns}}}{errors})"
    )


def _view_sql(root: Path, table: ComplianceTable, has_files: bool, wanted: set[str] | None = None) -> str:
    columns = [column for column in table.columns if wanted is None or column.name in wanted]
    if not columns:
        columns = [table.columns[0]]
    table = ComplianceTable(table.name, table.type_name, tuple(columns), table.description)
    names = [column.name for column in table.columns] + [key.name for key in PARTITION_KEYS]
    if not has_files:
        # No file of this type yet (e.g. no patch scan anywhere): an empty table, same columns.
        nulls = ", ".join(f"CAST(NULL AS VARCHAR) AS {name}" for name in names)
        return f"SELECT {nulls} WHERE false"
    json_columns = ", ".join(f"{_quote(column.json_key)}: 'VARCHAR'" for column in table.columns)
    hive_types = ", ".join(f"{_quote(key.name)}: 'VARCHAR'" for key in PARTITION_KEYS)
    selected = ", ".join(
        [f'"{column.json_key}" AS {column.name}' for column in table.columns] + [key.name for key in PARTITION_KEYS]
    )
    return (
        f"SELECT {selected} FROM read_json({_quote(_glob(root, table))}, format = 'newline_delimited', "
        f"columns = {{{json_columns}}}, hive_partitioning = true, hive_types = {{{hive_types}}}, "
        f"ignore_errors = true)"
    )


def drop_skipped(connection: duckdb.DuckDBPyConnection, table: str, columns: Sequence[str]) -> dict[str, int]:
    """Delete the rows the report cannot use from a loaded table and count them, by reason.

    ``ignore_errors`` makes DuckDB turn a line it cannot read (malformed or truncated JSON, not an object, not
    UTF-8) into a row whose every JSON column is NULL; without this, such rows would be counted silently as
    instances with no id. A row of an unknown ``schemaVersion`` is not what the columns describe.
    """
    reasons = {
        "unreadable lines": " AND ".join(f"{column} IS NULL" for column in columns),
        "unknown schemaVersion": "schemaversion IS NOT NULL AND schemaversion NOT IN "
        f"({', '.join(_quote(v) for v in KNOWN_SCHEMA_VERSIONS)})",
    }
    counts: dict[str, int] = {}
    for reason, condition in reasons.items():
        row = connection.execute(f"SELECT count(*) FROM {table} WHERE {condition}").fetchone()
        if row and row[0]:
            connection.execute(f"DELETE FROM {table} WHERE {condition}")
            counts[reason] = int(row[0])
    return counts


def _json_rows(rows: list[tuple[object, ...]], types: Sequence[str]) -> list[list[object]]:
    """Rows as JSON-friendly lists, converting only the columns whose engine type is a decimal or a time
    (most hold strings and integers: converting every value costs more than the query on 10,000 rows)."""
    convert = [index for index, name in enumerate(types) if any(t in name.upper() for t in ("DECIMAL", "DATE", "TIME"))]
    out = [list(row) for row in rows]
    if convert:
        for row in out:
            for index in convert:
                row[index] = json_value(row[index])
    return out


def _named(relation: str, connection: duckdb.DuckDBPyConnection, names: Mapping[str, str] | None) -> str:
    """``SELECT`` over ``relation`` with ``account_name`` after ``accountid`` when names are given."""
    columns = [d[0] for d in connection.execute(f"SELECT * FROM {relation} LIMIT 0").description or []]
    if not names or "accountid" not in columns or "account_name" in columns:
        return f"SELECT * FROM {relation}"
    named = ", ".join(
        f'"{column}"' + (f", {account_name_sql('accountid', names)} AS account_name" if column == "accountid" else "")
        for column in columns
    )
    return f"SELECT {named} FROM {relation}"


class DuckDBSource:
    """A DuckDB connection with one relation per Glue table over ``source``.

    ``materialize`` (default): stage the files (see :func:`_stage`) and load them into tables
    once; otherwise create views that read the files on every query (small sources, tests of
    the views themselves). ``queries``: load only the columns they reference (faster on big
    fleets); default: every Glue column. ``staging_dir``: where the staged copy goes (default:
    the system temp directory, ``TMPDIR``; it is removed as soon as each table is loaded).
    ``share`` (with ``queries``): compute the CTEs several of them share once (:mod:`.shared`);
    off, every query runs on its own, as Athena runs it (the reference the tests compare with).
    """

    def __init__(
        self,
        source: Path,
        *,
        materialize: bool = True,
        queries: Sequence[NamedQuery] | None = None,
        threads: int | None = None,
        staging_dir: Path | None = None,
        share: bool = True,
    ) -> None:
        self.root = find_sync_root(source)
        self.connection = duckdb.connect(database=":memory:")
        self.connection.execute("SET enable_progress_bar = false")
        if threads:
            self.connection.execute(f"SET threads = {int(threads)}")
        # schemaversion always: rows of an unknown version are skipped (and counted).
        wanted = referenced_columns(queries) | {"schemaversion"} if queries is not None else None
        self.load_seconds = 0.0
        self.files_read = 0
        self.rows_loaded: dict[str, int] = {}
        #: What was not loaded, per type and reason (materialized sources only): the report states it.
        self.skipped: dict[str, dict[str, int]] = {}
        started = time.perf_counter()
        staging = Path(tempfile.mkdtemp(prefix="patchctl-report-", dir=staging_dir)) if materialize else None
        try:
            for table in TABLES:
                has_files = any((self.root / table.type_name).glob("*/*/*/*.json"))
                if table.type_name == _ANCHOR and not has_files:
                    raise ReportError(f"--source {source}: {_ANCHOR}/ holds no <instance-id>.json file (empty copy?)")
                if staging is None:
                    self.connection.execute(f"CREATE VIEW {table.name} AS {_view_sql(self.root, table, has_files)}")
                    continue
                loaded = [c.name for c in table.columns if wanted is None or c.name in wanted] or [
                    table.columns[0].name
                ]
                columns = [c for c in table.columns if c.name in loaded]
                part = staging / "part.json"
                if not has_files:
                    self.connection.execute(f"CREATE TABLE {table.name} AS {_view_sql(staging, table, False, wanted)}")
                else:
                    self.files_read += _stage(self.root, table, part)
                    try:
                        # Strict first: about a third faster, and the sync's files are clean but for rare lines.
                        self.connection.execute(f"CREATE TABLE {table.name} AS {_staged_sql(part, columns, True)}")
                    except duckdb.Error:
                        self.connection.execute(f"DROP TABLE IF EXISTS {table.name}")
                        sql = _staged_sql(part, columns, False)
                        self.connection.execute(f"CREATE TABLE {table.name} AS {sql}")
                    part.unlink()
                if has_files and (skipped := drop_skipped(self.connection, table.name, loaded)):
                    self.skipped[table.type_name] = skipped
                row = self.connection.execute(f"SELECT count(*) FROM {table.name}").fetchone()
                self.rows_loaded[table.name] = int(row[0]) if row else 0
        except BaseException:
            self.connection.close()
            raise
        finally:
            if staging is not None:
                shutil.rmtree(staging, ignore_errors=True)
        self.load_seconds = time.perf_counter() - started
        #: CTEs two or more of ``queries`` share, each computed once (:mod:`.shared`); off without ``queries``.
        self.shared = SharedCtes(self.connection, shared_definitions(queries) if share and queries else set())

    def run(
        self,
        query: NamedQuery,
        csv_path: Path | None = None,
        max_rows: int | None = None,
        account_names: Mapping[str, str] | None = None,
    ) -> QueryResult:
        """Transpile and run one named query; write every row to ``csv_path`` if given.

        The result goes to a temporary table first, so the query runs once and ``seconds``
        is the engine's time (not Python's row conversion); DuckDB writes the CSV itself. An
        unsorted query with a CSV goes straight to it instead (:meth:`_export`: never held in memory).
        With ``account_names``, ``account_name`` follows ``accountid`` in the CSV and the rows.
        """
        try:
            sql = to_duckdb(query.sql)
        except Exception as exc:  # sqlglot raises several types; all mean "not valid Trino"
            raise QueryFailed(query.name, f"sqlglot could not transpile it: {exc}") from exc
        try:
            started = time.perf_counter()
            # The shared CTEs this query is the first to need are computed here: counted in its time.
            sql = self.shared.rewrite(query)
            if csv_path is not None and parse_trino(query.sql).args.get("order") is None:
                prepared = time.perf_counter() - started
                exported = self._export(query, sql, csv_path, max_rows, account_names)
                return replace(exported, seconds=prepared + exported.seconds)
            self.connection.execute(f"CREATE OR REPLACE TEMP TABLE _result AS {sql}")
            seconds = time.perf_counter() - started
            count_row = self.connection.execute("SELECT count(*) FROM _result").fetchone()
            row_count = int(count_row[0]) if count_row else 0
            self.connection.execute(
                f"CREATE OR REPLACE TEMP VIEW _out AS {_named('_result', self.connection, account_names)}"
            )
            if csv_path is not None:
                self.connection.execute(f"COPY (SELECT * FROM _out) TO {_quote(str(csv_path))} (HEADER, DELIMITER ',')")
            limit = "" if max_rows is None else f" LIMIT {int(max_rows)}"
            cursor = self.connection.execute(f"SELECT * FROM _out{limit}")
            rows = cursor.fetchall()
            columns = [item[0] for item in cursor.description or []]
            types = [str(item[1]) for item in cursor.description or []]
        except duckdb.Error as exc:
            raise QueryFailed(query.name, f"DuckDB: {str(exc).splitlines()[0]}") from exc
        finally:
            self.connection.execute("DROP VIEW IF EXISTS _out")
            self.connection.execute("DROP TABLE IF EXISTS _result")
        return QueryResult(
            name=query.name,
            description=query.description,
            columns=columns,
            rows=_json_rows(rows, types),
            row_count=row_count,
            seconds=seconds,
        )

    def _export(
        self,
        query: NamedQuery,
        sql: str,
        csv_path: Path,
        max_rows: int | None,
        account_names: Mapping[str, str] | None,
    ) -> QueryResult:
        """An unsorted query (an export such as ``PatchComplianceReport``) straight to its CSV, never held.

        Why: its result is as large as the item table (4.75 M rows at 100,000 instances); a temporary table
        would double the report's memory. Without an ORDER BY the first rows for ``report.json`` come from
        a LIMIT that stops early. ``seconds`` includes writing the CSV.
        """
        self.connection.execute(f"CREATE OR REPLACE TEMP VIEW _query AS {sql}")
        try:
            named = _named("_query", self.connection, account_names)
            started = time.perf_counter()
            written = self.connection.execute(
                f"COPY ({named}) TO {_quote(str(csv_path))} (HEADER, DELIMITER ',')"
            ).fetchone()
            seconds = time.perf_counter() - started
            limit = "" if max_rows is None else f" LIMIT {int(max_rows)}"
            cursor = self.connection.execute(f"{named}{limit}")
            rows = cursor.fetchall()
            columns = [item[0] for item in cursor.description or []]
            types = [str(item[1]) for item in cursor.description or []]
        except duckdb.Error as exc:
            raise QueryFailed(query.name, f"DuckDB: {str(exc).splitlines()[0]}") from exc
        finally:
            self.connection.execute("DROP VIEW IF EXISTS _query")
        return QueryResult(
            name=query.name,
            description=query.description,
            columns=columns,
            rows=_json_rows(rows, types),
            row_count=int(written[0]) if written else 0,
            seconds=seconds,
        )

    def run_all(self, queries: Iterable[NamedQuery]) -> list[QueryResult]:
        return [self.run(query) for query in queries]

    def close(self) -> None:
        self.connection.close()
