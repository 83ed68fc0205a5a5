"""Helpers shared by the reporting tests (imported as ``tests.report.helpers``)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from devkit.fleet import FleetFigures, FleetSpec
from patchctl.report.queries import QueryResult

#: Small but with every case present (terminated, stale, exempt, never scanned, SLA breaches,
#: Association items beside Patch items, several accounts, regions, environments, platforms).
SPEC = FleetSpec(accounts=3, regions=2, instances=60, items=8, seed=11, prefix="inventory/org")


@dataclass
class Fleet:
    root: Path
    spec: FleetSpec
    figures: FleetFigures


def records(result: QueryResult) -> list[dict[str, Any]]:
    return [dict(zip(result.columns, row, strict=True)) for row in result.rows]
