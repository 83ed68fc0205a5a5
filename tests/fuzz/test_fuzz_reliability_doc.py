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


def test_a_selection_rewrites_only_the_rows_of_the_targets_it_ran() -> None:
    """``FUZZ_UPDATE_DOC=1 make fuzz FUZZ_ARGS='-k ...'``: the other rows stay, in the registry's order."""
    first, second, third = list(invariants.TARGETS)[:3]
    documented = [(first, "501", "old"), (third, "502", "old"), ("a target no longer fuzzed", "500", "gone")]
    updated = invariants.updated_rows(documented, [(second, "503", "new"), (third, "504", "new")])
    assert updated == [(first, "501", "old"), (second, "503", "new"), (third, "504", "new")]
    table = invariants.markdown(updated)
    assert invariants.doc_rows(f"x\n{invariants.START}\n{table}{invariants.END}\ny") == updated


def test_the_counts_of_xdist_workers_add_up() -> None:
    """Each worker hands its tallies to the controller as JSON; a target run on two workers adds up."""
    target = next(iter(invariants.TARGETS))
    one = invariants.Tally(cases=3)
    one.held.update({invariants.NO_ESCAPE: 3})
    two = invariants.Tally(cases=2)
    two.held.update({invariants.NO_ESCAPE: 1})
    two.failed.update({invariants.NO_ESCAPE: 1})
    merged: dict[str, invariants.Tally] = {}
    for tallies in ({target: one}, {target: two}):
        invariants.merge(invariants.export(tallies), merged)
    assert merged[target].cases == 5
    assert (merged[target].held[invariants.NO_ESCAPE], merged[target].failed[invariants.NO_ESCAPE]) == (4, 1)
