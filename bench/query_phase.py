"""The report's query phase timed as the issue counts it: wall and CPU of every named query's whole run.

Why a figure of its own: issue 17 asks for "the queries alone under 10 s" at 100,000 x 50. The engine seconds
``report.json`` records stop before a sorted query's CSV is written and before its rows reach Python, so
their sum understates what a user waits for. This wraps the source handed to ``build_report``: each ``run``
(the SQL, the CSV, the rows ``report.json`` keeps) is timed on the wall clock and in CPU seconds of the
whole process (``getrusage``: every thread, DuckDB's workers included, and any child), and the phase is the
sum of the runs. The load (reading the files into tables) is not in it: the bench prints it apart.

On a box shared by a dozen jobs the wall time mostly measures the queue for the CPU; the CPU seconds
barely depend on it, and bound the wall time on an idle box (:func:`idle_wall_range`).
"""

from __future__ import annotations

import os
import resource
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from components.hub.compliance_tables import NamedQuery
from patchctl.report.queries import QueryResult

#: The issue's goal for the queries alone at 100,000 instances x 50 items, in seconds of wall time.
GOAL_SECONDS = 10.0


class Source(Protocol):
    """What ``build_report`` calls (``patchctl.report.build.Runner``), plus the skipped lines it reports."""

    skipped: dict[str, dict[str, int]]

    def run(
        self,
        query: NamedQuery,
        csv_path: Path | None = None,
        max_rows: int | None = None,
        account_names: Mapping[str, str] | None = None,
    ) -> QueryResult: ...


def cpu_seconds() -> float:
    """User + system CPU seconds of this process (all its threads) and of its waited-for children."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


@dataclass
class TimedSource:
    """``source`` with each ``run`` timed (wall and CPU), for ``build_report``."""

    source: Source
    wall: dict[str, float] = field(default_factory=dict)
    cpu: dict[str, float] = field(default_factory=dict)

    @property
    def skipped(self) -> dict[str, dict[str, int]]:
        return self.source.skipped

    def run(
        self,
        query: NamedQuery,
        csv_path: Path | None = None,
        max_rows: int | None = None,
        account_names: Mapping[str, str] | None = None,
    ) -> QueryResult:
        started, used = time.perf_counter(), cpu_seconds()
        try:
            return self.source.run(query, csv_path, max_rows, account_names=account_names)
        finally:
            self.wall[query.name] = time.perf_counter() - started
            self.cpu[query.name] = cpu_seconds() - used

    def phase(self) -> dict[str, float]:
        """``{"wall", "cpu", "load"}``: the whole query phase, with the 1-minute load average at its end."""
        return {"wall": sum(self.wall.values()), "cpu": sum(self.cpu.values()), "load": os.getloadavg()[0]}


def idle_wall_range(cpu: float, cpus: int) -> tuple[float, float]:
    """The wall time ``cpu`` seconds take on an idle box of ``cpus`` CPUs: all CPUs busy, or only one.

    An upper bound in both ends: CPU seconds measured under load include the contention (shared caches).
    """
    return cpu / max(1, cpus), cpu


#: The fleet size the goal is for.
GOAL_INSTANCES = 100_000


def verdict(phase: Mapping[str, float], cpus: int, instances: int, goal: float = GOAL_SECONDS) -> str:
    """One line: the wall time next to the goal, the load it was measured at, the CPU and what it implies.

    The goal is judged only at :data:`GOAL_INSTANCES` (the time grows with the fleet)."""
    low, high = idle_wall_range(phase["cpu"], cpus)
    if instances == GOAL_INSTANCES:
        met = "met" if phase["wall"] < goal else "NOT met"
        idle = "met" if high < goal else ("met if both CPUs are used" if low < goal else "NOT met")
        judged, idle_judged = f"goal < {goal:.0f} s: {met} ", f" (goal {idle})"
    else:
        judged, idle_judged = f"the goal < {goal:.0f} s is for {GOAL_INSTANCES:,} instances; ", ""
    return (
        f"{phase['wall']:.2f} s wall ({judged}at load average {phase['load']:.1f} on {cpus} CPUs), "
        f"{phase['cpu']:.2f} s CPU (this process, DuckDB's threads included): on an idle {cpus}-CPU box "
        f"{low:.1f} to {high:.1f} s wall{idle_judged}"
    )
