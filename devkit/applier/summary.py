"""What an apply left in the emulator, counted from moto's state (each resource read back
with its type's describe call), not from the applier's own bookkeeping."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import TextIO

from devkit.emulator import Emulator

from .engine import Applied, AppliedResource
from .registry import REGISTRY


def read_back(emu: Emulator, resource: AppliedResource) -> object:
    """The resource's description from the emulator (``None``: it is not there)."""
    mapping = REGISTRY[resource.type]
    session = emu.session(resource.account, resource.region)
    return mapping.read(session, resource.id, resource.outputs)


def count_in_emulator(emu: Emulator, applied: Iterable[Applied]) -> tuple[Counter[tuple[str, str]], list[str]]:
    """``(location, type) -> count`` of the resources found again, and the URNs not found."""
    found: Counter[tuple[str, str]] = Counter()
    missing: list[str] = []
    for stack in applied:
        for resource in stack.resources.values():
            if read_back(emu, resource) is None:
                missing.append(resource.urn)
            else:
                found[(resource.location, resource.type)] += 1
    return found, missing


def print_summary(emu: Emulator, applied: Iterable[Applied], out: TextIO) -> int:
    """Counts per account-region and type; returns the number of resources not found."""
    stacks = list(applied)
    found, missing = count_in_emulator(emu, stacks)
    for location in sorted({loc for loc, _ in found}):
        rows = sorted((t, n) for (loc, t), n in found.items() if loc == location)
        print(f"{location}: {sum(n for _, n in rows)} resources", file=out)
        for type_token, count in rows:
            print(f"  {count:4d}  {type_token}", file=out)
    total = sum(found.values())
    print(f"total: {total} resources in the emulator, {len(missing)} missing", file=out)
    for urn in missing:
        print(f"  missing: {urn}", file=out)
    return len(missing)
