"""docs/operations.md lists, job by job, the commands the workflows run: this keeps them equal.

Each mirrored job is a ``sh`` block right after a marker ``<!-- steps: <workflow> <job> -->``. The
workflow job is turned into the same commands, step by step:

* the job's ``env`` values, evaluated as GitHub would with no repository variables set (the
  defaults: ``central``, the first of ``CHILD_STACKS``), become ``NAME=value`` lines first;
  empty ones (``PULUMI_BACKEND_URL``) and secrets are the environment, not commands;
* ``run:`` steps give their command lines (``working-directory`` as ``cd <dir> && ``);
* ``aws-actions/configure-aws-credentials`` gives ``# AWS credentials: <role variable>, <seconds> s``
  (the one comment the docs must carry, so the documented session length is the workflow's);
* ``pulumi/actions`` with a ``command`` gives ``pulumi <command> --stack <stack> --policy-pack <packs>``;
  without one it only installs the CLI, as do checkout and setup-python;
* steps guarded by ``== ''`` only explain why nothing ran, and are left out.

In the docs, other comments (``# ...``) are for the reader and are ignored.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = ROOT / ".github" / "workflows"
OPERATIONS = ROOT / "docs" / "operations.md"
MARKER = re.compile(r"<!-- steps: (\S+) (\S+) -->\s*\n```sh\n(.*?)```", re.S)
#: Jobs that run Pulumi (or the gate) must be mirrored.
MUST_MIRROR = {
    ("main.yml", "up-central"),
    ("main.yml", "up-child"),
    ("pull-request.yml", "cloud-preview"),
    ("release.yml", "publish-policy-pack"),
}
NOT_COMMANDS = ("actions/checkout@", "actions/setup-python@", "actions/upload-artifact@")


def load(name: str) -> dict[str, Any]:
    data = YAML(typ="safe").load((WORKFLOWS / name).read_text())
    assert isinstance(data, dict)
    return data


# --------------------------------------------------------------------------- expressions


def _split_top(expression: str, operator: str) -> list[str]:
    """Split on ``operator`` outside quotes and parentheses."""
    parts, depth, quoted, start, index = [], 0, False, 0, 0
    while index < len(expression):
        char = expression[index]
        if char == "'":
            quoted = not quoted
        elif not quoted and char == "(":
            depth += 1
        elif not quoted and char == ")":
            depth -= 1
        elif not quoted and depth == 0 and expression.startswith(operator, index):
            parts.append(expression[start:index])
            start = index + len(operator)
            index += len(operator)
            continue
        index += 1
    parts.append(expression[start:])
    return [part.strip() for part in parts]


def evaluate(expression: str, matrix: dict[str, Any]) -> Any:
    """The subset of GitHub expressions the workflows use, with every repository variable unset.
    ``None`` means "not known before the run" (secrets, github.*)."""
    alternatives = _split_top(expression, "||")
    if len(alternatives) > 1:
        value: Any = ""
        for alternative in alternatives:
            value = evaluate(alternative, matrix)
            if value:
                return value
        return value
    conjuncts = _split_top(expression, "&&")
    if len(conjuncts) > 1:
        value = ""
        for conjunct in conjuncts:
            value = evaluate(conjunct, matrix)
            if not value:
                return value
        return value
    term = expression.strip()
    if term.startswith("'") and term.endswith("'"):
        return term[1:-1]
    if term.startswith("vars."):
        return ""
    if term.startswith("env."):
        return f'"${term[4:]}"'
    if term.startswith("matrix."):
        return matrix[term[7:]]
    if term.startswith("fromJSON(") and term.endswith(")"):
        return json.loads(evaluate(term[9:-1], matrix))
    if term.startswith(("secrets.", "github.")):
        return None
    raise AssertionError(f"expression not understood by this test: {term!r}")


def substitute(value: str, matrix: dict[str, Any]) -> Any:
    """A workflow value with ``${{ }}`` parts evaluated (``None`` if any part is unknown)."""
    parts: list[str] = []
    last = 0
    for match in re.finditer(r"\$\{\{(.*?)\}\}", value, re.S):
        parts.append(value[last : match.start()])
        evaluated = evaluate(match.group(1), matrix)
        if evaluated is None:
            return None
        parts.append(str(evaluated))
        last = match.end()
    parts.append(value[last:])
    return "".join(parts)


def matrix_defaults(job: dict[str, Any]) -> dict[str, Any]:
    """The first value of each matrix key (``fromJSON`` evaluated with defaults)."""
    matrix = ((job.get("strategy") or {}).get("matrix")) or {}
    values: dict[str, Any] = {}
    for key, value in matrix.items():
        if key in ("include", "exclude"):
            continue
        whole = re.fullmatch(r"\$\{\{(.*)\}\}", value.strip(), re.S) if isinstance(value, str) else None
        options = evaluate(whole.group(1), {}) if whole else value
        values[key] = options[0]
    return values


# --------------------------------------------------------------------------- both sides as commands


def lines_of(script: str) -> list[str]:
    return [" ".join(line.split()) for line in script.replace("\\\n", " ").splitlines() if line.strip()]


def job_commands(workflow: str, job_name: str) -> list[str]:
    job = load(workflow)["jobs"][job_name]
    matrix = matrix_defaults(job)
    commands = []
    for name, value in (job.get("env") or {}).items():
        evaluated = substitute(str(value), matrix)
        if evaluated:
            commands.append(f"{name}={evaluated}")
    for step in job.get("steps") or []:
        if "== ''" in str(step.get("if", "")):
            continue
        uses = str(step.get("uses", ""))
        settings = step.get("with") or {}
        if uses.startswith(NOT_COMMANDS):
            continue
        if uses.startswith("aws-actions/configure-aws-credentials@"):
            role = re.findall(r"vars\.(\w+)", settings["role-to-assume"])[0]
            commands.append(f"# AWS credentials: {role}, {settings['role-duration-seconds']} s")
        elif uses.startswith("pulumi/actions@"):
            if "command" in settings:
                stack = substitute(settings["stack-name"], matrix)
                command = f"pulumi {settings['command']} --stack {stack}"
                if settings.get("policyPacks"):
                    command += f" --policy-pack {settings['policyPacks']}"
                commands.append(command)
        elif "run" in step:
            prefix = f"cd {step['working-directory']} && " if "working-directory" in step else ""
            commands.extend(prefix + line for line in lines_of(str(step["run"])))
        else:
            raise AssertionError(f"{workflow}/{job_name}: step {step} not understood by this test")
    return commands


def doc_commands(block: str) -> list[str]:
    commands = []
    for line in lines_of(block):
        if line.startswith("# AWS credentials:"):
            commands.append(line)
            continue
        # Drop a trailing comment (outside quotes) and whole-line comments.
        code = re.sub(r"""\s+#(?=(?:[^"']|"[^"]*"|'[^']*')*$).*$""", "", line)
        if code and not code.startswith("#"):
            commands.append(code)
    return commands


