"""Load: one tag sweep of 50,000 instances in one account-region, projected against Lambda's limits.

``make bench-sweep-load`` (``python -m bench.load_sweep [--instances N]``; several minutes, so not part of
``make bench``). The fleet (``N`` instances: most need the same tags, some carry another environment, some are
exempt, some are already right) is created in the emulator's EC2 backend; the tag-remediation Lambda's handler
then sweeps it once, through boto3 like in Lambda, and again to prove it converged. Counted, not estimated:

* **calls** by operation, with a botocore ``before-call`` hook (once per call, whatever the retries);
* **time** of the sweep: in all, and the part moto spent answering (timed around moto's request stubber), so
  the rest is the function's own work (its boto3 calls, XML parsing, planning);
* **memory**: the process's peak resident set after the sweep (``ru_maxrss``: the emulator, its fleet and
  Python included, so an upper bound of the function's).

Projection against the deployed function (``components/spoke/regional_spoke.py``: timeout 900 s, the Lambda
maximum, memory 512 MB): Lambda gives a function CPU in proportion to its memory, one vCPU at 1,769 MB ("Configure
Lambda function memory", Lambda Developer Guide), so the function's own time here is scaled by 1,769 / 512; each
call adds ``--seconds-per-call`` (default 2 s, pessimistic for a 1,000-item DescribeInstances page or a 1,000-id
CreateTags, and it covers AWS's side of the call). The verdict says whether one invocation fits in 15 minutes;
if not, the sweep pages across invocations (``lambda_src/lambda_shared/sweep_pages.py``): each stops after the
page that leaves less than its margin, so the bench prints the pages one invocation holds at the projected time
per page and the invocations the sweep takes. Exit 1 when the chain would exceed its cap, the second sweep
writes anything or the first reports errors.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import math
import os
import resource
import sys
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any

from lambda_shared.sweep_pages import MARGIN_MS, MAX_INVOCATIONS
from moto.core.botocore_stubber import BotocoreStubber

from bench.bench_tag_sweep import AMI, Calls
from devkit.emulator import Emulator, load_lambda
from devkit.moto_extensions.awslambda.models import lambda_context

ACCOUNT, REGION = "210000000050", "us-east-1"
#: The deployed function's limits (components/spoke/regional_spoke.py) and Lambda's own maximum timeout.
TIMEOUT_SECONDS = 900
MEMORY_MB = 512
#: Lambda memory at which a function has one full vCPU (Lambda Developer Guide, "Configure Lambda function memory").
FULL_VCPU_MB = 1769
#: The fleet's make-up, as shares of N: (tags at launch, share).
MIX: tuple[tuple[dict[str, str], float], ...] = (
    ({"environment": "Prod"}, 0.6),
    ({"environment": "dev"}, 0.2),
    ({"environment": "Test", "install_patch": "no"}, 0.1),
    ({"environment": "Test", "Patch Group": "Test", "maintenance_window": "Default_maintenance_window"}, 0.1),
)
SCHEDULED = {"detail-type": "Scheduled Event", "source": "aws.events", "detail": {}, "region": REGION}


#: Instances per reservation when the fleet is created (realistic launches; DescribeInstances pages by instance).
RESERVATION_SIZE = 50


def create_fleet(tags: dict[str, str], count: int) -> None:
    """Create ``count`` instances straight in the emulator's EC2 backend, as RunInstances would (reservations of
    ``RESERVATION_SIZE``, tagged at launch): 1,000 RunInstances calls would measure the emulator's launch, not
    the sweep, which runs through the handler and boto3 like in Lambda."""
    from moto.ec2.models import ec2_backends

    backend = ec2_backends[ACCOUNT][REGION]
    while count > 0:
        batch = min(count, RESERVATION_SIZE)
        backend.run_instances(
            AMI,
            batch,
            None,
            [],
            instance_type="m1.small",
            is_instance_type_default=True,
            region_name=REGION,
            tags={"instance": dict(tags)},
        )
        count -= batch


class MotoTime:
    """Seconds spent inside moto answering requests (its stubber handles every call in-process)."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self._original = BotocoreStubber.__call__

    def __enter__(self) -> MotoTime:
        original, timer = self._original, self

        def timed(stubber: Any, *args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return original(stubber, *args, **kwargs)
            finally:
                timer.seconds += time.perf_counter() - started

        BotocoreStubber.__call__ = timed  # type: ignore[method-assign, assignment]
        return self

    def __exit__(self, *_: object) -> None:
        BotocoreStubber.__call__ = self._original  # type: ignore[method-assign]


@dataclass(frozen=True)
class Sweep:
    calls: Calls
    result: dict[str, Any]
    seconds: float
    moto_seconds: float
    peak_bytes: int

    @property
    def own_seconds(self) -> float:
        return self.seconds - self.moto_seconds


def run_sweep(session: Any, handler: Any) -> Sweep:
    """One scheduled invocation, timed, its calls counted."""
    calls = Calls()
    session.events.register("before-call", calls)
    with MotoTime() as moto, contextlib.redirect_stdout(io.StringIO()):  # Powertools' metric blob
        started = time.perf_counter()
        result = handler(SCHEDULED, lambda_context("org-patching-tag-remediation", ACCOUNT, REGION, MEMORY_MB))
        seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # kilobytes on Linux
    session.events.unregister("before-call", calls)
    return Sweep(calls, result, seconds, moto.seconds, peak)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.load_sweep", description=__doc__.split("\n")[0])
    parser.add_argument("--instances", type=int, default=50_000)
    parser.add_argument("--seconds-per-call", type=float, default=2.0)
    args = parser.parse_args(argv)
    failures: list[str] = []
    print(f"load average {' '.join(f'{x:.1f}' for x in os.getloadavg())} at the start")
    with Emulator(extra_env={"POWERTOOLS_LOG_LEVEL": "WARNING", "POWERTOOLS_METRICS_DISABLED": "true"}) as emu:
        handler = load_lambda("tag_remediation").handler
        with emu.as_account(ACCOUNT, REGION) as session:
            started = time.perf_counter()
            launched = Counter[str]()
            for tags, share in MIX:
                count = round(args.instances * share)
                create_fleet(tags, count)
                launched[",".join(f"{k}={v}" for k, v in tags.items())] = count
            total = sum(launched.values())
            print(f"fleet: {total} instances in {ACCOUNT}/{REGION} ({time.perf_counter() - started:.0f} s to create)")
            first = run_sweep(session, handler)
            second = run_sweep(session, handler)
    per_k = 1000 / total
    result = first.result
    pages = first.calls.by_operation["DescribeInstances"]
    print(
        f"first sweep : {first.calls.total} calls ({dict(first.calls.by_operation)}) = "
        f"{first.calls.total * per_k:.2f} per 1,000; {first.seconds:.1f} s on the emulator = "
        f"{first.seconds * per_k:.2f} s per 1,000 (moto {first.moto_seconds:.1f} s, the function's own "
        f"{first.own_seconds:.1f} s = {first.own_seconds * per_k:.2f} s per 1,000); "
        f"peak {first.peak_bytes / 2**20:.0f} MB"
    )
    print(
        f"  tagged {len(result['tagged'])}, skipped {len(result['skipped'])}, unchanged {result['unchanged']}, "
        f"errors {len(result['errors'])}, pages {result['paging']['pages']}"
    )
    print(f"second sweep: {second.calls.total} calls, {second.calls.writes} writes, {second.seconds:.1f} s")
    cpu_scale = FULL_VCPU_MB / MEMORY_MB
    projected = first.own_seconds * cpu_scale + first.calls.total * args.seconds_per_call
    mb = first.peak_bytes / 2**20
    fits = projected <= TIMEOUT_SECONDS
    print(
        f"projection at {MEMORY_MB} MB: {first.own_seconds:.0f} s x {FULL_VCPU_MB}/{MEMORY_MB} (CPU share) + "
        f"{first.calls.total} calls x {args.seconds_per_call:g} s = {projected:.0f} s of the {TIMEOUT_SECONDS} s "
        f"timeout ({projected / TIMEOUT_SECONDS:.0%}): {'fits' if fits else 'does NOT fit'} in one invocation "
        f"without paging; peak {mb:.0f} MB of {MEMORY_MB} MB ({mb / MEMORY_MB:.0%})"
    )
    per_page = projected / max(pages, 1)
    usable = TIMEOUT_SECONDS - MARGIN_MS / 1000
    # An invocation goes on while more than the margin is left after a page, so it holds this many pages:
    per_invocation = max(1, math.floor(usable / per_page) + 1)
    invocations = math.ceil(pages / per_invocation)
    print(
        f"paging: {pages} pages of 1,000 at {per_page:.1f} s each; an invocation stops after the page that leaves "
        f"under {MARGIN_MS // 1000} s, so it holds {per_invocation} pages: {invocations} invocation(s) at "
        f"{total} instances (cap {MAX_INVOCATIONS})"
    )
    if result["errors"]:
        failures.append(f"first sweep errors: {result['errors'][:3]}")
    if second.calls.writes:
        failures.append(f"second sweep made {second.calls.writes} writes")
    if invocations > MAX_INVOCATIONS:
        failures.append(f"{invocations} invocations > the chain's cap of {MAX_INVOCATIONS}")
    for failure in failures:
        print(f"FAILED: {failure}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
