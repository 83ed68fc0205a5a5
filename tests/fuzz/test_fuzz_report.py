"""Fuzz ``patchctl report --source`` over a resource data sync copy with damaged files.

Each case copies a small valid sync layout and damages it: truncated and malformed JSON lines, lines that are
not objects, non-UTF-8 bytes, missing or extra fields, unknown schema versions, huge values, empty files and
empty partitions. The invariant: the report either succeeds and states exactly what it skipped, per type with
counts (``report.json`` and one stdout line per type), or refuses with one line on stderr (exit 1 or 2).
"""

from __future__ import annotations

import contextlib
import io
import json
import shutil
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from devkit.fleet import FleetSpec, generate_fleet
from patchctl import cli
from tests.fuzz import invariants, strategies

TARGET = "report reader (resource data sync copy)"
TYPES = ("AWS:InstanceInformation", "AWS:Tag", "AWS:ComplianceItem", "AWS:ComplianceSummary")
SPEC = FleetSpec(accounts=1, regions=1, instances=3, items=2, seed=5, prefix="")
UNREADABLE, UNKNOWN_VERSION = "unreadable lines", "unknown schemaVersion"

#: damage kind -> the reason the report must give for skipping the line (None: the line is still used)
DAMAGES: dict[str, str | None] = {
    "truncate": UNREADABLE,
    "garbage": UNREADABLE,
    "non-utf8": UNREADABLE,
    "array": UNREADABLE,
    "scalar": UNREADABLE,
    "unknown-version": UNKNOWN_VERSION,
    "extra-field": None,
    "missing-field": None,
    "huge-value": None,
    "empty-file": None,
    "empty-partition": None,
}


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("sync-template")
    generate_fleet(root, SPEC)
    return root


def _files(root: Path, type_name: str) -> list[Path]:
    return sorted((root / type_name).glob("*/*/*/*.json"))


def _damage(template: Path, root: Path, n: int, type_name: str, kind: str, pick: int, value: Any) -> None:
    """Add one damaged line (or file, or directory) to ``type_name``'s data under ``root``."""
    files = _files(template, type_name)
    source = files[pick % len(files)]
    original = json.loads(source.read_text(encoding="utf-8").splitlines()[0])
    directory = root / source.parent.relative_to(template)
    directory.mkdir(parents=True, exist_ok=True)
    name = f"fuzz-{n}-{kind}.json"  # one file per damage: two damages never overwrite each other
    line: bytes
    if kind == "empty-file":
        (directory / name).write_bytes(b"")
        return
    if kind == "empty-partition":
        (root / type_name / "accountid=999999999999" / "region=eu-west-1" / "resourcetype=x").mkdir(
            parents=True, exist_ok=True
        )
        return
    text = json.dumps(original)
    if kind == "truncate":
        line = text[: 1 + pick % (len(text) - 1)].encode()
    elif kind == "garbage":
        line = ("{" + str(value)).encode()
    elif kind == "non-utf8":
        line = text.replace('"resourceId": "', '"resourceId": "\udcff', 1).encode("utf-8", "surrogateescape")
    elif kind == "array":
        line = json.dumps([original, value]).encode()
    elif kind == "scalar":
        line = json.dumps(value if not isinstance(value, (dict, list)) else 0).encode()
    elif kind == "unknown-version":
        line = json.dumps({**original, "schemaVersion": "9.9"}).encode()
    elif kind == "extra-field":
        line = json.dumps({**original, "fuzzField": value}).encode()
    elif kind == "missing-field":
        line = json.dumps({k: v for k, v in original.items() if k in ("resourceId", "schemaVersion")}).encode()
    else:  # huge-value
        line = json.dumps({**original, "captureTime": "9" * 100_000}).encode()
    (directory / name).write_bytes(line + b"\n")


damages = st.lists(
    st.tuples(st.sampled_from(TYPES), st.sampled_from(sorted(DAMAGES)), st.integers(0, 50), strategies.json_scalars),
    max_size=5,
)


def _run(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main(argv)
    return code, out.getvalue(), err.getvalue()


@invariants.fuzz_settings(quick_examples=10)
@given(damage=damages, drop_anchor=st.integers(0, 20))
@example(damage=[("AWS:Tag", "non-utf8", 0, None), ("AWS:Tag", "truncate", 3, None)], drop_anchor=1)
@example(damage=[("AWS:InstanceInformation", "unknown-version", 0, None)], drop_anchor=1)
@example(damage=[], drop_anchor=0)
@example(damage=[("AWS:Tag", "array", 0, None), ("AWS:Tag", "array", 0, None)], drop_anchor=1)
def test_report_reader(
    template: Path, tmp_path_factory: pytest.TempPathFactory, damage: list[Any], drop_anchor: int
) -> None:
    case = invariants.case(TARGET)
    work = tmp_path_factory.mktemp("sync")
    root = work / "bucket"
    shutil.copytree(template, root)
    if drop_anchor == 0:  # no InstanceInformation at all: an empty copy must be refused, not reported as empty
        for path in _files(root, "AWS:InstanceInformation"):
            path.unlink()
    expected: Counter[tuple[str, str]] = Counter()
    for n, (type_name, kind, pick, value) in enumerate(damage):
        _damage(template, root, n, type_name, kind, pick, value)
        reason = DAMAGES[kind]
        if reason is not None:
            expected[type_name, reason] += 1
    try:
        code, out, err = _run(["report", "--source", str(root), "--out", str(work / "out")])
    except Exception as error:
        case.check(invariants.NO_ESCAPE, False, f"{type(error).__name__}: {error}")
        raise
    case.check(invariants.NO_ESCAPE, code in (0, 1, 2), (code, err))
    if code != 0:
        case.check(invariants.SKIPS_COUNTED, invariants.one_line(err), err)
        return
    document = json.loads((work / "out" / "report.json").read_text(encoding="utf-8"))
    stated = Counter({(t, r): n for t, reasons in document["skipped"].items() for r, n in reasons.items()})
    lines = [line for line in out.splitlines() if line.startswith("report: skipped in ")]
    case.check(
        invariants.SKIPS_COUNTED,
        stated == expected and len(lines) == len(document["skipped"]),
        (dict(expected), dict(stated), lines),
    )
