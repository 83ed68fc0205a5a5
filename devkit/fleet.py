"""Synthetic fleet written exactly as SSM resource data sync writes it, with known answers.

Why: the named queries are the product's reporting contract, and the only way to prove them
without an AWS account is to run them over files laid out byte-for-byte like the sync's and
compare with figures known in advance. The generator decides every instance's state first
(terminated, stale, exempt, compliant, missing Critical/Security patches since when...), writes
the four sync types from that state, and returns the figures: tests never re-derive an answer
from the files with the same logic as the SQL.

Layout (one JSON object per line, keys as the sync writes them, see
``components.hub.compliance_tables``)::

    <root>/<prefix>/AWS:ComplianceItem/accountid=<id>/region=<r>/resourcetype=ManagedInstanceInventory/<id>.json
    ... AWS:ComplianceSummary, AWS:InstanceInformation, AWS:Tag

Deterministic: the same spec (seed included) and ``now`` give the same bytes. Every instance
draws from its own RNG seeded by its global index, so the work splits across processes with no
change in the output (large fleets use a process pool: 100,000 instances x 50 items is the bench).

Timing margins: ages are drawn at least two days away from every threshold (7 days stale,
``sla_days``), so a query run minutes or hours after generation gives the same answers.
"""

from __future__ import annotations

import functools
import os
import random
from collections import Counter
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from components.hub.compliance_tables import COMPLIANCE_ITEM, COMPLIANCE_SUMMARY, INSTANCE_INFORMATION, TAG

RESOURCE_TYPE = "ManagedInstanceInventory"
STALE_DAYS = 7
DEFAULT_SLA_DAYS = 30

REGIONS: tuple[str, ...] = (
    "us-east-1",
    "eu-west-1",
    "eu-central-1",
    "us-west-2",
    "ap-southeast-2",
    "ap-northeast-1",
    "ca-central-1",
    "sa-east-1",
    "eu-north-1",
    "ap-south-1",
)

#: (raw tag value or None, canonical environment the reports must show).
_ENVIRONMENT_TAGS: tuple[tuple[str | None, str], ...] = (
    ("Prod", "Prod"),
    ("prod ", "Prod"),
    ("Dev", "Dev"),
    ("DEV", "Dev"),
    ("Test", "Test"),
    (None, "Default"),
    ("staging", "Default"),
)
_EXEMPT_TAGS: tuple[tuple[str, str], ...] = (("install_patch", "no"), ("patch_install", "No"), ("install_patch", " NO"))
#: Tags that make an instance a managed node (its ASG, EKS or ECS patches it), as the tag contract reads them;
#: written as AWS and the orchestrators write them (the generator does not import the contract: its figures are
#: the known answers the report's SQL, rendered from the contract, must reproduce).
#: Only reserved ``aws:`` tags are evidence on an instance (a marker such as ``eks:cluster-name`` is something an
#: owner can write: issue 13 item 6), so every managed node carries one.
_MANAGED_TAGS: tuple[tuple[str, str], ...] = (
    ("aws:autoscaling:groupName", "web-asg"),
    ("aws:eks:cluster-name", "platform"),
    ("aws:eks:nodegroup-name", "general"),
    ("aws:ecs:clusterName", "batch"),
    ("aws:ecs:clusterName", "jobs"),
)
#: Categories of an instance that is not terminated (components/hub/instance_categories.py).
CATEGORIES: tuple[str, ...] = ("compliant", "non_compliant", "unreported", "exempt", "managed_node")

_LINUX = (("Amazon Linux", "2023"), ("Ubuntu", "22.04"), ("Red Hat Enterprise Linux", "9.4"))
_WINDOWS = (("Microsoft Windows Server 2022 Datacenter", "10.0.20348"),)

#: Severity of the compliance item (SSM's ComplianceSeverity) for a vendor PatchSeverity.
_ITEM_SEVERITY = {
    "Critical": "CRITICAL",
    "Important": "HIGH",
    "Medium": "MEDIUM",
    "Moderate": "MEDIUM",
    "Low": "LOW",
    "Unspecified": "UNSPECIFIED",
}
_SEVERITY_COUNT = {
    "CRITICAL": "Critical",
    "HIGH": "High",
    "MEDIUM": "Medium",
    "LOW": "Low",
    "INFORMATIONAL": "Informational",
    "UNSPECIFIED": "Unspecified",
}
_SEVERITY_ORDER = ("CRITICAL", "HIGH", "MEDIUM", "LOW", "INFORMATIONAL", "UNSPECIFIED")


