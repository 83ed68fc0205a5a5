"""The published table (docs/reliability.md) and the fuzz suite name the same targets.

``make fuzz`` checks the same at the end of its run (tests/fuzz/conftest.py); this test keeps ``make test``
honest too: a target added to the suite without a row in the docs, or a row without a target, fails here.
"""

from __future__ import annotations

import re
from pathlib import Path

from tests.fuzz import invariants

HERE = Path(__file__).resolve().parent
DOC = HERE.parents[1] / "docs" / "reliability.md"


def test_the_documented_table_has_one_row_per_fuzz_target() -> None:
    assert invariants.doc_targets(DOC.read_text(encoding="utf-8")) == list(invariants.TARGETS)


def test_every_registered_target_is_fuzzed_by_a_module() -> None:
    """(A module naming an unregistered target fails when it runs: ``invariants.Case`` refuses it.)"""
    literals: set[str] = set()
    for module in sorted(HERE.glob("test_fuzz_*.py")):
        literals.update(re.findall(r'"([^"\n]+)"', module.read_text(encoding="utf-8")))
    assert set(invariants.TARGETS) - literals == set()


def test_the_documented_counts_meet_the_issue_minimum() -> None:
    section = DOC.read_text(encoding="utf-8").split(invariants.START, 1)[1].split(invariants.END, 1)[0]
    rows = [[cell.strip() for cell in line.strip().strip("|").split("|")] for line in section.splitlines()]
    counts = {row[0]: int(row[1]) for row in rows if row[0] in invariants.TARGETS}
    assert counts and min(counts.values()) >= invariants.FULL_EXAMPLES, counts
