"""Bad child config through the real command line: exit 2 and one line naming the key."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from patchctl.cli import main

REPO_ROOT = Path(__file__).resolve().parents[2]


def write_config(tmp_path: Path, **changes: Any) -> Path:
    document = yaml.safe_load((REPO_ROOT / "Pulumi.child.yaml").read_text())
    for key, value in changes.items():
        full = f"org-patching:{key}"
        if value is None:
            document["config"].pop(full, None)
        else:
            document["config"][full] = value
    path = tmp_path / "Pulumi.child-bad.yaml"
    path.write_text(yaml.safe_dump(document))
    return path


ACCOUNT = {"id": "222222222222", "name": "dev"}


@pytest.mark.parametrize(
    ("changes", "key"),
    [
        ({"accounts": [ACCOUNT, {"id": "222222222222", "name": "again"}]}, "org-patching:accounts"),
        ({"accounts": [ACCOUNT, {"id": "111111111111", "name": "hub"}]}, "org-patching:accounts[1].id"),
        ({"regions": ["us-east-1", "us-east-1"]}, "org-patching:regions"),
        ({"regions": ["us-east-1", "mars-north-1"]}, "org-patching:regions"),
        ({"accounts": []}, "org-patching:accounts"),
        ({"accounts": None}, "org-patching:accounts"),
        ({"accounts": [{**ACCOUNT, "regions": ["eu-west-1", "eu-west-1"]}]}, "org-patching:accounts[0].regions"),
        ({"patching": {"operatingSystems": ["AMAZON_LINUX_2", "BEOS"]}}, "org-patching:patching.operatingSystems"),
    ],
)
def test_bad_config_exits_2_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], changes: dict[str, Any], key: str
) -> None:
    config = write_config(tmp_path, **changes)
    code = main(
        [
            "preview",
            "--stack",
            "child",
            "--config",
            str(config),
            "--hub-config",
            str(REPO_ROOT / "Pulumi.central.yaml"),
            "--quiet",
        ]
    )
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert len(err.splitlines()) == 1, err
    assert key in err


def test_discovery_failure_exits_2_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """No Organizations access (here: no credentials at all) is one DiscoveryError line."""
    for variable in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    config = write_config(tmp_path, accounts=None, discover={"ous": ["ou-abcd-12345678"]})
    code = main(
        [
            "preview",
            "--stack",
            "child",
            "--config",
            str(config),
            "--hub-config",
            str(REPO_ROOT / "Pulumi.central.yaml"),
            "--quiet",
        ]
    )
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert len(err.splitlines()) == 1, err
    assert "ou-abcd-12345678" in err
