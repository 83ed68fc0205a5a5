"""The fuzz suite's pytest plugin: print the per-target table at the end of the session.

``make fuzz`` (``FUZZ_PROFILE=fuzz``) runs every target with at least 500 cases, prints the table, writes it as
Markdown to ``$FUZZ_TABLE`` (when set) and fails the session when the targets it ran are not the rows of the
table in ``docs/reliability.md``. ``FUZZ_UPDATE_DOC=1`` rewrites that table from the run instead.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from tests.fuzz import invariants

DOC = Path(__file__).resolve().parents[2] / "docs" / "reliability.md"
_PROBLEMS: list[str] = []


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if not invariants.TALLIES or invariants.profile_name() != invariants.FULL:
        return
    table_rows = invariants.rows()
    table = invariants.markdown(table_rows)
    target = os.environ.get("FUZZ_TABLE")
    if target:
        Path(target).parent.mkdir(parents=True, exist_ok=True)
        Path(target).write_text(table, encoding="utf-8")
    if os.environ.get("FUZZ_UPDATE_DOC") == "1":
        DOC.write_text(invariants.replace_table(DOC.read_text(encoding="utf-8"), table), encoding="utf-8")
    ran = [row[0] for row in table_rows]
    documented = invariants.doc_targets(DOC.read_text(encoding="utf-8"))
    if ran != documented:
        _PROBLEMS.append(
            f"docs/reliability.md lists {documented} but this run fuzzed {ran}: "
            "run `FUZZ_UPDATE_DOC=1 make fuzz` and commit the table"
        )
    too_few = [row[0] for row in table_rows if int(row[1]) < invariants.FULL_EXAMPLES]
    if too_few:
        _PROBLEMS.append(f"fewer than {invariants.FULL_EXAMPLES} cases: {too_few}")
    if _PROBLEMS and session.exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    if not invariants.TALLIES:
        return
    terminalreporter.section(f"fuzz targets (hypothesis profile {invariants.profile_name()})")
    terminalreporter.write(invariants.markdown(invariants.rows()))
    for problem in _PROBLEMS:
        terminalreporter.write_line(f"FUZZ TABLE: {problem}", red=True)