@dataclass(frozen=True)
class Patch:
    """One catalog entry; ``urgent`` = what the SLA query calls Critical or Security."""

    id: str
    title: str
    classification: str
    patch_severity: str

    @property
    def urgent(self) -> bool:
        return self.patch_severity == "Critical" or self.classification in ("Security", "SecurityUpdates")


def _catalog(windows: bool) -> tuple[tuple[Patch, ...], tuple[Patch, ...]]:
    """(urgent patches, other patches) for one platform; ids are stable and unique."""
    urgent: list[Patch] = []
    other: list[Patch] = []
    for n in range(300):
        if windows:
            kb = f"KB{5030000 + n}"
            if n % 3 == 0:
                urgent.append(
                    Patch(kb, f"2026-{n % 12 + 1:02d} Cumulative Update ({kb})", "SecurityUpdates", "Critical")
                )
            elif n % 3 == 1:
                urgent.append(
                    Patch(kb, f"2026-{n % 12 + 1:02d} Security Update ({kb})", "SecurityUpdates", "Important")
                )
            else:
                other.append(Patch(kb, f"Update for Windows Server ({kb})", "Updates", "Unspecified"))
        else:
            name = f"pkg{n:03d}.x86_64"
            if n % 3 == 0:
                urgent.append(Patch(name, f"{name} 1.{n}-1.amzn2023", "Security", "Critical"))
            elif n % 3 == 1:
                urgent.append(Patch(name, f"{name} 2.{n}-1.amzn2023", "Security", "Important"))
            else:
                other.append(Patch(name, f"{name} 3.{n}-1.amzn2023", "Bugfix", "Medium"))
    return tuple(urgent), tuple(other)


_CATALOGS = {False: _catalog(False), True: _catalog(True)}


@dataclass(frozen=True)
class FleetSpec:
    """What to generate. ``instances`` is per account and region; ``items`` per instance."""

    accounts: int = 3
    regions: int = 2
    instances: int = 20
    items: int = 8
    seed: int = 7
    prefix: str = "inventory"
    sla_days: int = DEFAULT_SLA_DAYS
    workers: int = 1

    def problems(self) -> list[str]:
        found = []
        if not 1 <= self.accounts <= 10_000:
            found.append(f"accounts={self.accounts}: must be 1..10000")
        if not 1 <= self.regions <= len(REGIONS):
            found.append(f"regions={self.regions}: must be 1..{len(REGIONS)}")
        if not 1 <= self.instances <= 1_000_000:
            found.append(f"instances={self.instances}: must be 1..1000000")
        if not 2 <= self.items <= 200:
            found.append(
                f"items={self.items}: must be 2..200 (an instance needs room for a missing and an installed patch)"
            )
        if not 3 <= self.sla_days <= 3650:
            found.append(f"sla_days={self.sla_days}: must be 3..3650")
        return found

    def account_ids(self) -> list[str]:
        return [f"{100000000000 + (self.seed % 1000) * 1_000_000 + 1013 * n:012d}" for n in range(self.accounts)]

    def region_names(self) -> list[str]:
        return list(REGIONS[: self.regions])


