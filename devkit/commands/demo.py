"""``python -m devkit demo``: a full patch cycle for a simulated organization, on the local emulator."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from devkit.demo.narrative import Narrator
from devkit.demo.world import Scenario
from patchctl.errors import EXIT_BAD_INPUT, EXIT_OK

#: The stacks did not deploy (a rendered input the emulated services refuse).
EXIT_DEPLOY_FAILED = 1
#: ``--faults``: an invariant did not hold (each printed as ``INVARIANT BROKEN``).
EXIT_INVARIANTS_BROKEN = 1


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    parser = subparsers.add_parser("demo", help="run a full patch cycle for a simulated organization on moto")
    parser.add_argument("--out", default="out/demo", help="where the compliance report is written")
    parser.add_argument("--accounts", type=int, default=3, help="child accounts (default 3)")
    parser.add_argument("--instances", type=int, default=200, help="instances across the organization (default 200)")
    parser.add_argument("--regions", default="us-east-1,eu-west-1", help="comma-separated regions")
    parser.add_argument("--quiet", action="store_true")
    parser.add_argument(
        "--faults",
        metavar="SPEC",
        help="inject faults into the runtime and check the invariants after them, e.g. "
        "throttle=0.3,deny=child-1,region-down=eu-west-1,lambda-timeout=1,automation-fail=1,seed=7 "
        "(docs/reliability.md#a-patch-cycle-under-faults)",
    )
    return parser


def region_problem(regions: tuple[str, ...]) -> str | None:
    """Why ``--regions`` cannot be simulated, or None: every region must be one botocore knows
    (the emulator builds its clients from botocore's endpoint data) in the ``aws`` partition,
    where the simulated hub lives (us-east-1), each listed once."""
    import botocore.session

    from components.config_types import known_regions

    if not regions:
        return "--regions: list at least one region (e.g. us-east-1,eu-west-1)"
    commercial = set(botocore.session.get_session().get_available_regions("ssm", partition_name="aws"))
    for region in regions:
        if region not in known_regions():
            return f"--regions: {region!r} is not an AWS region botocore knows (e.g. us-east-1, eu-west-1)"
        if region not in commercial:
            return f"--regions: {region!r} is outside the aws partition the demo's organization lives in"
    duplicate = next((r for i, r in enumerate(regions) if r in regions[:i]), None)
    if duplicate:
        return f"--regions: {duplicate!r} is listed twice"
    return None


def run(args: argparse.Namespace) -> int:
    from devkit.applier import ApplyError
    from devkit.demo.run import run_demo
    from devkit.faults import FaultSpecError, parse

    regions = tuple(r.strip() for r in args.regions.split(",") if r.strip())
    problem = region_problem(regions)
    if problem is None and not 1 <= args.accounts <= 20:
        problem = f"--accounts {args.accounts}: must be 1..20"
    if problem is None and not 10 <= args.instances <= 5000:
        problem = f"--instances {args.instances}: must be 10..5000"
    faults = None
    if problem is None and args.faults is not None:
        try:
            faults = parse(args.faults)
        except FaultSpecError as error:
            problem = str(error)
    if problem:
        print(f"devkit demo: error: {problem}", file=sys.stderr)
        return EXIT_BAD_INPUT
    say = Narrator(quiet=args.quiet)
    say.say(f"org-patching demo: {args.accounts} child accounts x {len(regions)} regions, ~{args.instances} instances")
    try:
        result = run_demo(Scenario(args.accounts, regions, args.instances), Path(args.out), say, faults=faults)
    except FaultSpecError as error:  # deny=/region-down= naming what the organization does not have
        print(f"devkit demo: error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except ApplyError as error:
        # pulumi up would stop here: the program's rendered input is one AWS refuses.
        print(f"devkit demo: error: {error}", file=sys.stderr)
        return EXIT_DEPLOY_FAILED
    say.say(f"\ndone in {result.seconds:.1f} s")
    if result.faults is not None and result.faults.violations:
        print(f"devkit demo: {len(result.faults.violations)} invariant(s) broken under faults", file=sys.stderr)
        return EXIT_INVARIANTS_BROKEN
    if result.report_dir:
        say.say(f"report: {result.report_dir / 'index.html'}")
    return EXIT_OK
