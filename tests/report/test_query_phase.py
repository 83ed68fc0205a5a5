"""The bench's query-phase figure (bench/query_phase.py): what it counts and how it reads against the goal."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from bench.query_phase import TimedSource, cpu_seconds, idle_wall_range, verdict
from patchctl.report.duck import DuckDBSource
from patchctl.report.queries import report_queries


def test_cpu_seconds_count_the_work_of_other_threads() -> None:
    # DuckDB runs a query on its own worker threads: their CPU must be in the figure, not only the caller's.
    def spin() -> None:
        started = time.thread_time()
        while time.thread_time() - started < 0.2:
            pass

    before = cpu_seconds()
    worker = threading.Thread(target=spin)
    worker.start()
    worker.join()
    assert cpu_seconds() - before >= 0.2


def test_timed_source_times_every_run_and_changes_no_result(duck: DuckDBSource, tmp_path: Path) -> None:
    queries = [q for q in report_queries() if q.name in ("ComplianceSummary", "PatchComplianceReport")]
    timed = TimedSource(duck)
    for query in queries:
        got = timed.run(query, tmp_path / f"{query.name}.csv", 5)
        plain = duck.run(query, tmp_path / f"{query.name}-plain.csv", 5)
        assert (got.columns, got.row_count) == (plain.columns, plain.row_count)
        assert (tmp_path / f"{query.name}.csv").stat().st_size == (tmp_path / f"{query.name}-plain.csv").stat().st_size
    assert set(timed.wall) == set(timed.cpu) == {q.name for q in queries}
    phase = timed.phase()
    assert phase["wall"] == sum(timed.wall.values()) > 0 and phase["cpu"] == sum(timed.cpu.values()) > 0
    assert timed.skipped is duck.skipped


def test_verdict_judges_the_wall_time_at_the_goal_size_and_states_the_idle_range() -> None:
    assert idle_wall_range(9.0, 2) == (4.5, 9.0)
    loaded = verdict({"wall": 25.6, "cpu": 9.1, "load": 12.3}, 2, 100_000)
    assert loaded.startswith("25.60 s wall (goal < 10 s: NOT met at load average 12.3 on 2 CPUs), 9.10 s CPU")
    assert loaded.endswith("on an idle 2-CPU box 4.5 to 9.1 s wall (goal met)")
    assert "goal met if both CPUs are used" in verdict({"wall": 30.0, "cpu": 12.0, "load": 9.0}, 2, 100_000)
    assert "goal < 10 s: met" in verdict({"wall": 8.0, "cpu": 9.0, "load": 0.5}, 2, 100_000)
    # Other sizes are not judged (the time grows with the fleet).
    small = verdict({"wall": 2.6, "cpu": 1.1, "load": 12.3}, 2, 1_000)
    assert "the goal < 10 s is for 100,000 instances" in small and "met" not in small
