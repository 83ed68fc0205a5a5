"""The central gate (``deployments/gate.py``): a child run goes ahead only when central was last
deployed, successfully and from a clean checkout, at the same commit, and nobody else is changing
the child stack. Histories are in the shape ``pulumi stack history --json`` prints (the CLI's
``updateInfoJSON``); the CLI itself is not on this machine, so the end-to-end test puts a
stand-in ``pulumi`` on PATH that answers with such a document and records its arguments."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

ADMIN_DIR = Path(__file__).resolve().parents[2] / "deployments"
sys.path.insert(0, str(ADMIN_DIR))

from org_patching_admin.gate import (  # noqa: E402
    GateError,
    check,
    main,
    parse_history,
    stack_history,
)

CHILD = "acme/org-patching/child"
CENTRAL = "acme/org-patching/central"
HEAD = "4f1c2b9d0e8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c"
OLDER = "0a1b2c3d4e5f60718293a4b5c6d7e8f901234567"


def entry(
    version: int,
    *,
    kind: str = "update",
    result: str = "succeeded",
    commit: str | None = HEAD,
    dirty: bool = False,
    minute: int = 0,
) -> dict[str, Any]:
    environment = {"exec.kind": "cli", "git.headName": "refs/heads/main", "git.dirty": str(dirty).lower()}
    if commit is not None:
        environment["git.head"] = commit
    item: dict[str, Any] = {
        "version": version,
        "kind": kind,
        "startTime": f"2025-06-0{1 + version // 60} {version % 24:02d}:{minute:02d}:00 +0000 UTC",
        "message": "",
        "environment": environment,
        "config": {"org-patching:stack": {"value": "central", "secret": False, "object": False}},
        "result": result,
    }
    if result != "in-progress":
        item["endTime"] = item["startTime"]
        item["resourceChanges"] = {"same": 120}
    return item


def verdict(central: list[dict[str, Any]], own: list[dict[str, Any]] | None = None, commit: str = HEAD) -> Any:
    return check(
        stack=CHILD,
        central=CENTRAL,
        commit=commit,
        own_history=parse_history(own or [], CHILD),
        central_history=parse_history(central, CENTRAL),
    )


def test_central_at_the_same_commit_and_succeeded_lets_the_child_run() -> None:
    result = verdict([entry(7), entry(6, commit=OLDER)])
    assert result.ok
    started = "started 2025-06-01 07:00:00 +0000 UTC"
    assert result.message == f"{CENTRAL} is at {HEAD[:12]} (update (version 7, {started}) succeeded): {CHILD} may run"


def test_a_central_change_waiting_for_its_reviewer_stops_the_child() -> None:
    # main has moved to HEAD; central is still at the previous commit (up-central waits for approval).
    result = verdict([entry(6, commit=OLDER)])
    assert not result.ok
    assert f"{CENTRAL} was last deployed at {OLDER[:12]} but this run is at {HEAD[:12]}" in result.message
    assert "waiting for its reviewer in main.yml" in result.message


@pytest.mark.parametrize(
    ("history", "fragment"),
    [
        ([], "has never been deployed: deploy central first"),
        (
            [entry(8, result="failed"), entry(7)],
            "last update (version 8, started 2025-06-01 08:00:00 +0000 UTC) failed",
        ),
        ([entry(8, result="in-progress"), entry(7)], "is being updated right now"),
        ([entry(8, kind="destroy"), entry(7)], "was destroyed"),
        ([entry(7, dirty=True)], "modified working copy"),
        ([entry(7, commit=None)], "recorded no commit"),
    ],
)
def test_central_that_is_not_healthy_stops_the_child(history: list[dict[str, Any]], fragment: str) -> None:
    result = verdict(history)
    assert not result.ok
    assert fragment in result.message, result.message


def test_refreshes_and_drift_runs_of_central_do_not_count_as_deploying_it() -> None:
    # A drift detection of central checks out the head of main: its git.head says nothing about
    # what central was deployed from.
    result = verdict([entry(9, kind="refresh", commit=HEAD), entry(8, commit=OLDER)])
    assert not result.ok and f"last deployed at {OLDER[:12]}" in result.message


def test_another_run_on_the_child_stack_stops_this_one() -> None:
    result = verdict([entry(7)], own=[entry(30, kind="update", result="in-progress"), entry(29)])
    assert not result.ok
    assert "is being changed by another run right now" in result.message
    assert "Pulumi Deployments and the GitHub workflows share this stack" in result.message


def test_history_order_does_not_matter() -> None:
    unordered = [entry(6, commit=OLDER), entry(8, result="failed"), entry(7)]
    assert [u.version for u in parse_history(unordered, CENTRAL)] == [8, 7, 6]
    assert not verdict(unordered).ok


def test_unreadable_history_is_a_refusal_naming_the_token() -> None:
    def runner(argv: Sequence[str]) -> subprocess.CompletedProcess[str]:
        return subprocess.CompletedProcess(
            list(argv), 255, "", "error: [403] Forbidden: stack not found or access denied\n"
        )

    with pytest.raises(GateError) as caught:
        stack_history(CENTRAL, runner)
    message = str(caught.value)
    assert f"cannot read the history of {CENTRAL}" in message and "exited 255" in message
    assert "Forbidden" in message and "token must be allowed to read it" in message


def test_operations_that_deploy_nothing_are_not_gated(capsys: pytest.CaptureFixture[str]) -> None:
    def runner(argv: Sequence[str]) -> subprocess.CompletedProcess[str]:
        raise AssertionError(f"nothing is read for a drift detection: {argv}")

    assert main(["--stack", CHILD, "--central", CENTRAL, "--operation", "detect-drift"], runner) == 0
    assert "detect-drift does not deploy code: not gated" in capsys.readouterr().out


def fake_pulumi(bin_dir: Path, histories: dict[str, list[dict[str, Any]]], log: Path) -> None:
    """A ``pulumi`` that answers ``stack history --stack S --json`` from ``histories``."""
    data = bin_dir / "histories.json"
    data.write_text(json.dumps(histories))
    script = bin_dir / "pulumi"
    script.write_text(
        f"#!{sys.executable}\n"
        "import json, sys\n"
        f"open({str(log)!r}, 'a').write(json.dumps(sys.argv[1:]) + '\\n')\n"
        "args = sys.argv[1:]\n"
        "stack = args[args.index('--stack') + 1]\n"
        f"histories = json.load(open({str(data)!r}))\n"
        "if stack not in histories:\n"
        "    print(f\"error: no stack named '{stack}' found\", file=sys.stderr); sys.exit(255)\n"
        "print(json.dumps(histories[stack], indent=4))\n"
    )
    script.chmod(0o755)


@pytest.fixture
def checkout(tmp_path: Path) -> tuple[Path, str]:
    """A real git checkout (the gate asks git which commit is being deployed)."""
    repo = tmp_path / "repo"
    repo.mkdir()
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@x", "GIT_COMMITTER_NAME": "t"}
    env["GIT_COMMITTER_EMAIL"] = "t@x"
    for argv in (["git", "init", "-q"], ["git", "commit", "-q", "--allow-empty", "-m", "c"]):
        subprocess.run(argv, cwd=repo, check=True, env=env, capture_output=True)
    commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=repo, check=True, capture_output=True, text=True)
    return repo, commit.stdout.strip()


def run_gate(repo: Path, bin_dir: Path, *extra: str, operation: str = "update") -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("GITHUB_ACTIONS", "GITHUB_SHA")}
    env["PATH"] = f"{bin_dir}{os.pathsep}{env['PATH']}"
    env["PULUMI_CI_OPERATION"] = operation
    return subprocess.run(
        [sys.executable, str(ADMIN_DIR / "gate.py"), "--stack", CHILD, "--central", CENTRAL, *extra],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_script_passes_when_central_is_at_this_checkout(tmp_path: Path, checkout: tuple[Path, str]) -> None:
    repo, commit = checkout
    log = tmp_path / "calls.jsonl"
    fake_pulumi(tmp_path, {CENTRAL: [entry(7, commit=commit)], CHILD: [entry(3, commit=OLDER)]}, log)
    result = run_gate(repo, tmp_path, operation="remediate-drift")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith(f"{CHILD} may run")
    calls = [json.loads(line) for line in log.read_text().splitlines()]
    assert calls == [
        ["stack", "history", "--stack", stack, "--json", "--page-size", "20"] for stack in (CHILD, CENTRAL)
    ]


def test_the_script_stops_a_scheduled_run_ahead_of_central(tmp_path: Path, checkout: tuple[Path, str]) -> None:
    repo, _ = checkout
    fake_pulumi(tmp_path, {CENTRAL: [entry(7, commit=OLDER)], CHILD: []}, tmp_path / "calls.jsonl")
    result = run_gate(repo, tmp_path)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"central gate: {CENTRAL} was last deployed at {OLDER[:12]}")


def test_the_script_stops_when_central_cannot_be_read(tmp_path: Path, checkout: tuple[Path, str]) -> None:
    repo, _ = checkout
    fake_pulumi(tmp_path, {CHILD: []}, tmp_path / "calls.jsonl")
    result = run_gate(repo, tmp_path)
    assert result.returncode == 1
    assert f"no stack named '{CENTRAL}' found" in result.stderr