def mirrored() -> dict[tuple[str, str], list[str]]:
    return {(m.group(1), m.group(2)): doc_commands(m.group(3)) for m in MARKER.finditer(OPERATIONS.read_text())}


# --------------------------------------------------------------------------- tests


def test_every_job_that_runs_pulumi_is_documented() -> None:
    assert set(mirrored()) >= MUST_MIRROR


@pytest.mark.parametrize(("workflow", "job"), sorted(mirrored()))
def test_the_documented_commands_are_the_workflow_steps(workflow: str, job: str) -> None:
    assert mirrored()[(workflow, job)] == job_commands(workflow, job)


def test_the_translation_sees_a_difference() -> None:
    """Not a rubber stamp: a missing step or another stack shows up."""
    commands = job_commands("main.yml", "up-child")
    assert commands[:2] == ["STACK=child", "CENTRAL=central"]
    assert "make policy-env" in commands
    assert '.venv/bin/python deployments/gate.py --stack "$STACK" --central "$CENTRAL"' in commands
    assert commands[-1] == 'pulumi up --stack "$STACK" --policy-pack policies'
    assert doc_commands("make setup  # pinned\n# a note\npulumi up --stack x") == ["make setup", "pulumi up --stack x"]
    assert job_commands("main.yml", "up-central") != commands


@pytest.mark.parametrize("doc", ["operations.md", "policy-pack.md"])
def test_code_fences_open_and_close_on_their_own_lines(doc: str) -> None:
    """A fence followed by text (```` ``` Check a config...````) swallows the rest of the page."""
    fences = [line for line in (ROOT / "docs" / doc).read_text().splitlines() if "```" in line]
    for line in fences:
        assert re.fullmatch(r"\s*```[a-z]*", line), f"{doc}: {line!r}"
    assert len(fences) % 2 == 0, f"{doc}: an unclosed code block"
