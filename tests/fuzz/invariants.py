"""What the fuzz suite measures: the targets, their invariants, and the tally printed by ``make fuzz``.

Why one registry: ``docs/reliability.md`` publishes a table with one row per target, ``make fuzz`` prints the
same table from the counts of the run, and ``test_fuzz_reliability_doc.py`` checks that both name the same
targets. A target module declares its name here and counts every case it runs through :func:`case`.

Counts are real: ``cases`` is the number of inputs the handler was called with (hypothesis' generated and
explicit examples), and each invariant counts the cases in which it was checked and held. A case in which an
invariant fails raises, so the test fails and the table is never printed as all-green.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from hypothesis import HealthCheck, settings

#: The invariants, by short name (the column text of the table).
NO_ESCAPE = "no undocumented exception"
ZERO_WRITES = "zero AWS writes on invalid input"
ALWAYS_ANSWERS = "CloudFormation always answered"
SKIPS_COUNTED = "skips stated with counts, or one-line refusal"
PACK_NO_CRASH = "pack never crashes the preview"
EXIT_CODES = "exit 0/1/2, never a traceback"
ONE_LINE = "bad input named in one line"
WELL_FORMED = "accepted input is well-formed"
NO_CLAIM = "no dedupe claim for invalid input"

#: Every fuzz target, in table order, with the invariants it checks.
TARGETS: dict[str, tuple[str, ...]] = {
    "lambda tag_remediation (Config/EventBridge/scheduled events)": (NO_ESCAPE, ZERO_WRITES),
    "lambda window_tagging (custom resource events)": (NO_ESCAPE, ZERO_WRITES, ALWAYS_ANSWERS),
    "lambda override_list": (NO_ESCAPE, ZERO_WRITES, ONE_LINE),
    "lambda emergency_validate": (NO_ESCAPE, ONE_LINE),
    "lambda patch_events (forwarded EventBridge events)": (NO_ESCAPE, ZERO_WRITES, ONE_LINE, WELL_FORMED),
    "lambda failure_alerts (failure events)": (NO_ESCAPE, ZERO_WRITES, NO_CLAIM),
    "lambda pre_patch_notices (scheduled events)": (NO_ESCAPE, ZERO_WRITES, ONE_LINE, NO_CLAIM),
    "lambda emergency_approval (gate actions)": (NO_ESCAPE, ZERO_WRITES, ONE_LINE),
    "emergency request model (plan)": (NO_ESCAPE, ONE_LINE, WELL_FORMED),
    "config loader: central stack": (NO_ESCAPE, ONE_LINE, WELL_FORMED),
    "config loader: child stack": (NO_ESCAPE, ONE_LINE, WELL_FORMED),
    "config loader: stack file (YAML bytes)": (NO_ESCAPE, ONE_LINE),
    "config loader: admin stack": (NO_ESCAPE, ONE_LINE),
    "report reader (resource data sync copy)": (NO_ESCAPE, SKIPS_COUNTED),
    "policy pack (checked resource types)": (PACK_NO_CRASH,),
    "patchctl CLI arguments": (EXIT_CODES,),
}

#: ``make fuzz`` sets ``FUZZ_PROFILE=fuzz``; ``make test`` runs the quick default.
PROFILE_ENV = "FUZZ_PROFILE"
QUICK, FULL = "fuzz-quick", "fuzz"
#: At least this many cases per target in ``make fuzz`` (issue 18).
FULL_EXAMPLES = 500

_COMMON: dict[str, Any] = {
    "deadline": None,  # the machine is shared: wall-clock deadlines would only make the suite flaky
    "derandomize": True,  # the same cases on every machine, so the published counts can be regenerated
    "database": None,
    "print_blob": True,
    "suppress_health_check": [
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.function_scoped_fixture,  # the emulator is shared by the examples of one test on purpose
        HealthCheck.filter_too_much,
    ],
}
settings.register_profile(QUICK, max_examples=12, **_COMMON)
settings.register_profile(FULL, max_examples=FULL_EXAMPLES, **_COMMON)


def profile_name() -> str:
    name = os.environ.get(PROFILE_ENV, QUICK)
    if name not in (QUICK, FULL):
        raise ValueError(f"{PROFILE_ENV}={name!r}: expected {QUICK!r} or {FULL!r}")
    return name


def fuzz_settings(quick_examples: int | None = None) -> settings:
    """The settings of one target: the active profile, with a per-target size for the quick one (slow targets
    run fewer examples in ``make test``; ``make fuzz`` always runs :data:`FULL_EXAMPLES`)."""
    name = profile_name()
    base = settings.get_profile(name)
    if name == QUICK and quick_examples is not None:
        return settings(base, max_examples=quick_examples)
    return settings(base)


@dataclass
class Tally:
    """Counts of one target."""

    cases: int = 0
    held: Counter[str] = field(default_factory=Counter)
    failed: Counter[str] = field(default_factory=Counter)


TALLIES: dict[str, Tally] = {}


def export(tallies: dict[str, Tally] | None = None) -> str:
    """The tallies as JSON: how a pytest-xdist worker hands its counts to the controller (``workeroutput``)."""
    tallies = TALLIES if tallies is None else tallies
    return json.dumps(
        {name: {"cases": t.cases, "held": dict(t.held), "failed": dict(t.failed)} for name, t in tallies.items()}
    )


def merge(text: str, into: dict[str, Tally] | None = None) -> None:
    """Add a worker's :func:`export` to ``into`` (a target's tests may run on several workers: counts add up)."""
    into = TALLIES if into is None else into
    for name, counts in json.loads(text).items():
        tally = into.setdefault(name, Tally())
        tally.cases += int(counts["cases"])
        tally.held.update({k: int(v) for k, v in counts["held"].items()})
        tally.failed.update({k: int(v) for k, v in counts["failed"].items()})


class Case:
    """One input given to a target: ``check`` records an invariant as held, or raises AssertionError."""

    def __init__(self, target: str) -> None:
        if target not in TARGETS:
            raise KeyError(f"fuzz target {target!r} is not in tests/fuzz/invariants.py TARGETS")
        self.target = target
        self.tally = TALLIES.setdefault(target, Tally())
        self.tally.cases += 1

    def check(self, invariant: str, holds: bool, detail: object = "") -> None:
        if invariant not in TARGETS[self.target]:
            raise KeyError(f"{invariant!r} is not an invariant of {self.target!r}")
        if not holds:
            self.tally.failed[invariant] += 1
            raise AssertionError(f"{self.target}: invariant {invariant!r} broken: {detail}")
        self.tally.held[invariant] += 1


def case(target: str) -> Case:
    return Case(target)


def one_line(message: str) -> bool:
    """An error message the user can act on: one non-empty line."""
    return bool(message.strip()) and "\n" not in message.strip()


# --------------------------------------------------------------------------- the table


HEADER = ("entry point", "cases tried", "invariants held (cases checked)")


def rows(tallies: dict[str, Tally] | None = None) -> list[tuple[str, str, str]]:
    """One row per target that ran, in registry order."""
    tallies = TALLIES if tallies is None else tallies
    out = []
    for target, invariants in TARGETS.items():
        tally = tallies.get(target)
        if tally is None:
            continue
        cells = []
        for invariant in invariants:
            failed = tally.failed[invariant]
            mark = f"{tally.held[invariant]}" + (f", FAILED {failed}" if failed else "")
            cells.append(f"{invariant} ({mark})")
        out.append((target, str(tally.cases), "; ".join(cells)))
    return out


def markdown(table_rows: list[tuple[str, str, str]]) -> str:
    lines = ["| " + " | ".join(HEADER) + " |", "|---|---:|---|"]
    lines += ["| " + " | ".join(row) + " |" for row in table_rows]
    return "\n".join(lines) + "\n"


START, END = "<!-- fuzz-table:start -->", "<!-- fuzz-table:end -->"


def doc_rows(text: str) -> list[tuple[str, str, str]]:
    """The rows of the table between the markers in ``docs/reliability.md``, in their order."""
    if START not in text or END not in text:
        raise ValueError(f"docs/reliability.md: no {START} ... {END} section")
    section = text.split(START, 1)[1].split(END, 1)[0]
    found = []
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if not line.strip().startswith("|") or cells[0] in (HEADER[0], "") or set(cells[0]) <= {"-", ":"}:
            continue
        found.append((cells[0], cells[1] if len(cells) > 1 else "", cells[2] if len(cells) > 2 else ""))
    return found


def doc_targets(text: str) -> list[str]:
    """The targets (first column) of the table between the markers in ``docs/reliability.md``."""
    return [row[0] for row in doc_rows(text)]


def updated_rows(documented: list[tuple[str, str, str]], ran: list[tuple[str, str, str]]) -> list[tuple[str, str, str]]:
    """The documented table with the rows of the targets that ran replaced (a run of some targets, e.g. with
    ``-k``, keeps the others' rows), in registry order; rows of targets no longer registered are dropped."""
    by_target = {row[0]: row for row in documented} | {row[0]: row for row in ran}
    return [by_target[target] for target in TARGETS if target in by_target]


def replace_table(text: str, table: str) -> str:
    """``text`` with the section between the markers replaced by ``table``."""
    head, rest = text.split(START, 1)
    tail = rest.split(END, 1)[1]
    return f"{head}{START}\n{table}{END}{tail}"
