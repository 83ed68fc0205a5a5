"""Compliance-report bench: the whole ``patchctl report`` against a plain DuckDB scan of the same files.

What it measures, side by side in one run over one generated fleet (files written exactly like resource
data sync: one file per instance and type), each phase in its own process so each peak memory is its own:

1. **plain scan**: DuckDB reading every raw JSON object of every file (``read_json_objects``), nothing
   else: reading one file per instance is the floor offline;
2. **whole report**: load, every named query, the CSVs, ``report.json`` and ``index.html`` (what
   ``patchctl report --source`` does), with its rows/s, peak memory and its ratio to the plain scan
   (goal <= 1.3);
3. the named queries alone, one line each (engine time, rows in and out).

The issue's sizes: 30,000 instances x 50 items (the ratio) and 100,000 x 50 (the queries alone,
goal < 10 s): ``python -m bench.bench_report --instances 100000`` (``make bench-report-100k``).
The default is smaller (``DEFAULT_INSTANCES``) so ``make bench`` stays short on a shared 2-vCPU box;
the ratio does not depend on the size (both sides read the same files). Files go to ``/dev/shm`` when it
has room (on a disk, creating 100,000s of files measures the disk). The machine is shared: the load
average is printed with the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from devkit.fleet import FleetSpec, generate_fleet

DEFAULT_INSTANCES = 10_000
DEFAULT_ITEMS = 50
ACCOUNTS = 20
REGIONS = 5
#: Bytes one instance takes on disk with 50 items (measured), to check the scratch space first.
BYTES_PER_INSTANCE_ITEM = 900
RATIO_GOAL = 1.3


def _scratch(requested: Path | None, needed: int) -> Path:
    if requested:
        return requested
    shm = Path("/dev/shm")
    if shm.is_dir() and shutil.disk_usage(shm).free > 3 * needed:
        return shm
    return Path(tempfile.gettempdir())


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def phase_scan(root: Path) -> dict[str, float]:
    """Every raw JSON object of every file, counted: the floor any offline report pays."""
    import duckdb

    from patchctl.report.duck import find_sync_root

    connection = duckdb.connect()
    started = time.perf_counter()
    pattern = (find_sync_root(root) / "*" / "*" / "*" / "*" / "*.json").as_posix()
    row = connection.execute(
        "SELECT count(*) FROM read_json_objects(?, format = 'newline_delimited', ignore_errors = true)", [pattern]
    ).fetchone()
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "rows": float(row[0] if row else 0), "peak_mb": _peak_mb()}


def phase_report(root: Path, out: Path) -> dict[str, object]:
    """``patchctl report --source root --out out``, timed as a whole and per query."""
    from patchctl.report.build import build_report
    from patchctl.report.duck import DuckDBSource
    from patchctl.report.queries import report_queries

    started = time.perf_counter()
    queries = report_queries()
    source = DuckDBSource(root, queries=queries)
    try:
        document = build_report(source, queries, out, source=str(root))
    finally:
        source.close()
    seconds = time.perf_counter() - started
    return {
        "seconds": seconds,
        "load_seconds": source.load_seconds,
        "files": source.files_read,
        "rows_loaded": source.rows_loaded,
        "peak_mb": _peak_mb(),
        "summary": document["summary"],
        "queries": {
            name: {"seconds": query["seconds"], "rows_out": query["row_count"]}
            for name, query in document["queries"].items()
        },
    }


def _child(phase: str, root: Path, out: Path) -> dict[str, Any]:
    result = subprocess.run(
        [sys.executable, "-m", "bench.bench_report", "--phase", phase, "--root", str(root), "--out", str(out)],
        capture_output=True,
        text=True,
        check=False,
        cwd=Path(__file__).parent.parent,
    )
    if result.returncode != 0:
        raise SystemExit(f"bench phase {phase} failed:\n{result.stderr[-3000:]}")
    return dict(json.loads(result.stdout.strip().splitlines()[-1]))


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--instances", type=int, default=DEFAULT_INSTANCES, help="total instances (multiple of 100)")
    parser.add_argument("--items", type=int, default=DEFAULT_ITEMS, help="patch compliance items per instance")
    parser.add_argument("--dir", type=Path, help="scratch directory (default: /dev/shm if it has room)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--phase", choices=("scan", "report"), help=argparse.SUPPRESS)
    parser.add_argument("--root", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.phase:  # one measured phase, in its own process
        figures = phase_scan(args.root) if args.phase == "scan" else phase_report(args.root, args.out)
        print(json.dumps(figures))
        return 0

    per_cell = max(1, args.instances // (ACCOUNTS * REGIONS))
    spec = FleetSpec(accounts=ACCOUNTS, regions=REGIONS, instances=per_cell, items=args.items, workers=args.workers)
    total = ACCOUNTS * REGIONS * per_cell
    scratch = _scratch(args.dir, total * args.items * BYTES_PER_INSTANCE_ITEM)
    work = Path(tempfile.mkdtemp(prefix="bench-report-", dir=scratch))
    try:
        started = time.perf_counter()
        fleet = generate_fleet(work / "bucket", spec)
        generation = time.perf_counter() - started
        print(f"fleet: {ACCOUNTS} accounts x {REGIONS} regions x {per_cell} = {total} instances x {args.items} items")
        print(
            f"generation: {generation:.1f} s  {fleet.files_written} files  {fleet.items_written} item rows  "
            f"(scratch: {scratch})"
        )
        root = work / "bucket"
        load_before = os.getloadavg()
        scan = _child("scan", root, work / "out-scan")
        report = _child("report", root, work / "out")
        load_after = os.getloadavg()
        print(
            f"plain scan:   {scan['seconds']:7.2f} s  {scan['rows']:>12,.0f} JSON objects  "
            f"{scan['rows'] / scan['seconds']:>12,.0f} rows/s  peak {scan['peak_mb']:,.0f} MB"
        )
        rows_loaded = sum(report["rows_loaded"].values())
        ratio = float(report["seconds"]) / float(scan["seconds"])
        print(
            f"whole report: {report['seconds']:7.2f} s  {rows_loaded:>12,} rows loaded  "
            f"{rows_loaded / float(report['seconds']):>12,.0f} rows/s  peak {report['peak_mb']:,.0f} MB  "
            f"(load {report['load_seconds']:.2f} s, {report['files']} files)"
        )
        queries: dict[str, dict[str, float]] = report["queries"]
        query_seconds = sum(query["seconds"] for query in queries.values())
        for name, query in sorted(queries.items()):
            print(f"  {name:<28} {query['seconds']:7.3f} s  out {query['rows_out']:>10,.0f} rows")
        print(
            f"queries alone: {query_seconds:.2f} s for {len(queries)} named queries  "
            f"{query_seconds / total * 100_000:.2f} s per 100,000 instances"
        )
        print(f"ratio whole report / plain scan: {ratio:.2f} (goal <= {RATIO_GOAL})")
        print(
            f"load average (1/5/15 min) before {', '.join(f'{x:.1f}' for x in load_before)}, "
            f"after {', '.join(f'{x:.1f}' for x in load_after)} on {os.cpu_count()} CPUs"
        )
        summary: dict[str, int] = report["summary"]
        checks = {**fleet.summary(), "unreported": fleet.unreported, "exempt": fleet.exempt}
        got = {key: summary.get(key) for key in checks}
        print(f"known figures: {checks}  report said: {got}")
        print(f"total: {time.perf_counter() - started:.1f} s")
        if got != checks:
            print("FAIL: the report's summary does not match the generator's known figures")
            return 1
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
