"""The demo's steps under ``--faults`` (devkit/faults.py), then the invariants checked with the faults stopped."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from devkit.faults import Faults, FaultSpec, FaultSpecError, injecting

if TYPE_CHECKING:
    from devkit.demo.world import World


def resolve_account(spec: FaultSpec, world: World) -> str | None:
    """The account ``deny`` names: ``child-N`` is the N-th child account; an id must be one of the organization's."""
    if spec.deny is None:
        return None
    ids = [a.id for a in world.accounts]
    if spec.deny.startswith("child-"):
        index = int(spec.deny.removeprefix("child-"))
        if index > len(ids):
            raise FaultSpecError(f"--faults: deny={spec.deny} but the organization has {len(ids)} child accounts")
        return ids[index - 1]
    if spec.deny not in ids:
        raise FaultSpecError(f"--faults: deny={spec.deny} is not a child account of the demo ({', '.join(ids)})")
    return spec.deny


@contextmanager
def fault_run(context: Any, spec: FaultSpec | None) -> Iterator[Faults | None]:
    """Run the block under ``spec``'s faults; afterwards (faults stopped) check and print the invariants into
    ``context.result.faults``. Without a spec, nothing changes."""
    if spec is None:
        yield None
        return
    from devkit.demo import fault_checks
    from devkit.demo.run import sweep

    world, say = context.world, context.say
    if spec.region_down is not None and spec.region_down not in world.regions:
        raise FaultSpecError(
            f"--faults: region-down={spec.region_down} is not a demo region ({', '.join(world.regions)})"
        )
    faults = Faults(spec, denied_account=resolve_account(spec, world))
    say.say(f"\nfaults injected into the runtime from here on: {spec.describe()}")
    with injecting(faults):
        yield faults
    with say.step("Faults stopped: the run checks its own invariants (read from the emulator)"):
        report = fault_checks.check(context.emu, world, faults, sweep)
        say.fact(f"injected: {dict(sorted(report.injected.items()))}")
        say.fact(
            f"instances: {report.tagged_right} tagged right, {report.skipped_by_contract} skipped by the contract, "
            f"{report.reported} reported with their reason"
        )
        for account, region, message in faults.timeouts:
            say.fact(f"FAILED tag remediation in {account}/{region}: {message} (the event was retried)")
        say.fact(f"emergency rollout {report.emergency_status}, naming the failed locations {report.failed_locations}")
        say.fact(f"left behind: {report.leftovers}")
        say.fact(
            f"after the faults: a repair sweep made {report.repair_writes} writes (to reported resources only), "
            f"the next one {report.converged_writes}"
        )
        for violation in report.violations:
            say.fact(f"INVARIANT BROKEN: {violation}")
        if not report.violations:
            say.fact("every invariant held")
    context.result.faults = report
