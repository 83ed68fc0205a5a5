"""A new user's wrong input: one or two plain lines on stderr, exit 2, no traceback, nothing written.

The process-level cases (``--version``, no AWS credentials or region) run ``python -m patchctl``
in a subprocess with a scrubbed environment: what the user sees is the real stderr, and no
credential cached in this test process can leak into them. The rest call ``main`` in-process.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from devkit.cli import main as devkit_main
from patchctl.cli import main, version

ROOT = Path(__file__).resolve().parents[2]


def plain(stderr: str, lines: int = 1) -> str:
    """The stderr of a user error: at most ``lines`` lines, no traceback; returned stripped."""
    text = stderr.strip()
    assert "Traceback" not in text, text
    assert 1 <= len(text.splitlines()) <= lines, text
    return text


def run_cli(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "patchctl", *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=120
    )


def no_aws_env(tmp_path: Path) -> dict[str, str]:
    """The environment of a laptop that never ran ``aws configure``: no keys, no profile, no files, no IMDS."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        {
            "AWS_CONFIG_FILE": str(tmp_path / "no-config"),
            "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "no-credentials"),
            "AWS_EC2_METADATA_DISABLED": "true",
            "PYTHONPATH": str(ROOT),
        }
    )
    return env


def test_version(tmp_path: Path) -> None:
    result = run_cli(["--version"], no_aws_env(tmp_path), tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"patchctl {version()}"
    assert version() == "0.1.0"


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (
            ["--region", "us-east-1"],
            "patchctl report: --athena: no AWS credentials found: set AWS_PROFILE (after 'aws sso login') "
            "or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or run where a role is attached",
        ),
        ([], "patchctl report: --athena: no AWS region: pass --region (the hub's home region) or set AWS_REGION"),
    ],
)
def test_report_athena_without_credentials_or_region(tmp_path: Path, extra: list[str], expected: str) -> None:
    out = tmp_path / "report"
    args = ["report", "--athena", "--workgroup", "wg", "--database", "db", "--out", str(out), *extra]
    result = run_cli(args, no_aws_env(tmp_path), tmp_path)
    assert result.returncode == 2
    assert plain(result.stderr) == expected
    assert not out.exists()


@pytest.mark.usefixtures("moto_aws")
def test_report_athena_refused_by_the_service_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A workgroup that does not exist: Athena's own error code and message, one line, exit 2."""
    out = tmp_path / "report"
    args = ["report", "--athena", "--workgroup", "no-such-wg", "--database", "db", "--region", "us-east-1"]
    assert main([*args, "--out", str(out)]) == 2
    message = plain(capsys.readouterr().err)
    assert message.startswith("patchctl report: --athena: Athena StartQueryExecution failed: InvalidRequestException: ")
    assert not out.exists()


@pytest.mark.parametrize(
    ("regions", "expected"),
    [
        ("mars-1", "--regions: 'mars-1' is not an AWS region botocore knows (e.g. us-east-1, eu-west-1)"),
        ("us-east-1,us-east-1", "--regions: 'us-east-1' is listed twice"),
        (
            "us-east-1,cn-north-1",
            "--regions: 'cn-north-1' is outside the aws partition the demo's organization lives in",
        ),
        (" , ", "--regions: list at least one region (e.g. us-east-1,eu-west-1)"),
    ],
)
def test_demo_unknown_region(tmp_path: Path, regions: str, expected: str, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "demo"
    assert devkit_main(["demo", "--regions", regions, "--out", str(out), "--quiet"]) == 2
    assert plain(capsys.readouterr().err) == f"devkit demo: error: {expected}"
    assert not out.exists()


def test_usage_error_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["preview"])
    assert exited.value.code == 2
    assert plain(capsys.readouterr().err) == (
        "patchctl preview: error: the following arguments are required: --stack (see 'patchctl preview --help')"
    )


