"""What a report directory says, reduced to digests, so two runs of the report can be compared cheaply.

Why: the bench runs today's report and, with ``--baseline``, an earlier revision's over the same 100,000-
instance fleet; a speed-up only counts if both wrote the same CSVs and the same ``report.json``. The CSVs
hold millions of rows (over a gigabyte), so each is reduced to its row count and two digests: one of the
rows in order (the sorted queries must agree row for row) and one of the rows as a multiset (a sum of
per-row hashes), the only thing an unsorted query defines. ``report.json`` is compared without what changes
run to run: each query's ``seconds``, ``generated_at``, and the sample ``rows`` of an unsorted query (its
first rows are whichever the engine produced first).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

_MASK = (1 << 64) - 1


def csv_digest(path: Path) -> dict[str, Any]:
    """``{"rows", "ordered", "multiset"}`` of one CSV (header included in both digests)."""
    ordered = hashlib.blake2b(digest_size=16)
    multiset = 0
    rows = 0
    with open(path, "rb") as handle:
        for line in handle:
            ordered.update(line)
            multiset = (multiset + int.from_bytes(hashlib.blake2b(line, digest_size=8).digest(), "little")) & _MASK
            rows += 1
    return {"rows": rows, "ordered": ordered.hexdigest(), "multiset": f"{multiset:016x}"}


def comparable_document(document: dict[str, Any], unsorted: set[str]) -> dict[str, Any]:
    """``report.json`` without what legitimately differs between two runs over the same files."""
    queries = {}
    for name, query in document.get("queries", {}).items():
        kept = {key: value for key, value in query.items() if key != "seconds"}
        if name in unsorted:
            kept["rows"] = len(query.get("rows", []))
        queries[name] = kept
    return {**{k: v for k, v in document.items() if k not in ("generated_at", "queries")}, "queries": queries}


def report_digest(out: Path, unsorted: set[str]) -> dict[str, Any]:
    """Every CSV's digests (the multiset one only for ``unsorted`` queries) and ``report.json``'s digest."""
    csvs = {}
    for path in sorted(out.glob("*.csv")):
        digest = csv_digest(path)
        if path.stem in unsorted:
            digest.pop("ordered")
        csvs[path.name] = digest
    document = json.loads((out / "report.json").read_text(encoding="utf-8"))
    text = json.dumps(comparable_document(document, unsorted), sort_keys=True).encode()
    return {"csv": csvs, "report.json": hashlib.blake2b(text, digest_size=16).hexdigest()}


def differences(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    """One line per file whose digest differs between two :func:`report_digest` results."""
    lines = []
    for name in sorted(set(before["csv"]) | set(after["csv"])):
        if before["csv"].get(name) != after["csv"].get(name):
            lines.append(f"{name}: {before['csv'].get(name)} != {after['csv'].get(name)}")
    if before["report.json"] != after["report.json"]:
        lines.append("report.json differs (beyond seconds, generated_at and unsorted queries' sample rows)")
    return lines
