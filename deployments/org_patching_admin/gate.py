"""The central gate: a child stack run goes ahead only if central was deployed at the same commit
and that deployment succeeded.

Why: the child stack reads the central stack's outputs, and the central stack is deployed only by
``main.yml``, behind the ``production`` environment's reviewer. A scheduled child run (Pulumi
Deployments' nightly enrollment, drift remediation) takes the head of the branch: that commit may
hold a central change still waiting for its reviewer, or one whose ``pulumi up`` failed. Deploying
the child from it would apply half a change, without the approval. So before such a run:

1. the operation: only ``update`` and ``remediate-drift`` change anything; previews, drift
   detection, refresh and destroy (tear-down goes child first) pass (``PULUMI_CI_OPERATION`` in
   Deployments, ``--operation`` elsewhere);
2. the stack itself must not be in the middle of another update (Deployments and the workflows
   share it; Pulumi Cloud's lock would refuse the second one with a bare 409 anyway);
3. central's latest update (``pulumi stack history --json``; refreshes do not deploy code) must
   have succeeded, have been made from a clean checkout, and have ``git.head`` equal to this
   run's commit.

Every refusal is one line that says what to do; exit 1 stops the deployment before ``pulumi up``.
Run as ``python deployments/gate.py --stack ORG/PROJECT/STACK --central ORG/PROJECT/central``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

#: Operations that deploy code (Pulumi Deployments' PULUMI_CI_OPERATION values).
GATED_OPERATIONS = frozenset({"update", "remediate-drift"})
#: Update kinds that hold a stack's lock while they run.
LOCKING_KINDS = frozenset({"update", "refresh", "destroy", "import"})
#: Kinds that change what central's outputs are made from.
DEPLOYING_KINDS = frozenset({"update", "destroy", "import"})
HISTORY_PAGE = 20

Runner = Callable[[Sequence[str]], "subprocess.CompletedProcess[str]"]


class GateError(Exception):
    """The gate could not decide (history unreadable, no commit): the run must not go ahead."""


@dataclass(frozen=True)
class Update:
    """One entry of ``pulumi stack history --json`` (the CLI's ``updateInfoJSON``)."""

    kind: str
    result: str
    version: int
    start_time: str
    commit: str | None
    dirty: bool

    @property
    def label(self) -> str:
        version = f"version {self.version}, " if self.version else ""
        return f"{self.kind} ({version}started {self.start_time})"


@dataclass(frozen=True)
class Verdict:
    ok: bool
    message: str


def parse_history(document: Any, stack: str) -> list[Update]:
    """The entries, newest first, from the CLI's JSON (a list of objects)."""
    if not isinstance(document, list):
        raise GateError(f"the history of {stack} is not a JSON list")
    updates = []
    for entry in document:
        if not isinstance(entry, dict):
            raise GateError(f"the history of {stack} has an entry that is not an object")
        environment = entry.get("environment") or {}
        updates.append(
            Update(
                kind=str(entry.get("kind", "")),
                result=str(entry.get("result", "")),
                version=int(entry.get("version") or 0),
                start_time=str(entry.get("startTime", "")),
                commit=environment.get("git.head") or None,
                dirty=environment.get("git.dirty") == "true",
            )
        )
    # The CLI lists newest first; sort anyway (an in-progress entry may carry no version yet).
    return sorted(updates, key=lambda u: (u.start_time, u.version), reverse=True)


def check(
    *,
    stack: str,
    central: str,
    commit: str,
    own_history: Sequence[Update],
    central_history: Sequence[Update],
) -> Verdict:
    """Whether ``stack`` may be deployed from ``commit``, given both histories (newest first)."""
    short = commit[:12]
    busy = next((u for u in own_history if u.kind in LOCKING_KINDS), None)
    if busy is not None and busy.result == "in-progress":
        return Verdict(
            False,
            f"{stack} is being changed by another run right now ({busy.label}): Pulumi Deployments and the "
            "GitHub workflows share this stack; run again when that one has finished",
        )
    latest = next((u for u in central_history if u.kind in DEPLOYING_KINDS), None)
    if latest is None:
        return Verdict(False, f"{central} has never been deployed: deploy central first (main.yml, up-central)")
    if latest.result == "in-progress":
        return Verdict(False, f"{central} is being updated right now ({latest.label}): child runs wait for it")
    if latest.kind == "destroy":
        return Verdict(False, f"{central} was destroyed ({latest.label}): deploy central before any child stack")
    if latest.result != "succeeded":
        return Verdict(
            False,
            f"{central}'s last {latest.label} {latest.result or 'did not finish'}: fix and deploy central first",
        )
    if latest.commit is None:
        return Verdict(
            False,
            f"{central}'s last {latest.label} recorded no commit (deployed outside a git checkout): "
            "deploy central from the repository (main.yml)",
        )
    if latest.dirty:
        return Verdict(
            False,
            f"{central}'s last {latest.label} was made from a modified working copy of {latest.commit[:12]}: "
            "deploy central from a clean commit (main.yml)",
        )
    if latest.commit != commit:
        return Verdict(
            False,
            f"{central} was last deployed at {latest.commit[:12]} but this run is at {short}: central has not "
            "been deployed at this commit (waiting for its reviewer in main.yml, failed, or not run yet); "
            f"{stack} follows once it is",
        )
    return Verdict(True, f"{central} is at {short} ({latest.label} succeeded): {stack} may run")


def _run(argv: Sequence[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(argv), capture_output=True, text=True, timeout=300, check=False)


def stack_history(stack: str, runner: Runner = _run) -> list[Update]:
    """``pulumi stack history`` of any stack the current token can read (fully qualified name)."""
    argv = ["pulumi", "stack", "history", "--stack", stack, "--json", "--page-size", str(HISTORY_PAGE)]
    try:
        result = runner(argv)
    except FileNotFoundError:
        raise GateError("the pulumi CLI is not on PATH") from None
    if result.returncode != 0:
        detail = (result.stderr or result.stdout).strip().splitlines()
        raise GateError(
            f"cannot read the history of {stack} (`{' '.join(argv)}` exited {result.returncode}: "
            f"{detail[-1] if detail else 'no output'}); the Pulumi token must be allowed to read it"
        )
    try:
        return parse_history(json.loads(result.stdout or "[]"), stack)
    except json.JSONDecodeError as error:
        raise GateError(f"the history of {stack} is not JSON ({error})") from None


def current_commit(runner: Runner = _run) -> str:
    """The commit being deployed: the checkout's HEAD (GitHub also names it in ``GITHUB_SHA``)."""
    try:
        result = runner(["git", "rev-parse", "HEAD"])
        if result.returncode == 0 and result.stdout.strip():
            return result.stdout.strip()
    except FileNotFoundError:
        pass
    if os.environ.get("GITHUB_SHA"):
        return os.environ["GITHUB_SHA"]
    raise GateError("cannot tell which commit is being deployed (no git checkout, no GITHUB_SHA)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="gate.py", description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--stack", required=True, help="the child stack about to run (org/project/stack)")
    parser.add_argument("--central", required=True, help="the central stack it reads (org/project/stack)")
    parser.add_argument(
        "--operation",
        default=os.environ.get("PULUMI_CI_OPERATION") or "update",
        help="the operation about to run (default: $PULUMI_CI_OPERATION, else update)",
    )
    parser.add_argument("--commit", help="the commit being deployed (default: git rev-parse HEAD)")
    return parser


def _report(ok: bool, message: str) -> None:
    if ok:
        print(f"central gate: {message}")
        return
    print(f"central gate: {message}", file=sys.stderr)
    if os.environ.get("GITHUB_ACTIONS") == "true":
        print(f"::error title=central gate::{message}")


def main(argv: Sequence[str] | None = None, runner: Runner = _run) -> int:
    args = build_parser().parse_args(argv)
    if args.operation not in GATED_OPERATIONS:
        _report(True, f"{args.operation} does not deploy code: not gated")
        return 0
    try:
        commit = args.commit or current_commit(runner)
        verdict = check(
            stack=args.stack,
            central=args.central,
            commit=commit,
            own_history=stack_history(args.stack, runner),
            central_history=stack_history(args.central, runner),
        )
    except GateError as error:
        verdict = Verdict(False, str(error))
    _report(verdict.ok, verdict.message)
    return 0 if verdict.ok else 1
