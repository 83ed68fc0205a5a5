"""The instances SSM does not manage, read from the compliance lake: what ``patchctl report`` counts by default.

Every account-region's daily tag sweep writes its profile check's findings into the hub's inventory bucket under
``unmanaged/accountid=/region=/dt=/findings.jsonl`` (``lambda_src/lambda_shared/unmanaged_findings.py``); the hub
declares the ``unmanaged_instances`` table and the ``LatestUnmanagedInstances`` named query over them
(``components/hub/unmanaged_table.py``). The report runs that very query, so Athena and the offline path agree:

* ``--athena``: in the workgroup and database, like every named query. A hub deployed before the table existed
  (or any other failure of this one query) leaves the count "not known" with the engine's reason: the report of
  the inventory's categories is still written.
* ``--source DIR``: the objects under ``unmanaged/`` beside the sync's prefix in the bucket copy (``aws s3 sync
  s3://<bucket> DIR`` copies both) become a DuckDB table of the same name, then the same query runs.

The query keeps each account-region's latest sweep of the last week and drops the instances that are in SSM
inventory by now (counted there, never twice); each sweep's own line (no ``resourceid``) tells how many
account-regions were read. No sweep at all means "not known" (``None``), as without ``--unmanaged``.
``--unmanaged FILE`` still overrides the lake.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from components import naming
from components.hub.compliance_tables import NamedQuery
from components.hub.unmanaged_table import NAMED_QUERY_DESCRIPTION, NAMED_QUERY_NAME, NAMED_QUERY_SQL

from .build import Runner
from .errors import QueryFailed
from .unmanaged import entry_from

#: The hub's named query, as the report runs it on either engine.
LAKE_QUERY = NamedQuery(NAMED_QUERY_NAME, NAMED_QUERY_DESCRIPTION, NAMED_QUERY_SQL)
#: JSON keys of the sweep's lines the DuckDB table reads (the sweep writes them in this case).
_JSON_COLUMNS = {"resourceid": "resourceid", "reason": "reason", "sweptat": "sweptAt"}


@dataclass
class LakeUnmanaged:
    """What the lake says: the unmanaged instances (``--unmanaged`` entries) and the sweeps they come from.

    ``instances`` is ``None`` when no sweep could be read (not known); ``problem`` then says why, if it failed."""

    instances: list[dict[str, Any]] | None
    sweeps: int = 0
    problem: str | None = None
    days: list[str] = field(default_factory=list)

    def describe(self) -> str:
        """One line for the operator: what was read, or why nothing was."""
        if self.instances is None:
            why = self.problem or "no tag sweep wrote findings in the last 7 days"
            return f"unmanaged instances not known: {why}"
        span = (
            f" ({self.days[0]}..{self.days[-1]})" if len(self.days) > 1 else f" ({self.days[0]})" if self.days else ""
        )
        return f"unmanaged instances from the lake: {len(self.instances)} in {self.sweeps} account-region sweeps{span}"


def lake_directory(sync_root: Path) -> Path:
    """``unmanaged/`` beside the sync's prefix: both are top-level prefixes of the hub's inventory bucket."""
    return sync_root.parent / naming.UNMANAGED_PREFIX


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def load_into_duckdb(connection: Any, directory: Path) -> int:
    """The sweeps' objects as the ``unmanaged_instances`` table (partitions from the path); returns the files.

    Only the columns the query reads; a line DuckDB cannot read becomes NULLs (``ignore_errors``) and is dropped."""
    files = sorted(path.as_posix() for path in directory.glob("accountid=*/region=*/dt=*/*.jsonl") if path.is_file())
    columns = ", ".join(f"{_quote(key)}: 'VARCHAR'" for key in _JSON_COLUMNS.values())
    selected = ", ".join(f'"{key}" AS {name}' for name, key in _JSON_COLUMNS.items())
    partitions = "accountid, region, dt"
    if not files:
        nulls = ", ".join(f"CAST(NULL AS VARCHAR) AS {name}" for name in [*_JSON_COLUMNS, "accountid", "region", "dt"])
        connection.execute(f"CREATE OR REPLACE TABLE {naming.UNMANAGED_TABLE} AS SELECT {nulls} WHERE false")
        return 0
    listing = "[" + ", ".join(_quote(path) for path in files) + "]"
    connection.execute(
        f"CREATE OR REPLACE TABLE {naming.UNMANAGED_TABLE} AS SELECT {selected}, {partitions} FROM read_json("
        f"{listing}, format = 'newline_delimited', columns = {{{columns}}}, hive_partitioning = true, "
        "hive_types = {'accountid': 'VARCHAR', 'region': 'VARCHAR', 'dt': 'VARCHAR'}, ignore_errors = true) "
        "WHERE sweptat IS NOT NULL"
    )
    return len(files)


def from_rows(columns: list[str], rows: list[list[Any]]) -> LakeUnmanaged:
    """The query's rows: sweep lines (no ``resourceid``) counted, instance lines as ``--unmanaged`` entries."""
    if not rows:
        return LakeUnmanaged(None)
    instances: list[dict[str, Any]] = []
    sweeps = 0
    days: set[str] = set()
    for number, values in enumerate(rows, 1):
        row = dict(zip(columns, values, strict=False))
        days.add(str(row.get("dt") or ""))
        if not row.get("resourceid"):
            sweeps += 1
            continue
        instances.append(entry_from(row, f"{NAMED_QUERY_NAME}: row {number}"))
    return LakeUnmanaged(instances, sweeps, days=sorted(day for day in days if day))


def read_lake(runner: Runner) -> LakeUnmanaged:
    """The lake's unmanaged instances through ``runner`` (a ``DuckDBSource`` or an ``AthenaRunner``)."""
    from .duck import DuckDBSource

    if isinstance(runner, DuckDBSource) and not load_into_duckdb(runner.connection, lake_directory(runner.root)):
        return LakeUnmanaged(None)
    try:
        result = runner.run(LAKE_QUERY)
    except QueryFailed as failed:
        return LakeUnmanaged(None, problem=str(failed))
    return from_rows(result.columns, result.rows)
