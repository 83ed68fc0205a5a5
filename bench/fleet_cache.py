"""A generated bench fleet kept between runs, keyed by its spec and the generator's source, outside git.

Why: generating 100,000 instances x 50 items (about 400,000 files) takes minutes on the shared 2-vCPU box,
longer than the report it measures; re-measuring the report after a change must not pay it again. The fleet
is written once under ``<cache>/<key>/bucket`` with its known figures in ``<key>/fleet.json`` (written last:
a directory without it is an interrupted generation and is generated again).

A cached fleet expires: every age in it is relative to the moment it was generated, and the generator keeps
each age at least two days away from every threshold (``devkit/fleet.py``), so after :data:`MAX_AGE` it is
generated again rather than risk a known answer drifting. The key holds a hash of ``devkit/fleet.py`` and of
the compliance tables' layout, so a change to the generator never reuses an old fleet.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import components.hub.compliance_tables as compliance_tables
import devkit.fleet as fleet_module
from devkit.fleet import FleetSpec, generate_fleet

#: How long a cached fleet answers as generated (the generator's margins are two days).
MAX_AGE = timedelta(hours=24)
#: Environment variable naming the cache directory (default: :func:`default_cache_dir`).
CACHE_ENV = "ORG_PATCHING_BENCH_CACHE"
_META = "fleet.json"


@dataclass(frozen=True)
class CachedFleet:
    """One generated fleet: where its sync files are and what the report must say about them."""

    root: Path
    generated_at: str
    generation_seconds: float
    files_written: int
    items_written: int
    #: What ``report.json``'s summary must hold (the generator's known answers).
    known: dict[str, int]
    reused: bool


def default_cache_dir() -> Path:
    """``$ORG_PATCHING_BENCH_CACHE``, else ``$XDG_CACHE_HOME/org-patching/bench-fleets`` (``~/.cache/...``)."""
    if configured := os.environ.get(CACHE_ENV):
        return Path(configured)
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "org-patching" / "bench-fleets"


def fleet_key(spec: FleetSpec) -> str:
    """``<accounts>a-<regions>r-<instances>i-<items>n-seed<seed>-<generator hash>``: one directory per fleet."""
    digest = hashlib.sha256()
    for module in (fleet_module, compliance_tables):
        digest.update(Path(str(module.__file__)).read_bytes())
    digest.update(json.dumps([spec.prefix, spec.sla_days]).encode())
    return f"{spec.accounts}a-{spec.regions}r-{spec.instances}i-{spec.items}n-seed{spec.seed}-{digest.hexdigest()[:12]}"


def _load(directory: Path, now: datetime) -> CachedFleet | None:
    try:
        meta = json.loads((directory / _META).read_text(encoding="utf-8"))
        generated = datetime.fromisoformat(meta["generated_at"])
    except (OSError, ValueError, KeyError):
        return None
    if not timedelta(0) <= now - generated <= MAX_AGE or not (directory / "bucket").is_dir():
        return None
    return CachedFleet(
        root=directory / "bucket",
        generated_at=meta["generated_at"],
        generation_seconds=float(meta["generation_seconds"]),
        files_written=int(meta["files_written"]),
        items_written=int(meta["items_written"]),
        known={key: int(value) for key, value in meta["known"].items()},
        reused=True,
    )


def _expired(directory: Path, now: datetime) -> bool:
    """A fleet past :data:`MAX_AGE`, or a generation that never finished (no ``fleet.json``) and is that old."""
    if (directory / _META).is_file():
        return _load(directory, now) is None
    try:
        return time.time() - directory.stat().st_mtime > MAX_AGE.total_seconds()
    except OSError:
        return False


def cached_fleet(spec: FleetSpec, cache_dir: Path, now: datetime | None = None) -> CachedFleet:
    """The fleet of ``spec`` from ``cache_dir``, generated there first when absent or expired.

    A generation goes to its own directory and is renamed into place once its ``fleet.json`` is written, so an
    interrupted run or two benches started at once never leave a half-written fleet under the key.
    """
    moment = (now or datetime.now(UTC)).replace(microsecond=0)
    directory = cache_dir / fleet_key(spec)
    if (found := _load(directory, moment)) is not None:
        return found
    cache_dir.mkdir(parents=True, exist_ok=True)
    # Expired fleets of any key go: the cache keeps only what a bench can still use.
    for old in cache_dir.iterdir():
        if old.is_dir() and _expired(old, moment):
            shutil.rmtree(old, ignore_errors=True)
    building = cache_dir / f".{directory.name}.{os.getpid()}"
    shutil.rmtree(building, ignore_errors=True)
    try:
        started = time.perf_counter()
        figures = generate_fleet(building / "bucket", spec, now=moment)
        seconds = time.perf_counter() - started
        known = {**figures.summary(), "unreported": figures.unreported, "exempt": figures.exempt}
        meta = {
            "generated_at": moment.isoformat(),
            "generation_seconds": seconds,
            "files_written": figures.files_written,
            "items_written": figures.items_written,
            "known": known,
        }
        (building / _META).write_text(json.dumps(meta, indent=1) + "\n", encoding="utf-8")
        shutil.rmtree(directory, ignore_errors=True)  # an expired fleet of the same key
        building.rename(directory)
    finally:
        shutil.rmtree(building, ignore_errors=True)
    fleet = _load(directory, moment)
    if fleet is None:
        raise RuntimeError(f"{directory}: the fleet just generated is not readable")
    return CachedFleet(**{**asdict(fleet), "root": directory / "bucket", "reused": False})
