"""``org-patching:bootstrap`` (the deploy-role StackSet): defaults, and one-line errors naming the key."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from components import naming
from components.config import CentralConfig, ChildConfig, parse_config
from components.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]
PRINCIPAL = "arn:aws:iam::111111111111:role/org-patching-github-deploy"


def central(bootstrap: Any) -> dict[str, Any]:
    raw = yaml.safe_load((ROOT / "Pulumi.central.yaml").read_text())["config"]
    raw["org-patching:bootstrap"] = bootstrap
    return raw


def test_example_enables_it_and_the_child_default_is_the_bootstrapped_role() -> None:
    cfg = parse_config(yaml.safe_load((ROOT / "Pulumi.central.yaml").read_text())["config"])
    assert isinstance(cfg, CentralConfig)
    assert cfg.bootstrap.enabled and cfg.bootstrap.deploy_principal_arn == PRINCIPAL
    assert cfg.bootstrap.call_as == "DELEGATED_ADMIN"
    assert ChildConfig.model_fields["deploy_role_name"].default == naming.CHILD_DEPLOY_ROLE


def test_disabled_needs_nothing_else() -> None:
    cfg = parse_config(central({"enabled": False}))
    assert isinstance(cfg, CentralConfig) and not cfg.bootstrap.enabled and cfg.bootstrap.targets == []


def test_the_root_is_a_valid_target_and_self_a_valid_caller() -> None:
    cfg = parse_config(central({"deployPrincipalArn": PRINCIPAL, "targets": ["r-ab12"], "callAs": "SELF"}))
    assert isinstance(cfg, CentralConfig) and cfg.bootstrap.targets == ["r-ab12"] and cfg.bootstrap.call_as == "SELF"


@pytest.mark.parametrize(
    ("bootstrap", "key", "fragment"),
    [
        (
            {"targets": ["r-ab12"]},
            "org-patching:bootstrap.deployPrincipalArn",
            "is required while bootstrap is enabled",
        ),
        ({"deployPrincipalArn": PRINCIPAL}, "org-patching:bootstrap.targets", "at least one OU or root id"),
        (
            {"deployPrincipalArn": "arn:aws:iam::111111111111:user/alice", "targets": ["r-ab12"]},
            "org-patching:bootstrap.deployPrincipalArn",
            "is not an IAM role ARN",
        ),
        (
            {"deployPrincipalArn": PRINCIPAL, "targets": ["ou-nope"]},
            "org-patching:bootstrap.targets[0]",
            "is not an organizational unit or root id",
        ),
        (
            {"deployPrincipalArn": PRINCIPAL, "targets": ["r-ab12", "r-ab12"]},
            "org-patching:bootstrap.targets",
            "listed twice",
        ),
        (
            {"deployPrincipalArn": PRINCIPAL, "targets": ["r-ab12"], "callAs": "ADMIN"},
            "org-patching:bootstrap.callAs",
            "'SELF' or 'DELEGATED_ADMIN'",
        ),
        (
            {"enabled": False, "deployPrincipal": PRINCIPAL},
            "org-patching:bootstrap.deployPrincipal",
            "deployPrincipalArn",
        ),
    ],
)
def test_bad_bootstrap_names_the_key(bootstrap: dict[str, Any], key: str, fragment: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(central(bootstrap), source="Pulumi.test.yaml")
    assert caught.value.key == key, str(caught.value)
    assert fragment in str(caught.value) and "\n" not in str(caught.value)
