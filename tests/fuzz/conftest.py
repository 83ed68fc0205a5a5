"""The fuzz suite's pytest plugin: print the per-target table at the end of the session.

``make fuzz`` (``FUZZ_PROFILE=fuzz``) runs every target with at least 500 cases, prints the table, writes it as
Markdown to ``$FUZZ_TABLE`` (when set) and fails the session when a row it ran differs from the table in
``docs/reliability.md``. ``FUZZ_UPDATE_DOC=1`` rewrites the rows of the targets that ran instead (a run of some
targets, e.g. ``-k test_fuzz_patch_events``, keeps the other rows as they are).

Under pytest-xdist (``-n auto``) every worker has its own session and its own tallies: a worker hands them to
the controller through ``workeroutput`` (xdist's channel for a worker's results, read in
``pytest_testnodedown``), and only the controller (or a run without xdist) assembles, prints and writes the
table. ``make fuzz`` distributes by file (``--dist loadfile``): a target's module runs in one worker in its own
order, so its emulator sees the same history and the counts are the same as in one process.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.fuzz import invariants

DOC = Path(__file__).resolve().parents[2] / "docs" / "reliability.md"
_PROBLEMS: list[str] = []
WORKER_KEY = "fuzz_tallies"


@contextmanager
def _doc_lock() -> Iterator[None]:
    """An exclusive lock on the doc's read-modify-write (``fcntl.flock``: released when the file closes)."""
    name = f"org-patching-fuzz-{hashlib.sha256(str(DOC).encode()).hexdigest()[:12]}.lock"  # one per clone
    with open(Path(tempfile.gettempdir()) / name, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def _is_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: object) -> None:
    """xdist, on the controller: add a finished worker's tallies."""
    output = getattr(node, "workeroutput", None) or {}
    if WORKER_KEY in output:
        invariants.merge(output[WORKER_KEY])


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if _is_worker(session.config):
        session.config.workeroutput[WORKER_KEY] = invariants.export()  # type: ignore[attr-defined]
        return
    if not invariants.TALLIES or invariants.profile_name() != invariants.FULL:
        return
    ran = invariants.rows()
    minimum = invariants.FULL_EXAMPLES
    table = invariants.markdown(ran)
    target = os.environ.get("FUZZ_TABLE")
    if target:
        Path(target).parent.mkdir(parents=True, exist_ok=True)
        Path(target).write_text(table, encoding="utf-8")
    with _doc_lock():  # two selections regenerated at once each keep the other's rows
        text = DOC.read_text(encoding="utf-8")
        documented = invariants.doc_rows(text)
        if os.environ.get("FUZZ_UPDATE_DOC") == "1":
            # a target that failed or ran short keeps its documented row (the run fails and says why)
            held = [row for row in ran if not invariants.TALLIES[row[0]].failed and int(row[1]) >= minimum]
            documented = invariants.updated_rows(documented, held)
            text = invariants.replace_table(text, invariants.markdown(documented))
            DOC.write_text(text, encoding="utf-8")
    stale = sorted(set(ran) - set(documented), key=ran.index)
    if stale:
        names = ", ".join(row[0] for row in stale)
        _PROBLEMS.append(
            f"docs/reliability.md's rows differ from this run for: {names}: run "
            "`FUZZ_UPDATE_DOC=1 make fuzz` (FUZZ_ARGS='-k <module>' for some targets) and commit the table"
        )
    listed = [row[0] for row in documented]
    if listed != list(invariants.TARGETS):
        missing = [name for name in invariants.TARGETS if name not in listed]
        _PROBLEMS.append(
            f"docs/reliability.md's table has no row for {missing} or rows in another order than the suite's "
            "targets: run `FUZZ_UPDATE_DOC=1 make fuzz` and commit the table"
        )
    too_few = [row[0] for row in ran if int(row[1]) < minimum]
    if too_few:
        _PROBLEMS.append(f"fewer than {minimum} cases: {too_few}")
    if _PROBLEMS and session.exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    if not invariants.TALLIES or _is_worker(config):
        return
    terminalreporter.section(f"fuzz targets (hypothesis profile {invariants.profile_name()})")
    terminalreporter.write(invariants.markdown(invariants.rows()))
    for problem in _PROBLEMS:
        terminalreporter.write_line(f"FUZZ TABLE: {problem}", red=True)
