"""The child stack's size and render cost.

Prints:

* resources per account-region for 2 accounts x 4 regions (account-level resources counted
  once and spread over the account's regions), with 6 operating systems (the budget is the seed's 23
  for everything; tests/spoke/test_budget.py also holds each part to its share; the default list is
  these 6) and with 8,
  with the per-account breakdown by type;
* the same at 1, 2 and 4 regions (account-level resources weigh more with fewer regions);
* for a generated 50 accounts x 4 regions config: render seconds per resource and peak memory;
* for 10 accounts x 4 regions: the ratio to the SDK's own per-resource cost (the same resources
  registered bare, ``bench/baseline.py``; target <= 1.2). The 300-account shards:
  ``bench/shard_scale.py`` (``make bench-child-300``).

"""

from __future__ import annotations

import cProfile
import gc
import pstats
import resource
import time
from collections import Counter
from pathlib import Path
from typing import Any

from bench.baseline import measure_ratio
from components.config import ChildConfig, load_stack_file, parse_config
from patchctl.offline.render import Capture
from patchctl.stack_render import render_stack, stack_mocks

ROOT = Path(__file__).resolve().parents[1]
REGIONS = ["us-east-1", "eu-west-1", "eu-central-1", "ap-southeast-2"]
SIX_OS = ["AMAZON_LINUX_2", "AMAZON_LINUX_2023", "REDHAT_ENTERPRISE_LINUX", "UBUNTU", "WINDOWS", "SUSE"]
EIGHT_OS = [*SIX_OS, "DEBIAN", "ROCKY_LINUX"]
#: The whole child stack, per account-region (issue 15 item 5: the seed's figure).
BUDGET = 23.0
RUNS = 5
SEED = 23


def child_config(accounts: int, regions: list[str], operating_systems: list[str] | None) -> ChildConfig:
    values: dict[str, Any] = {
        "org-patching:stack": "child",
        "org-patching:orgId": "o-exampleorg01",
        "org-patching:centralAccountId": "111111111111",
        "org-patching:homeRegion": regions[0],
        "org-patching:hubStack": "organization/org-patching/central",
        "org-patching:regions": regions,
        "org-patching:accounts": [
            {"id": f"{200000000000 + index:012d}", "name": f"workload-{index}"} for index in range(accounts)
        ],
    }
    if operating_systems:
        values["org-patching:patching"] = {"operatingSystems": operating_systems}
    cfg = parse_config(values)
    assert isinstance(cfg, ChildConfig)
    return cfg


def aws_resources(capture: Capture) -> list[Any]:
    return [r for r in capture.resources if r.custom and r.type.startswith("aws:")]


def per_account_region(capture: Capture, accounts: int, regions: int) -> tuple[float, Counter[str]]:
    where: Counter[str] = Counter()
    for record in aws_resources(capture):
        region = record.inputs.get("region")
        where[
            "account-level (IAM)" if region is None else ("home region" if region == REGIONS[0] else "other region")
        ] += 1
    total = sum(where.values())
    return total / (accounts * regions), where


def print_breakdown(capture: Capture, accounts: int) -> None:
    """Per account, by resource type and where it lives (IAM / home region / each other region / the hub)."""
    rows: Counter[tuple[str, str]] = Counter()
    for record in aws_resources(capture):
        region = record.inputs.get("region")
        if record.type == "aws:s3/bucketObjectv2:BucketObjectv2":
            where = "hub (per stack)"
        elif region is None:
            where = "IAM"
        elif region == REGIONS[0]:
            where = "home region"
        else:
            where = "other region"
        rows[(where, record.type.split(":")[-1])] += 1
    others = len(REGIONS) - 1
    print("  per account (6 operating systems):")
    for where in ("IAM", "home region", "other region", "hub (per stack)"):
        for (place, type_name), count in sorted(rows.items()):
            if place != where:
                continue
            share = count / accounts / (others if where == "other region" else 1)
            label = f"{where}{' (each)' if where == 'other region' else ''}"
            shown = count if where == "hub (per stack)" else share
            print(f"    {label:22s} {type_name:28s} {shown:g}")


def main() -> None:
    # the example hub, configured for the Regions the children patch (a child Region outside it fails the render)
    central = load_stack_file(ROOT / "Pulumi.central.yaml").model_copy(update={"regions": REGIONS})
    hub = render_stack(central).outputs
    print(f"resources per account-region (2 accounts x {len(REGIONS)} regions; budget {BUDGET}, seed {SEED}):")
    for label, systems in (("6 operating systems (the default)", None), ("8 operating systems", EIGHT_OS)):
        cfg = child_config(2, REGIONS, systems)
        capture = render_stack(cfg, hub)
        ratio, where = per_account_region(capture, 2, len(REGIONS))
        others = len(REGIONS) - 1
        detail = (
            f"IAM {where['account-level (IAM)'] / 2:g}, home region {where['home region'] / 2:g}, "
            f"each other region {where['other region'] / 2 / others:g}"
        )
        verdict = "within budget" if ratio <= BUDGET else "OVER BUDGET"
        print(f"  {label:28s} {ratio:6.2f}  ({verdict}; per account: {detail})")
        if systems is None:
            print_breakdown(capture, 2)
    print("resources per account-region by number of regions (2 accounts, 6 operating systems):")
    for count in (1, 2, 4):
        capture = render_stack(child_config(2, REGIONS[:count], None), hub)
        ratio, _ = per_account_region(capture, 2, count)
        print(f"  {count} region{'s' if count > 1 else ' '}  {ratio:6.2f}")

    # Scale: the whole 50 x 4 render once (wall and CPU time, peak memory of the process).
    cfg = child_config(50, REGIONS, SIX_OS)
    gc.collect()
    wall, cpu = time.perf_counter(), time.process_time()
    capture = render_stack(cfg, hub)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    count = len(capture.resources)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    del capture
    print(f"50 accounts x {len(REGIONS)} regions, 6 operating systems: {count} resources")
    print(f"  render              {wall:6.1f} s wall, {cpu:6.1f} s CPU ({cpu / count:.5f} s CPU/resource)")
    print(f"  peak memory         {peak_mb:6.0f} MB (whole process)")

    # Ratio: CPU time (other processes on the machine do not count), alternating runs, medians.
    small = child_config(10, REGIONS, SIX_OS)
    result = measure_ratio(lambda: render_stack(small, hub), lambda: stack_mocks(small, hub), RUNS)
    print("\n".join(result.lines(f"10 accounts x {len(REGIONS)} regions")))

    # Where the rest goes: the share of the render spent in the program's own code (the rest of the
    # difference is SDK work the program causes: parents, Output chains, typed arguments).
    profile = cProfile.Profile()
    profile.enable()
    render_stack(small, hub)
    profile.disable()
    stats: dict[Any, Any] = vars(pstats.Stats(profile))["stats"]  # typeshed does not declare the attribute
    total = sum(entry[2] for entry in stats.values())
    own = sum(entry[2] for (file, _, _), entry in stats.items() if f"{ROOT}/components/" in file)
    print(f"  program's own code  {own / total:6.1%} of the render's CPU (cProfile, own time in components/)")


if __name__ == "__main__":
    main()
