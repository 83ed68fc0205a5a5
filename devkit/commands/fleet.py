"""``python -m devkit fleet DIR``: write a synthetic fleet laid out exactly like SSM resource data sync.

For demos, the report's tests and the bench: N accounts x R regions x M instances, each with
its AWS:InstanceInformation, AWS:Tag, AWS:ComplianceSummary and AWS:ComplianceItem file, and
the figures every named query must return (printed as JSON, or written with ``--figures``).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from patchctl.errors import EXIT_BAD_INPUT, EXIT_OK


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    from devkit.fleet import DEFAULT_SLA_DAYS

    parser: argparse.ArgumentParser = subparsers.add_parser(
        "fleet",
        help="write a synthetic resource-data-sync fleet with known compliance figures",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("dir", type=Path, metavar="DIR", help="where to write (the bucket copy's root)")
    parser.add_argument("--accounts", type=int, default=3, metavar="N")
    parser.add_argument("--regions", type=int, default=2, metavar="R")
    parser.add_argument("--instances", type=int, default=50, metavar="M", help="instances per account and region")
    parser.add_argument("--items", type=int, default=8, metavar="K", help="patch compliance items per instance")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--prefix", default="inventory", help="the resource data sync's bucket prefix")
    parser.add_argument("--sla-days", type=int, default=DEFAULT_SLA_DAYS, metavar="N")
    parser.add_argument("--workers", type=int, default=1, help="processes (large fleets)")
    parser.add_argument("--figures", type=Path, metavar="FILE", help="also write the known figures as JSON here")
    return parser


def run(args: argparse.Namespace) -> int:
    from devkit.fleet import FleetSpec, generate_fleet

    spec = FleetSpec(
        accounts=args.accounts,
        regions=args.regions,
        instances=args.instances,
        items=args.items,
        seed=args.seed,
        prefix=args.prefix.strip("/"),
        sla_days=args.sla_days,
        workers=args.workers,
    )
    problems = spec.problems()
    if problems:
        print(f"devkit fleet: {problems[0]}", file=sys.stderr)
        return EXIT_BAD_INPUT
    if args.dir.exists() and not args.dir.is_dir():
        print(f"devkit fleet: {args.dir}: exists and is not a directory", file=sys.stderr)
        return EXIT_BAD_INPUT
    started = time.perf_counter()
    figures = generate_fleet(args.dir, spec)
    document = {**figures.as_dict(), "seconds": round(time.perf_counter() - started, 2), "spec": vars(spec)}
    text = json.dumps(document, indent=1)
    if args.figures:
        args.figures.write_text(text + "\n", encoding="utf-8")
    print(text)
    return EXIT_OK
