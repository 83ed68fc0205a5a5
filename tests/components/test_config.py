"""Stack configuration: valid examples load; every kind of bad value fails with one line
naming the key path and the value, before anything is rendered."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from components.config import CentralConfig, ChildConfig, load_stack_file, parse_config
from components.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]


def child_raw(**overrides: Any) -> dict[str, Any]:
    raw = yaml.safe_load((ROOT / "Pulumi.child.yaml").read_text())["config"]
    raw.update({f"org-patching:{k}": v for k, v in overrides.items()})
    return raw


def central_raw(**overrides: Any) -> dict[str, Any]:
    raw = yaml.safe_load((ROOT / "Pulumi.central.yaml").read_text())["config"]
    raw.update({f"org-patching:{k}": v for k, v in overrides.items()})
    return raw


def error_of(raw: dict[str, Any]) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        parse_config(raw, source="Pulumi.test.yaml")
    message = str(caught.value)
    assert "\n" not in message, "a config error is one line"
    assert message.startswith("Pulumi.test.yaml: org-patching:")
    return caught.value


def test_example_stacks_load() -> None:
    central = load_stack_file(ROOT / "Pulumi.central.yaml")
    child = load_stack_file(ROOT / "Pulumi.child.yaml")
    assert isinstance(central, CentralConfig) and central.central_account_id == "111111111111"
    assert isinstance(child, ChildConfig)
    assert [a.id for a in child.accounts or []] == ["222222222222", "333333333333"]
    assert child.regions == ["us-east-1", "eu-west-1"]
    assert child.patching.default_window.schedule == "cron(0 5 ? * FRI *)"


def test_engine_style_json_strings_are_decoded() -> None:
    raw = {k: (v if isinstance(v, str) else __import__("json").dumps(v)) for k, v in child_raw().items()}
    cfg = parse_config(raw)
    assert isinstance(cfg, ChildConfig) and len(cfg.accounts or []) == 2


@pytest.mark.parametrize(
    ("overrides", "key", "fragment"),
    [
        ({"accounts": [{"id": "12345", "name": "x"}]}, "org-patching:accounts[0].id", "'12345' is not a 12-digit"),
        ({"accounts": [{"id": "111111111111", "name": "x"}]}, "org-patching:accounts[0].id", "central account"),
        (
            {"accounts": [{"id": "222222222222", "name": "a"}, {"id": "222222222222", "name": "b"}]},
            "org-patching:accounts",
            "'222222222222' is listed twice",
        ),
        ({"accounts": []}, "org-patching:accounts", "empty"),
        ({"regions": ["us-east-1", "us-east-1"]}, "org-patching:regions", "listed twice"),
        ({"regions": ["us-east-1", "moon-base-1"]}, "org-patching:regions[1]", "'moon-base-1' is not an AWS region"),
        ({"orgId": "org-123"}, "org-patching:orgId", "'org-123' is not an organization id"),
        ({"centralAccountId": "1111"}, "org-patching:centralAccountId", "'1111'"),
        ({"unknownKey": 1}, "org-patching:unknownKey", "unknown key"),
        ({"deployRoleName": "bad role!"}, "org-patching:deployRoleName", "not a valid IAM role name"),
        (
            {"patching": {"defaultWindow": {"schedule": "cron(0 5 * * FRI *)"}}},
            "org-patching:patching.defaultWindow.schedule",
            "exactly one of day-of-month and day-of-week",
        ),
        (
            {"patching": {"defaultWindow": {"schedule": "cron(0 25 ? * FRI *)"}}},
            "org-patching:patching.defaultWindow.schedule",
            "hours",
        ),
        (
            {"patching": {"defaultWindow": {"durationHours": 1, "cutoffHours": 1}}},
            "org-patching:patching.defaultWindow",
            "cutoffHours (1) must be smaller than durationHours (1)",
        ),
        (
            {"patching": {"operatingSystems": ["AMAZON_LINUX_3000"]}},
            "org-patching:patching.operatingSystems",
            "AMAZON_LINUX_3000",
        ),
        (
            {"patching": {"defaultWindow": {"maxErrors": "lots"}}},
            "org-patching:patching.defaultWindow.maxErrors",
            "'lots'",
        ),
        ({"discover": {"ous": ["ou-abcd-12345678"]}}, "org-patching:discover", "not both"),
    ],
)
def test_bad_child_config_names_the_key(overrides: dict[str, Any], key: str, fragment: str) -> None:
    error = error_of(child_raw(**overrides))
    assert error.key == key, str(error)
    assert fragment in str(error)


def test_missing_required_key() -> None:
    raw = child_raw()
    del raw["org-patching:hubStack"]
    error = error_of(raw)
    assert error.key == "org-patching:hubStack" and "required" in str(error)


def test_stack_selector_is_required_and_checked() -> None:
    raw = child_raw(stack="hub")
    error = error_of(raw)
    assert error.key == "org-patching:stack" and "'hub'" in str(error)


@pytest.mark.parametrize(
    ("overrides", "key"),
    [
        ({"accounts": []}, "org-patching:accounts"),
        ({"compliance": {"cloudwatchLogRetentionDays": 42}}, "org-patching:compliance.cloudwatchLogRetentionDays"),
        ({"compliance": {"archiveAfterDays": 500}}, "org-patching:compliance"),
        ({"emergency": {"approvers": ["not-an-email"]}}, "org-patching:emergency.approvers[0]"),
        ({"catalog": {"shareWithOus": ["ou-x"]}}, "org-patching:catalog.shareWithOus[0]"),
    ],
)
def test_bad_central_config_names_the_key(overrides: dict[str, Any], key: str) -> None:
    assert error_of(central_raw(**overrides)).key == key


def test_other_namespaces_are_ignored() -> None:
    raw = child_raw()
    raw["aws:region"] = "us-east-1"
    raw["pulumi:disable-default-providers"] = ["aws"]
    assert isinstance(parse_config(raw), ChildConfig)


def test_file_errors_are_one_line(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    with pytest.raises(ConfigError, match="does not exist"):
        load_stack_file(missing)
    broken = tmp_path / "broken.yaml"
    broken.write_text("config: [unclosed\n")
    with pytest.raises(ConfigError) as caught:
        load_stack_file(broken)
    assert "not valid YAML" in str(caught.value) and "\n" not in str(caught.value)
