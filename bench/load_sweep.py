"""Load: one tag sweep of 50,000 instances in one account-region, projected against Lambda's limits.

``make bench-sweep-load`` (``python -m bench.load_sweep [--instances N]``; several minutes, so not part of
``make bench``). The tag-remediation Lambda runs its scheduled sweep once on the emulator over a fleet of
``N`` instances (a mix: most need the same tags, some carry another environment, some are exempt, some
are already right) and again to prove it converged. Counted, not estimated:

* **calls** by operation, with a botocore ``before-call`` hook (once per call, whatever the retries);
* **time** of the sweep on the emulator (moto serves every call in-process, so this is the function's
  own work PLUS the emulator's: an upper bound of the function's compute);
* **memory**: the process's peak resident set after the sweep (``ru_maxrss``: the emulator, its fleet and
  Python included, so again an upper bound of the function's).

Projection against the deployed function (``components/spoke/regional_spoke.py``: timeout 900 s, the
Lambda maximum, memory 512 MB): duration = emulator time + calls x ``--seconds-per-call`` (default 2 s,
pessimistic for a 1,000-item DescribeInstances page or a 1,000-id CreateTags); the verdict is printed
with the headroom. Exit 1 when the projection does not fit or the second sweep writes anything.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import resource
import sys
import time
from collections import Counter
from typing import Any

from bench.bench_tag_sweep import Calls, launch
from devkit.emulator import Emulator, load_lambda
from devkit.moto_extensions.awslambda.models import lambda_context

ACCOUNT, REGION = "210000000050", "us-east-1"
#: The deployed function's limits (components/spoke/regional_spoke.py) and Lambda's own maximum timeout.
TIMEOUT_SECONDS = 900
MEMORY_MB = 512
#: The fleet's make-up, as shares of N: (tags at launch, share).
MIX: tuple[tuple[dict[str, str], float], ...] = (
    ({"environment": "Prod"}, 0.6),
    ({"environment": "dev"}, 0.2),
    ({"environment": "Test", "install_patch": "no"}, 0.1),
    ({"environment": "Test", "Patch Group": "Test", "maintenance_window": "Default_maintenance_window"}, 0.1),
)
SCHEDULED = {"detail-type": "Scheduled Event", "source": "aws.events", "detail": {}, "region": REGION}


def run_sweep(session: Any, handler: Any) -> tuple[Calls, dict[str, Any], float, int]:
    """One scheduled invocation: (calls, result, seconds, the process's peak resident bytes so far)."""
    calls = Calls()
    session.events.register("before-call", calls)
    started = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):  # Powertools' metric blob
        result = handler(SCHEDULED, lambda_context("org-patching-tag-remediation", ACCOUNT, REGION))
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # kilobytes on Linux
    session.events.unregister("before-call", calls)
    return calls, result, seconds, peak


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.load_sweep", description=__doc__.split("\n")[0])
    parser.add_argument("--instances", type=int, default=50_000)
    parser.add_argument("--seconds-per-call", type=float, default=2.0)
    args = parser.parse_args(argv)
    failures: list[str] = []
    with Emulator(extra_env={"POWERTOOLS_LOG_LEVEL": "WARNING", "POWERTOOLS_METRICS_DISABLED": "true"}) as emu:
        handler = load_lambda("tag_remediation").handler
        with emu.as_account(ACCOUNT, REGION) as session:
            started = time.perf_counter()
            ec2 = session.client("ec2")
            launched = Counter[str]()
            for tags, share in MIX:
                count = round(args.instances * share)
                launch(ec2, tags, count)
                launched[",".join(f"{k}={v}" for k, v in tags.items())] = count
            total = sum(launched.values())
            print(f"fleet: {total} instances in {ACCOUNT}/{REGION} ({time.perf_counter() - started:.0f} s to launch)")
            first, result, seconds, peak = run_sweep(session, handler)
            second, _, seconds2, _ = run_sweep(session, handler)
    per_k = 1000 / total
    print(
        f"first sweep : {first.total} calls ({dict(first.by_operation)}) = {first.total * per_k:.2f} per 1,000; "
        f"{seconds:.1f} s on the emulator = {seconds * per_k:.2f} s per 1,000; peak {peak / 2**20:.0f} MB"
    )
    print(
        f"  tagged {len(result['tagged'])}, skipped {len(result['skipped'])}, unchanged {result['unchanged']}, "
        f"errors {len(result['errors'])}"
    )
    print(f"second sweep: {second.total} calls, {second.writes} writes, {seconds2:.1f} s")
    projected = seconds + first.total * args.seconds_per_call
    mb = peak / 2**20
    print(
        f"projection: {seconds:.0f} s + {first.total} calls x {args.seconds_per_call:g} s = {projected:.0f} s of the "
        f"{TIMEOUT_SECONDS} s timeout ({projected / TIMEOUT_SECONDS:.0%}); peak {mb:.0f} MB of {MEMORY_MB} MB "
        f"({mb / MEMORY_MB:.0%})"
    )
    if result["errors"]:
        failures.append(f"first sweep errors: {result['errors'][:3]}")
    if second.writes:
        failures.append(f"second sweep made {second.writes} writes")
    if projected > TIMEOUT_SECONDS:
        failures.append(f"projected {projected:.0f} s > {TIMEOUT_SECONDS} s: the sweep must page across invocations")
    if peak / 2**20 > MEMORY_MB:
        failures.append(f"peak {peak / 2**20:.0f} MB > {MEMORY_MB} MB")
    for failure in failures:
        print(f"FAILED: {failure}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