@dataclass
class Counts:
    """Instances by category in one group (account, region, environment...): the categories add up to
    ``instances``; ``responsible`` (compliant + non-compliant + never scanned) is what the % is over."""

    instances: int = 0
    compliant: int = 0
    non_compliant: int = 0
    unreported: int = 0
    exempt: int = 0
    managed_node: int = 0

    @property
    def responsible(self) -> int:
        return self.compliant + self.non_compliant + self.unreported

    def add(self, category: str) -> None:
        self.instances += 1
        setattr(self, category, getattr(self, category) + 1)

    def merge(self, other: Counts) -> None:
        for name in ("instances", *CATEGORIES):
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass
class FleetFigures:
    """The answers the named queries must give. Terminated instances are in ``terminated`` only.

    ``compliant``/``non_compliant``/``unreported`` count only the instances we are responsible for: an exempt
    instance or a managed node is in ``exempt_ids``/``managed_ids`` whatever its patch status.
    """

    instances: int = 0
    compliant: int = 0
    non_compliant: int = 0
    unreported: int = 0
    terminated: int = 0
    managed_ids: set[str] = field(default_factory=set)
    #: resourceid -> the patch ids whose install failed (PatchState Failed).
    failed: dict[str, list[str]] = field(default_factory=dict)
    stale_ids: set[str] = field(default_factory=set)
    exempt_ids: set[str] = field(default_factory=set)
    sla_breach_ids: set[str] = field(default_factory=set)
    missing_urgent_ids: set[str] = field(default_factory=set)
    #: resourceid -> whole days since the last patch install, for instances missing a Critical patch.
    missing_critical_age: dict[str, int] = field(default_factory=dict)
    non_compliant_items: int = 0
    patch_items: int = 0
    items_written: int = 0
    files_written: int = 0
    per_account: dict[str, Counts] = field(default_factory=dict)
    per_region: dict[str, Counts] = field(default_factory=dict)
    per_environment: dict[str, Counts] = field(default_factory=dict)
    per_platform: dict[str, Counts] = field(default_factory=dict)
    terminated_ids: set[str] = field(default_factory=set)
    instance_ids: set[str] = field(default_factory=set)

    @property
    def stale(self) -> int:
        return len(self.stale_ids)

    @property
    def exempt(self) -> int:
        return len(self.exempt_ids)

    @property
    def sla_breaches(self) -> int:
        return len(self.sla_breach_ids)

    @property
    def managed_node(self) -> int:
        return len(self.managed_ids)

    def merge(self, other: FleetFigures) -> None:
        for name in ("instances", "compliant", "non_compliant", "unreported", "terminated"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for name in ("non_compliant_items", "patch_items", "items_written", "files_written"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.stale_ids |= other.stale_ids
        self.exempt_ids |= other.exempt_ids
        self.managed_ids |= other.managed_ids
        self.failed.update(other.failed)
        self.sla_breach_ids |= other.sla_breach_ids
        self.missing_urgent_ids |= other.missing_urgent_ids
        self.terminated_ids |= other.terminated_ids
        self.instance_ids |= other.instance_ids
        self.missing_critical_age.update(other.missing_critical_age)
        for mine, theirs in (
            (self.per_account, other.per_account),
            (self.per_region, other.per_region),
            (self.per_environment, other.per_environment),
            (self.per_platform, other.per_platform),
        ):
            for key, counts in theirs.items():
                mine.setdefault(key, Counts()).merge(counts)

    def summary(self) -> dict[str, int]:
        """The ``summary`` block ``report.json`` must carry for this fleet."""
        return {"instances": self.instances, "compliant": self.compliant, "non_compliant": self.non_compliant}

    def as_dict(self) -> dict[str, object]:
        """JSON-friendly known figures (what ``python -m devkit fleet`` prints)."""
        return {
            **self.summary(),
            "unreported": self.unreported,
            "terminated": self.terminated,
            "stale": self.stale,
            "exempt": self.exempt,
            "managed_node": self.managed_node,
            "sla_breaches": self.sla_breaches,
            "non_compliant_items": self.non_compliant_items,
            "items_written": self.items_written,
            "files_written": self.files_written,
            "per_account": {k: vars(v) for k, v in sorted(self.per_account.items())},
        }


def _iso(moment: datetime) -> str:
    """``2026-11-23T12:00:00Z``, the sync's format (isoformat is ~10x faster than strftime)."""
    return moment.replace(tzinfo=None).isoformat(timespec="seconds") + "Z"


@functools.cache
def _day(ordinal: int) -> str:
    """``2026-11-23`` for a proleptic Gregorian ordinal (cached: a few thousand distinct days)."""
    return date.fromordinal(ordinal).isoformat()


def _instance_id(seed: int, index: int) -> str:
    # Multiplication by an odd constant is a bijection modulo 2**64: unique ids, random-looking.
    return f"i-0{((index + 1) * 0x9E3779B97F4A7C15 + seed * 0x2545F4914F6CDD1D) & 0xFFFFFFFFFFFFFFFF:016x}"


def _write(path: Path, lines: Iterable[str]) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        handle.write("\n".join(lines))
        handle.write("\n")


def _generate_shard(root: str, spec: FleetSpec, now_iso: str, shard: list[tuple[int, str, str]]) -> FleetFigures:
    """Write every instance of the given (account index, account id, region) cells."""
    now = datetime.strptime(now_iso, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    figures = FleetFigures()
    base = Path(root) / spec.prefix if spec.prefix else Path(root)
    for account_index, account, region in shard:
        region_index = REGIONS.index(region)
        dirs = {}
        for table in (COMPLIANCE_ITEM, COMPLIANCE_SUMMARY, INSTANCE_INFORMATION, TAG):
            directory = (
                base / table.type_name / f"accountid={account}" / f"region={region}" / f"resourcetype={RESOURCE_TYPE}"
            )
            directory.mkdir(parents=True, exist_ok=True)
            dirs[table.type_name] = directory
        cell = (account_index * len(REGIONS) + region_index) * spec.instances
        for n in range(spec.instances):
            _one_instance(spec, now, figures, dirs, account, region, cell + n)
    return figures


def _one_instance(
    spec: FleetSpec,
    now: datetime,
    figures: FleetFigures,
    dirs: dict[str, Path],
    account: str,
    region: str,
    index: int,
) -> None:
    rng = random.Random(spec.seed * 1_000_003 + index)
    iid = _instance_id(spec.seed, index)
    terminated = rng.random() < 0.03
    stopped = not terminated and rng.random() < 0.05
    status_word = "Terminated" if terminated else ("Stopped" if stopped else "Active")
    stale = rng.random() < 0.06
    capture = now - (timedelta(days=rng.randint(STALE_DAYS + 2, 90)) if stale else timedelta(hours=rng.randint(0, 96)))
    capture_iso = _iso(capture)
    windows = rng.random() < 0.3
    platform_name, platform_version = rng.choice(_WINDOWS if windows else _LINUX)
    platform_type = "Windows" if windows else "Linux"
    raw_env, environment = rng.choice(_ENVIRONMENT_TAGS)
    exempt_tag = rng.choice(_EXEMPT_TAGS) if rng.random() < 0.05 else None
    # A second stream for what was added later (managed nodes, failed installs): the first stream's draws,
    # and so every earlier figure of a given seed, stay the same.
    extra = random.Random((spec.seed * 1_000_003 + index) ^ 0x5F3759DF)
    managed_tag = extra.choice(_MANAGED_TAGS) if extra.random() < 0.06 else None
    fail_first_missing = extra.random() < 0.2
    unreported = rng.random() < 0.02
    compliant = not unreported and rng.random() < 0.62
    urgent_missing = not unreported and not compliant and rng.random() < 0.65
    breach = urgent_missing and rng.random() < 0.5
    sla = spec.sla_days
    if breach:
        last_install_days = rng.randint(sla + 2, sla + 400)
    elif urgent_missing:
        last_install_days = rng.randint(0, sla - 2)
    else:
        last_install_days = rng.randint(0, 400)
    last_install = now - timedelta(days=last_install_days, hours=rng.randint(0, 20))

    # --- AWS:InstanceInformation ------------------------------------------------------------
    ip = f"10.{region_index_octet(region)}.{(index >> 8) & 255}.{index & 255}"
    info = (
        f'{{"AgentType":"amazon-ssm-agent","AgentVersion":"3.3.{rng.randint(100, 999)}.0",'
        f'"ComputerName":"ip-{ip.replace(".", "-")}.{region}.compute.internal",'
        f'"IamRole":"InstanceProfileforPatching","InstanceId":"{iid}","InstanceStatus":"{status_word}",'
        f'"IpAddress":"{ip}","PlatformName":"{platform_name}","PlatformType":"{platform_type}",'
        f'"PlatformVersion":"{platform_version}","ResourceType":"EC2Instance","resourceId":"{iid}",'
        f'"captureTime":"{capture_iso}","schemaVersion":"1.0"}}'
    )
    _write(dirs[INSTANCE_INFORMATION.type_name] / f"{iid}.json", (info,))

    # --- AWS:Tag ----------------------------------------------------------------------------
    tags = [("Name", f"app-{index}")]
    if raw_env is not None:
        tags.append(("environment", raw_env))
    if exempt_tag is not None:
        tags.append(exempt_tag)
    elif rng.random() < 0.05:
        tags.append(("install_patch", "yes"))  # a "yes" must never exempt
    if managed_tag is not None:
        tags.append(managed_tag)
    else:
        tags.append(("maintenance_window", f"{environment}_maintenance_window"))
    _write(
        dirs[TAG.type_name] / f"{iid}.json",
        (
            f'{{"Key":"{key}","Value":"{value}","resourceId":"{iid}","captureTime":"{capture_iso}","schemaVersion":"1.0"}}'
            for key, value in tags
        ),
    )

    # --- AWS:ComplianceItem + AWS:ComplianceSummary -----------------------------------------
    urgent_pool, other_pool = _CATALOGS[windows]
    items: list[str] = []
    summary_lines: list[str] = []
    tail = f'"resourceId":"{iid}","captureTime":"{capture_iso}","schemaVersion":"1.0"}}'
    execution_id = f"{index:08x}-{spec.seed & 0xFFFF:04x}-4000-8000-{rng.getrandbits(48):012x}"
    scan_iso = capture_iso
    patch_count = 0
    missing_count = 0
    has_missing_critical = False
    failed_ids: list[str] = []
    if not unreported:
        n_missing = 0 if compliant else rng.randint(1, min(6, spec.items - 1))
        missing: list[Patch] = rng.sample(urgent_pool if urgent_missing else other_pool, n_missing)
        installed = rng.sample(other_pool + urgent_pool, spec.items)
        taken = {patch.id for patch in missing}
        installed = [patch for patch in installed if patch.id not in taken][: spec.items - n_missing]
        counts: Counter[tuple[str, str]] = Counter()
        head = (
            f'{{"ComplianceType":"Patch","ExecutionId":"{execution_id}","ExecutionType":"Command",'
            f'"ExecutionTime":"{scan_iso}",'
        )
        doc = '"DocumentName":"AWS-RunPatchBaseline","DocumentVersion":"1",'
        baseline = f'"PatchBaselineId":"pb-0{index & 0xFFFF:016x}","PatchGroup":"{environment}",'
        failed_ids = [missing[0].id] if missing and fail_first_missing else []
        for patch in missing:
            severity = _ITEM_SEVERITY[patch.patch_severity]
            counts["NonCompliant", severity] += 1
            has_missing_critical = has_missing_critical or patch.patch_severity == "Critical"
            items.append(
                f'{head}"Id":"{patch.id}","Title":"{patch.title}","Status":"NON_COMPLIANT","Severity":"{severity}",'
                f'{doc}"Classification":"{patch.classification}",{baseline}"PatchSeverity":"{patch.patch_severity}",'
                f'"PatchState":"{"Failed" if patch.id in failed_ids else "Missing"}","InstalledTime":"",{tail}'
            )
        # The first installed patch carries the last install time; the others are 1..600 days
        # older, same time of day (dates from a cache: this loop runs 5 million times in the bench).
        last_ordinal = last_install.toordinal()
        time_of_day = last_install.strftime("T%H:%M:%SZ")
        for position, patch in enumerate(installed):
            severity = _ITEM_SEVERITY[patch.patch_severity]
            counts["Compliant", severity] += 1
            ordinal = last_ordinal if position == 0 else last_ordinal - 1 - int(rng.random() * 600)
            state = "Installed" if position % 4 else "InstalledOther"
            items.append(
                f'{head}"Id":"{patch.id}","Title":"{patch.title}","Status":"COMPLIANT","Severity":"{severity}",'
                f'{doc}"Classification":"{patch.classification}",{baseline}"PatchSeverity":"{patch.patch_severity}",'
                f'"PatchState":"{state}","InstalledTime":"{_day(ordinal)}{time_of_day}",{tail}'
            )
        patch_count = len(items)
        missing_count = len(missing)
        status = "NON_COMPLIANT" if missing else "COMPLIANT"
        overall = next((s for s in _SEVERITY_ORDER if counts["NonCompliant", s]), "UNSPECIFIED")
        count_fields = ",".join(
            f'"{kind}{_SEVERITY_COUNT[s]}Count":"{counts[kind, s]}"'
            for kind in ("Compliant", "NonCompliant")
            for s in _SEVERITY_ORDER
        )
        summary_lines.append(
            f'{{"ComplianceType":"Patch","PatchGroup":"{environment}","PatchBaselineId":"pb-0{index & 0xFFFF:016x}",'
            f'"Status":"{status}","OverallSeverity":"{overall}","ExecutionId":"{execution_id}",'
            f'"ExecutionType":"Command","ExecutionTime":"{scan_iso}",{count_fields},{tail}'
        )
    else:
        status = "UNREPORTED"
    if index % 5 == 0:
        # Association compliance lives in the same files: every query must filter on Patch.
        items.append(
            f'{{"ComplianceType":"Association","ExecutionId":"{execution_id}","ExecutionType":"Command",'
            f'"ExecutionTime":"{scan_iso}","Id":"assoc-{index}","Title":"AWS-GatherSoftwareInventory",'
            f'"Status":"NON_COMPLIANT","Severity":"UNSPECIFIED","DocumentName":"AWS-GatherSoftwareInventory",'
            f'"DocumentVersion":"1",{tail}'
        )
        summary_lines.append(
            f'{{"ComplianceType":"Association","Status":"NON_COMPLIANT","OverallSeverity":"UNSPECIFIED",'
            f'"ExecutionId":"{execution_id}","ExecutionType":"Command","ExecutionTime":"{scan_iso}",{tail}'
        )
    if items:
        _write(dirs[COMPLIANCE_ITEM.type_name] / f"{iid}.json", items)
        figures.files_written += 1
    if summary_lines:
        _write(dirs[COMPLIANCE_SUMMARY.type_name] / f"{iid}.json", summary_lines)
        figures.files_written += 1
    figures.files_written += 2
    figures.items_written += len(items)

    # --- known answers ----------------------------------------------------------------------
    if terminated:
        figures.terminated += 1
        figures.terminated_ids.add(iid)
        return
    figures.instances += 1
    figures.instance_ids.add(iid)
    if exempt_tag is not None:
        category = "exempt"  # the contract: an exemption wins over "managed elsewhere"
    elif managed_tag is not None:
        category = "managed_node"
        figures.managed_ids.add(iid)
    else:
        category = {"COMPLIANT": "compliant", "NON_COMPLIANT": "non_compliant"}.get(status, "unreported")
        setattr(figures, category, getattr(figures, category) + 1)
    for group, key in (
        (figures.per_account, account),
        (figures.per_region, region),
        (figures.per_environment, environment),
        (figures.per_platform, platform_type),
    ):
        group.setdefault(key, Counts()).add(category)
    if failed_ids:
        figures.failed[iid] = failed_ids
    figures.patch_items += patch_count
    figures.non_compliant_items += missing_count
    if stale:
        figures.stale_ids.add(iid)
    if exempt_tag is not None:
        figures.exempt_ids.add(iid)
    if urgent_missing:
        figures.missing_urgent_ids.add(iid)
    if breach:
        figures.sla_breach_ids.add(iid)
    if has_missing_critical:
        figures.missing_critical_age[iid] = last_install_days


def region_index_octet(region: str) -> int:
    """Second octet of the synthetic private address: one per region, stable."""
    return REGIONS.index(region) + 1


def generate_fleet(root: Path, spec: FleetSpec, now: datetime | None = None) -> FleetFigures:
    """Write the fleet under ``root`` (created; existing files with the same names are replaced).

    ``now`` anchors every age (default: the current time, to the second). Returns the known
    figures. ``spec.workers`` > 1 splits the (account, region) cells over processes.
    """
    problems = spec.problems()
    if problems:
        raise ValueError("; ".join(problems))
    moment = (now or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
    cells = [
        (account_index, account, region)
        for account_index, account in enumerate(spec.account_ids())
        for region in spec.region_names()
    ]
    root.mkdir(parents=True, exist_ok=True)
    figures = FleetFigures()
    workers = max(1, min(spec.workers, len(cells), os.cpu_count() or 1))
    if workers == 1:
        figures.merge(_generate_shard(str(root), spec, _iso(moment), cells))
        return figures
    shards = [cells[n::workers] for n in range(workers)]
    with ProcessPoolExecutor(max_workers=workers) as pool:
        for part in pool.map(
            _generate_shard, [str(root)] * workers, [spec] * workers, [_iso(moment)] * workers, shards
        ):
            figures.merge(part)
    return figures
