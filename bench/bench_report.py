"""Compliance-report bench: DuckDB query time over a synthetic org fleet, as rows/s.

What it measures, each phase printed on its own so a slow disk does not hide a slow query:

1. generation: the fleet written exactly like resource data sync (one file per instance and
   type) - file creation, not SQL, is the cost here;
2. load: staging the files per (account, region) and parsing the JSON into DuckDB tables
   (only the columns the named queries use);
3. query: every named query, transpiled from Athena's Trino SQL, rows/s = rows of the tables
   it reads / seconds.

The issue's size is 100,000 instances x 50 compliance items (5 million item rows, ~4 GB of
JSON, 400,000 files): ``python bench/bench_report.py --instances 100000``. The default is
smaller (``DEFAULT_INSTANCES``) so that ``python -m bench`` stays near 90 s on a 2-vCPU runner;
query time grows linearly with the fleet (the ratio lines show it). Files go to ``/dev/shm``
when it has room (creating 400,000 files on a network disk takes minutes and measures the disk).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import sqlglot
from sqlglot import exp

from devkit.fleet import FleetSpec, generate_fleet
from patchctl.report.duck import DuckDBSource
from patchctl.report.queries import report_queries

DEFAULT_INSTANCES = 30_000
DEFAULT_ITEMS = 50
ACCOUNTS = 20
REGIONS = 5
#: Bytes one instance takes on disk with 50 items (measured), to check the scratch space first.
BYTES_PER_INSTANCE_ITEM = 900


def _scratch(requested: Path | None, needed: int) -> Path:
    if requested:
        return requested
    shm = Path("/dev/shm")
    if shm.is_dir() and shutil.disk_usage(shm).free > 3 * needed:
        return shm
    return Path(tempfile.gettempdir())


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--instances", type=int, default=DEFAULT_INSTANCES, help="total instances (multiple of 100)")
    parser.add_argument("--items", type=int, default=DEFAULT_ITEMS, help="patch compliance items per instance")
    parser.add_argument("--dir", type=Path, help="scratch directory (default: /dev/shm if it has room)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args(argv)
    per_cell = max(1, args.instances // (ACCOUNTS * REGIONS))
    spec = FleetSpec(accounts=ACCOUNTS, regions=REGIONS, instances=per_cell, items=args.items, workers=args.workers)
    total = ACCOUNTS * REGIONS * per_cell
    scratch = _scratch(args.dir, total * args.items * BYTES_PER_INSTANCE_ITEM)
    work = Path(tempfile.mkdtemp(prefix="bench-report-", dir=scratch))
    try:
        started = time.perf_counter()
        figures = generate_fleet(work / "bucket", spec)
        generation = time.perf_counter() - started
        print(f"fleet: {ACCOUNTS} accounts x {REGIONS} regions x {per_cell} = {total} instances x {args.items} items")
        print(
            f"generation: {generation:.1f} s  {figures.files_written} files  {figures.items_written} item rows  "
            f"{total / generation:,.0f} instances/s  (scratch: {scratch})"
        )

        queries = report_queries()
        source = DuckDBSource(work / "bucket", queries=queries, staging_dir=work)
        loaded = sum(source.rows_loaded.values())
        print(
            f"load: {source.load_seconds:.1f} s  {source.files_read} files  {loaded:,} rows  "
            f"{loaded / source.load_seconds:,.0f} rows/s  {source.files_read / source.load_seconds:,.0f} files/s"
        )

        query_seconds = 0.0
        scanned_total = 0
        summary_row: dict[str, object] = {}
        for query in queries:
            tree = sqlglot.parse_one(query.sql, read="trino")
            tables = {table.name for table in tree.find_all(exp.Table)} & set(source.rows_loaded)
            scanned = sum(source.rows_loaded[name] for name in tables)
            result = source.run(query, max_rows=None if query.name == "ComplianceSummary" else 0)
            if query.name == "ComplianceSummary":
                summary_row = dict(zip(result.columns, result.rows[0], strict=True))
            query_seconds += result.seconds
            scanned_total += scanned
            print(
                f"  {query.name:<28} {result.seconds:7.3f} s  in {scanned:>10,} rows  "
                f"out {result.row_count:>10,} rows  {scanned / max(result.seconds, 1e-9):>14,.0f} rows/s"
            )
        source.close()
        print(
            f"query: {query_seconds:.2f} s for {len(queries)} named queries  "
            f"{scanned_total / query_seconds:,.0f} rows/s  "
            f"{query_seconds / total * 100_000:.2f} s per 100,000 instances"
        )
        checks = figures.summary()
        got = {key: summary_row.get(key) for key in checks}
        print(f"known figures: {checks}  query said: {got}  sla_breaches={figures.sla_breaches}  stale={figures.stale}")
        print(f"total: {time.perf_counter() - started:.1f} s")
        if got != checks:
            print("FAIL: ComplianceSummary does not match the generator's known figures")
            return 1
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
