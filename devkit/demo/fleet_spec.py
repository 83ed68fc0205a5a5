"""The demo's fleet, declared with what the product must do to each kind of instance.

Each kind carries the tags an app team launches it with and the outcome the tag contract
(``policies/tag_contract.py``) and the maintenance windows must give it. The demo's test derives
its exact expected figures from this table and the counts, never from what the demo counted.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass


@dataclass(frozen=True)
class Kind:
    """One kind of instance: its launch tags and its expected fate.

    ``sweep``: ``"tagged"`` (the sweep writes its tags), ``"right"`` (already right, no write) or
    ``"skipped"`` (the contract leaves it alone). ``patch_group``: the canonical environment the
    contract gives it (``None``: it gets no Patch Group and no window, so no window patches it).
    ``exempt``: skipped because of its opt-out tag (counted apart from the other skips).
    """

    name: str
    tags: tuple[tuple[str, str], ...]
    weight: int
    sweep: str
    patch_group: str | None
    exempt: bool = False


FLEET_MIX: tuple[Kind, ...] = (
    Kind("dev", (("environment", "Dev"),), 4, "tagged", "Dev"),
    Kind("test", (("environment", "Test"),), 4, "tagged", "Test"),
    Kind("prod", (("environment", "Prod"),), 4, "tagged", "Prod"),
    Kind("prod-lower", (("environment", "prod"),), 2, "tagged", "Prod"),
    Kind("prod-upper", (("environment", "PROD"),), 2, "tagged", "Prod"),
    Kind("prod-blanks", (("environment", " Prod "),), 1, "tagged", "Prod"),
    Kind("misspelled", (("environment", "Production"),), 2, "tagged", "Default"),
    Kind("untagged", (), 4, "tagged", "Default"),
    Kind("exempt", (("environment", "Prod"), ("install_patch", "no")), 2, "skipped", None, exempt=True),
    Kind(
        "eks-node",
        # Managed nodes carry evidence only AWS writes (reserved ``aws:`` keys; issue 13 item 6)
        # next to the marker tags anyone could set.
        (("environment", "Prod"), ("eks:nodegroup-name", "web"), ("aws:eks:cluster-name", "main")),
        2,
        "skipped",
        None,
    ),
    Kind(
        "ecs-node",
        (("environment", "Dev"), ("AmazonECSManaged", ""), ("aws:ecs:clusterName", "main")),
        1,
        "skipped",
        None,
    ),
    Kind(
        "already-right",
        (("environment", "Dev"), ("Patch Group", "Dev"), ("maintenance_window", "Default_maintenance_window")),
        2,
        "right",
        "Dev",
    ),
)
FLEET_WEIGHT = sum(kind.weight for kind in FLEET_MIX)
KINDS = {kind.name: kind for kind in FLEET_MIX}


def kind_counts(total: int) -> Counter[str]:
    """``total`` instances split over the kinds by weight (largest remainder, at least one each)."""
    shares = {kind.name: total * kind.weight / FLEET_WEIGHT for kind in FLEET_MIX}
    counts = Counter({name: max(1, int(share)) for name, share in shares.items()})
    by_remainder = sorted(shares, key=lambda name: shares[name] - int(shares[name]), reverse=True)
    for name in by_remainder[: max(0, total - sum(counts.values()))]:
        counts[name] += 1
    return counts
