"""The child stack at organization scale: every shard of N accounts x 4 regions, rendered offline.

``make bench-child-300`` (too slow for ``make bench``: several minutes of CPU on this machine). The
accounts are split into shards the way ``docs/child-stack.md`` recommends (at most 300 accounts per
shard; ``--shards`` overrides) by the stable rule of ``components/stacks/shards.py``
(``assign_shards``: sha256 of the id mod the number of shards). Each shard renders in a fresh Python
process, as ``pulumi preview -s <shard>`` would run the program: its render seconds (wall and CPU),
its Pulumi resources, and the process's peak memory (RSS, imports included; the memory after imports
is printed beside it). The central stack is rendered once first, for the hub outputs every shard reads.

    python -m bench.shard_scale --accounts 300                # the docs' recommendation: 1 shard
    python -m bench.shard_scale --accounts 300 --shards 2     # 2 shards by OU
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
REGIONS = ["us-east-1", "eu-west-1", "eu-central-1", "ap-southeast-2"]
#: docs/child-stack.md, "Sharding a large organization": at most this many accounts per shard.
MAX_ACCOUNTS_PER_SHARD = 300


def account_ids(count: int) -> list[str]:
    return [f"{200000000000 + index:012d}" for index in range(count)]


def shard_config(accounts: list[str], regions: list[str]) -> dict[str, Any]:
    """One shard's stack config (the generated accounts of bench_child, this shard's share)."""
    return {
        "org-patching:stack": "child",
        "org-patching:orgId": "o-exampleorg01",
        "org-patching:centralAccountId": "111111111111",
        "org-patching:homeRegion": regions[0],
        "org-patching:hubStack": "organization/org-patching/central",
        "org-patching:regions": regions,
        "org-patching:accounts": [{"id": account, "name": f"workload-{account[-4:]}"} for account in accounts],
    }


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def render_one(config_file: Path, hub_file: Path) -> dict[str, Any]:
    """In the shard's own process: render it once and measure."""
    from components.config import ChildConfig, parse_config
    from patchctl.stack_render import render_stack

    imported_mb = peak_mb()
    cfg = parse_config(json.loads(config_file.read_text()))
    assert isinstance(cfg, ChildConfig)
    hub = json.loads(hub_file.read_text())
    wall, cpu = time.perf_counter(), time.process_time()
    capture = render_stack(cfg, hub)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    aws = sum(1 for r in capture.resources if r.custom and r.type.startswith("aws:"))
    return {
        "resources": len(capture.resources),
        "aws": aws,
        "wall": wall,
        "cpu": cpu,
        "peak_mb": peak_mb(),
        "imported_mb": imported_mb,
    }


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.shard_scale", description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=300)
    parser.add_argument("--regions", type=int, default=len(REGIONS), choices=range(1, len(REGIONS) + 1))
    parser.add_argument("--shards", type=int, help="default: the docs' rule, ceil(accounts / 300)")
    parser.add_argument("--one", nargs=2, metavar=("CONFIG_JSON", "HUB_JSON"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:
        print(json.dumps(render_one(Path(args.one[0]), Path(args.one[1]))))
        return 0
    if args.accounts < 1 or (args.shards is not None and not 1 <= args.shards <= args.accounts):
        parser.error("--accounts must be >= 1 and --shards between 1 and --accounts")

    from components.config import load_stack_file
    from components.stacks.shards import assign_shards
    from patchctl.stack_render import render_stack

    regions = REGIONS[: args.regions]
    count = args.shards or math.ceil(args.accounts / MAX_ACCOUNTS_PER_SHARD)
    names = ["child"] if count == 1 else [f"child-{index + 1}" for index in range(count)]
    shards = assign_shards(account_ids(args.accounts), names, {})
    # the example hub, configured for the Regions the shards patch (a child Region outside it fails the render)
    hub = render_stack(load_stack_file(ROOT / "Pulumi.central.yaml").model_copy(update={"regions": regions})).outputs
    print(
        f"{args.accounts} accounts x {len(regions)} regions, 6 operating systems, in {count} shard(s) "
        f"(sha256 rule of components/stacks/shards.py); each shard in a fresh process:"
    )
    print(
        f"  {'shard':10s} {'accounts':>8s} {'resources':>9s} {'AWS':>7s} {'wall s':>7s} {'CPU s':>7s} "
        f"{'ms/res':>6s} {'peak MB':>8s} {'after imports':>13s}"
    )
    totals = {"resources": 0, "aws": 0, "cpu": 0.0}
    with tempfile.TemporaryDirectory() as tmp:
        hub_file = Path(tmp) / "hub.json"
        hub_file.write_text(json.dumps(hub))
        for name, members in shards.items():
            config_file = Path(tmp) / f"{name}.json"
            config_file.write_text(json.dumps(shard_config(members, regions)))
            done = subprocess.run(
                [sys.executable, "-m", "bench.shard_scale", "--one", str(config_file), str(hub_file)],
                cwd=ROOT,
                check=True,
                capture_output=True,
                text=True,
            )
            result = json.loads(done.stdout.strip().splitlines()[-1])
            for key in totals:
                totals[key] += result[key]
            print(
                f"  {name:10s} {len(members):8d} {result['resources']:9d} {result['aws']:7d} {result['wall']:7.1f} "
                f"{result['cpu']:7.1f} {1000 * result['cpu'] / result['resources']:6.2f} {result['peak_mb']:8.0f} "
                f"{result['imported_mb']:13.0f}",
                flush=True,
            )
    print(
        f"  {'total':10s} {args.accounts:8d} {totals['resources']:9d} {totals['aws']:7d} {'':7s} {totals['cpu']:7.1f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