def test_unquoted_account_id_through_preview(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "Pulumi.central.yaml"
    config.write_text((ROOT / "Pulumi.central.yaml").read_text().replace('"111111111111"', "111111111111"))
    out = tmp_path / "central.json"
    assert main(["preview", "--stack", "central", "--config", str(config), "--json", str(out)]) == 2
    assert plain(capsys.readouterr().err) == (
        f'error: {config}: org-patching:centralAccountId: quote the account id: write "111111111111" '
        "(unquoted, YAML reads it as a number)"
    )
    assert not out.exists()


def test_hub_config_outside_a_project_names_the_flag(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """No Pulumi.yaml above the working directory: no guessing a file next to --config."""
    shutil.copy(ROOT / "Pulumi.central.yaml", tmp_path / "Pulumi.central.yaml")  # beside --config: not used
    shutil.copy(ROOT / "Pulumi.child.yaml", tmp_path / "Pulumi.child.yaml")
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "child.json"
    assert main(["preview", "--stack", "child", "--config", "Pulumi.child.yaml", "--json", str(out)]) == 2
    assert plain(capsys.readouterr().err) == (
        "error: --hub-config: no Pulumi project here (no Pulumi.yaml in this directory or above) to take "
        "Pulumi.central.yaml from; pass --hub-config FILE or --hub-json FILE"
    )
    assert not out.exists()


def test_missing_hub_config_names_the_flag(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "central.yaml"
    args = ["preview", "--stack", "child", "--config", str(ROOT / "Pulumi.child.yaml"), "--hub-config", str(missing)]
    assert main(args) == 2
    assert plain(capsys.readouterr().err) == (
        f"error: --hub-config: {missing} does not exist; pass --hub-config FILE or --hub-json FILE"
    )


def test_shard_elsewhere_uses_the_projects_hub_config_with_secrets_and_esc(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A shard file in another directory, with a secret and an ESC import, previews offline: the hub
    comes from the project's Pulumi.central.yaml, the secret and the environment are named in notes."""
    shard = tmp_path / "shards" / "Pulumi.child-eu.yaml"
    shard.parent.mkdir()
    text = (ROOT / "Pulumi.child.yaml").read_text()
    text = "environment:\n  - acme/patching-eu\n" + text.replace(
        "  org-patching:deployRoleName: org-patching-deploy\n",
        "  org-patching:deployRoleName: org-patching-deploy\n"
        "  org-patching:externalId:\n    secure: v1:abc123:ZmFrZS1jaXBoZXJ0ZXh0\n",
    )
    shard.write_text(text)
    monkeypatch.chdir(ROOT / "components")  # a sub-directory: the project is found upwards, as pulumi does
    out = tmp_path / "child.json"
    args = ["preview", "--stack", "child", "--config", str(shard), "--no-policies", "--quiet", "--json", str(out)]
    assert main(args) == 0
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        "note: org-patching:externalId: secure value(s) cannot be decrypted offline; "
        "the preview uses the placeholder '[secret]'",
        "note: ESC environment(s) acme/patching-eu cannot be opened offline; only the values in this file are used",
    ]
    assert out.exists()


def test_unwritable_output_path_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a_file = tmp_path / "file"
    a_file.write_text("")
    assert devkit_main(["fleet", str(a_file / "fleet"), "--accounts", "1", "--regions", "1", "--instances", "1"]) == 2
    message = plain(capsys.readouterr().err)
    assert message.startswith(f"devkit fleet: error: {a_file}"), message
    assert message.endswith("Not a directory")


def test_missing_default_config_names_the_flag(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["preview", "--stack", "central", "--json", str(tmp_path / "out.json")]) == 2
    assert plain(capsys.readouterr().err) == (
        "error: --config: no Pulumi.central.yaml in the working directory (no Pulumi.yaml here or above); "
        "pass --config FILE"
    )
    assert list(tmp_path.iterdir()) == []


def test_default_config_is_the_projects_from_a_sub_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Run from a sub-directory of the project, as with ``pulumi``: the project's stack file is used."""
    monkeypatch.chdir(ROOT / "docs")
    out = tmp_path / "central.json"
    assert main(["preview", "--stack", "central", "--no-policies", "--quiet", "--json", str(out)]) == 0
    assert capsys.readouterr().err == ""
    assert out.exists()
