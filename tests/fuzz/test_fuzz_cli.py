"""Fuzz ``patchctl``'s arguments: every sub-command with any mix of its own options, values and stray tokens.

Invariant: ``patchctl.cli.main`` ends with exit code 0, 1 or 2 (argparse's own exit included) and never with a
traceback. Runs in a scratch directory on the emulator, so nothing is written in the repository and nothing can
reach AWS. Every file argument points into the scratch directory (missing, empty, a directory, not YAML, not
UTF-8, not JSON): the valid stacks are rendered by their own tests, and ``demo`` always gets one unknown option
(a full demo per case would take the whole budget); what is fuzzed here is the checking of arguments.
"""

from __future__ import annotations

import argparse
import contextlib
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from patchctl import cli
from tests.fuzz import invariants
from tests.fuzz.emulator import Emulator

TARGET = "patchctl CLI arguments"
SCRATCH_FILES: dict[str, bytes] = {
    "empty.yaml": b"",
    "bad.yaml": b"config: [unclosed\n",
    "binary.bin": b"\xff\xfe\x00garbage",
    "notes.md": b"# not a config\n",
    "list.json": b"[1, 2]\n",
    "object.json": b'{"resources": {}}\n',
    "Pulumi.dev.yaml": b"config:\n  org-patching:stack: central\n",
}
SCRATCH_DIRS = ("a-dir", "program")


def _subcommands() -> dict[str, list[argparse.Action]]:
    parser = cli.build_parser()
    [sub] = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return {name: [a for a in p._actions if a.dest != "help"] for name, p in sub.choices.items()}


COMMANDS = _subcommands()
values = st.one_of(
    st.sampled_from([*SCRATCH_FILES, *SCRATCH_DIRS, "missing.yaml", "out/new", "central", "child", "admin"]),
    st.sampled_from(["-1", "0", "1", "3", "5000000", "1e3", "", "x", "us-east-1", "--", "-"]),
    st.text(max_size=15).filter(lambda t: "\x00" not in t),
)


@st.composite
def argvs(draw: st.DrawFn) -> list[str]:
    command = draw(st.sampled_from(sorted(COMMANDS)))
    argv = [command]
    actions = COMMANDS[command]
    for action in draw(st.lists(st.sampled_from(actions), max_size=6)):
        if action.option_strings:
            argv.append(draw(st.sampled_from(action.option_strings)))
            if action.nargs != 0:
                argv += draw(st.lists(values, min_size=1, max_size=2 if action.nargs == "+" else 1))
        else:
            argv.append(draw(values))
    if draw(st.booleans()):
        argv.insert(draw(st.integers(0, len(argv))), draw(st.one_of(values, st.just("--help"))))
    if command == "demo":
        argv.append("--no-such-option")
    if command in ("preview", "admin-preview", "policy-check") and "--help" not in argv:
        # never the real program or stack: a valid render is the preview tests' job (and takes seconds)
        flag = "--program" if command != "preview" else "--config"
        argv += [flag, draw(st.sampled_from([*SCRATCH_FILES, *SCRATCH_DIRS, "missing.yaml"]))]
    return argv


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    root = tmp_path_factory.mktemp("cli")
    for name, content in SCRATCH_FILES.items():
        (root / name).write_bytes(content)
    for name in SCRATCH_DIRS:
        (root / name).mkdir()
    (root / "program" / "Pulumi.yaml").write_text("name: fuzz\nruntime: python\n")
    mp = pytest.MonkeyPatch()
    mp.chdir(root)
    with Emulator():
        yield root
    mp.undo()


def _run(argv: list[str]) -> tuple[Any, str]:
    err = io.StringIO()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
        try:
            code: Any = cli.main(argv)
        except SystemExit as exit_:  # argparse: 2 for a usage error, 0 for --help
            code = exit_.code
    return code, err.getvalue()


@invariants.fuzz_settings(quick_examples=40)
@given(argv=argvs())
@example(argv=["report", "--source", "binary.bin", "--out", "out/r"])
@example(argv=["summary", "--json", "list.json"])
@example(argv=["fleet", "out/f", "--instances", "5000000"])
@example(argv=["policy-check", "--program", "program", "--policy-config", "binary.bin"])
@example(argv=["summary", "--json", "a-dir"])
@example(argv=["preview", "--stack", "child", "--config", "Pulumi.dev.yaml", "--hub-json", "binary.bin"])
def test_cli_arguments(scratch: Path, argv: list[str]) -> None:
    case = invariants.case(TARGET)
    try:
        code, err = _run(argv)
    except Exception as error:
        case.check(invariants.EXIT_CODES, False, f"{argv}: {type(error).__name__}: {error}")
        raise
    case.check(invariants.EXIT_CODES, code in (0, 1, 2) and "Traceback" not in err, (argv, code, err))
