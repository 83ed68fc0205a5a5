"""Compliance-report bench: the whole ``patchctl report`` against a plain DuckDB scan of the same files.

What it measures, side by side in one run over one generated fleet (files written exactly like resource
data sync: one file per instance and type), each phase in its own process so each peak memory is its own:

1. **plain scan**: DuckDB reading every raw JSON object of every file (``read_json_objects``), nothing
   else: reading one file per instance is the floor offline;
2. **whole report**: load, every named query, the CSVs, ``report.json`` and ``index.html`` (what
   ``patchctl report --source`` does), with its rows/s, peak memory and its ratio to the plain scan
   (goal <= 1.3);
3. the named queries alone, one line each: engine seconds (what ``report.json`` records), the CPU seconds of
   each query's ``run`` (DuckDB's threads included: on a box shared by a dozen jobs the wall time measures
   the queue for the CPU as much as the query) and the rows out.

``--baseline DIR`` (a checkout of an earlier revision: ``git archive REV | tar -x -C DIR``) runs that
revision's whole report too, in the same run over the same files, prints its figures next to these and
fails unless both wrote the same CSVs and ``report.json`` (``bench.report_digest``).

The issue's sizes: 30,000 instances x 50 items (the ratio) and 100,000 x 50 (the queries alone,
goal < 10 s): ``python -m bench.bench_report --instances 100000`` (``make bench-report-100k``).
The default is smaller (``DEFAULT_INSTANCES``) so ``make bench`` stays short on a shared 2-vCPU box;
the ratio does not depend on the size (both sides read the same files). The generated fleet is kept
between runs (``bench.fleet_cache``: ``~/.cache/org-patching/bench-fleets/<size, seed, generator hash>``,
outside the repository; ``--cache DIR`` or ``$ORG_PATCHING_BENCH_CACHE`` elsewhere, ``--fresh`` to generate
into the scratch directory instead); a reused fleet is read once, unmeasured, so both phases find it in the
page cache. Outputs go to ``/dev/shm`` when it has room. The machine is shared: the load average is printed
with the figures.
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

from bench.fleet_cache import CACHE_ENV, cached_fleet, default_cache_dir
from bench.query_phase import TimedSource, verdict
from bench.report_digest import differences, report_digest
from devkit.fleet import FleetSpec
from patchctl.report.duck import DuckDBSource
from patchctl.report.queries import parse_trino, report_queries

DEFAULT_INSTANCES = 10_000
DEFAULT_ITEMS = 50
ACCOUNTS = 20
REGIONS = 5
#: Bytes one instance takes on disk with 50 items (measured), to check the scratch space first.
BYTES_PER_INSTANCE_ITEM = 900
RATIO_GOAL = 1.3
#: Query-phase runs per bench (the first inside the whole report): the best wall time of these counts.
DEFAULT_QUERY_RUNS = 3


def _scratch(requested: Path | None, needed: int) -> Path:
    if requested:
        return requested
    shm = Path("/dev/shm")
    if shm.is_dir() and shutil.disk_usage(shm).free > 3 * needed:
        return shm
    return Path(tempfile.gettempdir())


def _warm_up(root: Path) -> float:
    """Read every file once so a fleet reused from a disk-backed cache is in the page cache for both phases."""
    started = time.perf_counter()
    for directory, _, files in os.walk(root):
        for name in files:
            with open(os.path.join(directory, name), "rb") as handle:
                handle.read()
    return time.perf_counter() - started


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


def _csv_bytes(out: Path) -> dict[str, int]:
    return {path.stem: path.stat().st_size for path in sorted(out.glob("*.csv"))}


def phase_report(root: Path, out: Path, query_runs: int = 1) -> dict[str, object]:
    """``patchctl report --source root --out out``, timed as a whole, per query and as a query phase.

    With ``query_runs`` > 1 the query phase runs again that many times in all over the same loaded tables
    (the shared CTEs dropped first, so each run computes them again), each into its own directory, and
    must write the same outputs: on a shared box one run's wall time can be another job's burst.
    """
    from bench.report_digest import comparable_document
    from patchctl.report.build import build_report

    started = time.perf_counter()
    queries = report_queries()
    unsorted = {q.name for q in queries if parse_trino(q.sql).args.get("order") is None}
    source = DuckDBSource(root, queries=queries)
    timed = TimedSource(source)
    phases = []
    try:
        document = build_report(timed, queries, out, source=str(root))
        seconds = time.perf_counter() - started
        phases.append(timed.phase())
        expected = comparable_document(document, unsorted)
        for run in range(2, query_runs + 1):
            source.shared.drop()
            again = TimedSource(source)
            rerun = build_report(again, queries, out.with_name(f"{out.name}-run{run}"), source=str(root))
            phases.append(again.phase())
            same = comparable_document(rerun, unsorted) == expected and _csv_bytes(out) == _csv_bytes(
                out.with_name(f"{out.name}-run{run}")
            )
            shutil.rmtree(out.with_name(f"{out.name}-run{run}"), ignore_errors=True)
            if not same:
                raise SystemExit(f"query run {run} wrote other outputs than the first")
    finally:
        source.close()
    return {
        "seconds": seconds,
        "load_seconds": source.load_seconds,
        "files": source.files_read,
        "rows_loaded": source.rows_loaded,
        "peak_mb": _peak_mb(),
        "summary": document["summary"],
        "csv_bytes": _csv_bytes(out),
        "query_phases": phases,
        "queries": {
            name: {
                "seconds": query["seconds"],
                "rows_out": query["row_count"],
                "wall": timed.wall.get(name),
                "cpu": timed.cpu.get(name),
            }
            for name, query in document["queries"].items()
        },
    }


def _child(
    phase: str, root: Path, out: Path, checkout: Path | None = None, extra: tuple[str, ...] = ()
) -> dict[str, Any]:
    """One phase in a fresh process, from this checkout or from ``checkout`` (an earlier revision's files)."""
    result = subprocess.run(
        [sys.executable, "-m", "bench.bench_report", "--phase", phase, "--root", str(root), "--out", str(out), *extra],
        capture_output=True,
        text=True,
        check=False,
        cwd=checkout or Path(__file__).parent.parent,
    )
    if result.returncode != 0:
        raise SystemExit(f"bench phase {phase} ({checkout or 'this checkout'}) failed:\n{result.stderr[-3000:]}")
    return dict(json.loads(result.stdout.strip().splitlines()[-1]))


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--instances", type=int, default=DEFAULT_INSTANCES, help="total instances (multiple of 100)")
    parser.add_argument("--items", type=int, default=DEFAULT_ITEMS, help="patch compliance items per instance")
    parser.add_argument("--dir", type=Path, help="scratch directory (default: /dev/shm if it has room)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--seed", type=int, default=FleetSpec.seed, help="the generator's seed (part of the cache key)")
    parser.add_argument(
        "--cache",
        type=Path,
        default=default_cache_dir(),
        help=f"where generated fleets are kept between runs (default: ${CACHE_ENV} or ~/.cache/org-patching/...)",
    )
    parser.add_argument(
        "--baseline",
        type=Path,
        help="a checkout of an earlier revision (git archive REV | tar -x -C DIR): its report runs side by side",
    )
    parser.add_argument("--fresh", action="store_true", help="generate into the scratch directory, not the cache")
    parser.add_argument(
        "--query-runs",
        type=int,
        default=DEFAULT_QUERY_RUNS,
        help="run the query phase this many times over the same loaded tables; the best wall time counts",
    )
    parser.add_argument("--phase", choices=("scan", "report"), help=argparse.SUPPRESS)
    parser.add_argument("--root", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.phase:  # one measured phase, in its own process
        figures = phase_scan(args.root) if args.phase == "scan" else phase_report(args.root, args.out, args.query_runs)
        print(json.dumps(figures))
        return 0

    per_cell = max(1, args.instances // (ACCOUNTS * REGIONS))
    spec = FleetSpec(
        accounts=ACCOUNTS, regions=REGIONS, instances=per_cell, items=args.items, seed=args.seed, workers=args.workers
    )
    total = ACCOUNTS * REGIONS * per_cell
    scratch = _scratch(args.dir, total * args.items * BYTES_PER_INSTANCE_ITEM)
    work = Path(tempfile.mkdtemp(prefix="bench-report-", dir=scratch))
    try:
        started = time.perf_counter()
        fleet = cached_fleet(spec, work if args.fresh else args.cache)
        print(f"fleet: {ACCOUNTS} accounts x {REGIONS} regions x {per_cell} = {total} instances x {args.items} items")
        how = "reused from" if fleet.reused else "generated into"
        print(
            f"generation: {fleet.generation_seconds:.1f} s  {fleet.files_written} files  {fleet.items_written} item "
            f"rows  ({how} {fleet.root.parent}, generated {fleet.generated_at})"
        )
        if fleet.reused:
            # Both phases must find the files in the page cache, as a fresh generation leaves them.
            print(f"warm-up: every file read once in {_warm_up(fleet.root):.1f} s (not measured)")
        root = fleet.root
        load_before = os.getloadavg()
        scan = _child("scan", root, work / "out-scan")
        before = _child("report", root, work / "out-before", args.baseline) if args.baseline else None
        report = _child("report", root, work / "out", extra=("--query-runs", str(max(1, args.query_runs))))
        load_after = os.getloadavg()
        print(
            f"plain scan:   {scan['seconds']:7.2f} s  {scan['rows']:>12,.0f} JSON objects  "
            f"{scan['rows'] / scan['seconds']:>12,.0f} rows/s  peak {scan['peak_mb']:,.0f} MB"
        )
        runs = [("before", before), ("whole report", report)] if before else [("whole report", report)]
        for label, run in runs:
            rows_loaded = sum(run["rows_loaded"].values())
            print(
                f"{label + ':':<13} {run['seconds']:7.2f} s  {rows_loaded:>12,} rows loaded  "
                f"{rows_loaded / float(run['seconds']):>12,.0f} rows/s  peak {run['peak_mb']:,.0f} MB  "
                f"(load {run['load_seconds']:.2f} s, {run['files']} files)  "
                f"ratio {float(run['seconds']) / float(scan['seconds']):.2f}"
            )
        queries: dict[str, dict[str, float]] = report["queries"]
        old: dict[str, dict[str, float]] = before["queries"] if before else {}
        print(f"  {'query':<28} {'engine s':>9} {'wall s':>9} {'cpu s':>9} {'before':>9}  rows out")
        for name, query in sorted(queries.items()):
            was = f"{old[name]['seconds']:9.3f}" if name in old else ""
            print(
                f"  {name:<28} {query['seconds']:9.3f} {query['wall']:9.3f} {query['cpu']:9.3f} {was:>9}  "
                f"{query['rows_out']:>10,.0f}"
            )
        sizes: dict[str, int] = report["csv_bytes"]
        largest = max(sizes, key=lambda name: sizes[name])
        print(
            f"CSVs: {len(sizes)} files, {sum(sizes.values()) / 1e6:,.0f} MB "
            f"({largest} {sizes[largest] / 1e6:,.0f} MB); "
            f"engine seconds (report.json's, before each sorted query's CSV): "
            f"{sum(query['seconds'] for query in queries.values()):.2f} s"
            + (f", before {sum(query['seconds'] for query in old.values()):.2f} s" if before else "")
        )
        if before and "query_phases" in before:
            print(f"queries alone before: {verdict(before['query_phases'][0], os.cpu_count() or 1, total)}")
        phases: list[dict[str, float]] = report["query_phases"]
        for number, phase in enumerate(phases, 1):
            where = " (inside the whole report)" if number == 1 else ""
            print(
                f"  query phase run {number}{where}: {phase['wall']:.2f} s wall  {phase['cpu']:.2f} s CPU  "
                f"load average {phase['load']:.1f}"
            )
        best = min(phases, key=lambda phase: phase["wall"])
        print(
            f"queries alone ({len(queries)} named queries, each with its CSV and report.json rows; best of "
            f"{len(phases)}): {verdict(best, os.cpu_count() or 1, total)}"
        )
        ratio = float(report["seconds"]) / float(scan["seconds"])
        print(f"ratio whole report / plain scan: {ratio:.2f} (goal <= {RATIO_GOAL})")
        print(
            f"load average (1/5/15 min) before {', '.join(f'{x:.1f}' for x in load_before)}, "
            f"after {', '.join(f'{x:.1f}' for x in load_after)} on {os.cpu_count()} CPUs"
        )
        if before:
            unsorted = {q.name for q in report_queries() if parse_trino(q.sql).args.get("order") is None}
            changed = differences(report_digest(work / "out-before", unsorted), report_digest(work / "out", unsorted))
            print("outputs: " + ("identical to the baseline's" if not changed else "DIFFER from the baseline's"))
            for line in changed:
                print(f"  {line}")
            if changed:
                return 1
        summary: dict[str, int] = report["summary"]
        checks = fleet.known
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
