"""``org-patching:childStacks`` (which shard enrolls which account) and the ``accountStacks`` output."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from components.config import CentralConfig, parse_config
from components.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]
DEV, PROD = "222222222222", "333333333333"


def central(child_stacks: Any) -> dict[str, Any]:
    raw = yaml.safe_load((ROOT / "Pulumi.central.yaml").read_text())["config"]
    raw["org-patching:childStacks"] = child_stacks
    return raw


def test_without_shards_every_account_is_in_the_stack_named_child() -> None:
    cfg = parse_config(yaml.safe_load((ROOT / "Pulumi.central.yaml").read_text())["config"])
    assert isinstance(cfg, CentralConfig)
    assert cfg.account_stacks() == {DEV: "child", PROD: "child"}


def test_shards_map_each_account_to_its_stack() -> None:
    cfg = parse_config(central({"child-dev": [DEV], "acme/org-patching/child-prod": [PROD]}))
    assert isinstance(cfg, CentralConfig)
    assert cfg.account_stacks() == {DEV: "child-dev", PROD: "acme/org-patching/child-prod"}


@pytest.mark.parametrize(
    ("shards", "key", "problem"),
    [
        (
            {"child-a": [DEV], "child-b": [DEV, PROD]},
            "childStacks.child-b",
            f"account {DEV} is already in child stack 'child-a'",
        ),
        (
            {"child-a": [DEV, "444444444444"]},
            "childStacks.child-a",
            "account 444444444444 is not in org-patching:accounts",
        ),
        ({"child-a": [DEV]}, "childStacks", f"account(s) {PROD} are in no child stack"),
        ({"child a": [DEV, PROD]}, "childStacks.[key]", "is not a Pulumi stack name"),
    ],
)
def test_a_wrong_assignment_names_the_key_and_the_account(shards: Any, key: str, problem: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(central(shards))
    if key.endswith("[key]"):
        assert "org-patching:childStacks" in caught.value.key and problem in caught.value.problem
    else:
        assert caught.value.key == f"org-patching:{key}" and caught.value.problem == problem


def test_the_central_stack_exports_account_stacks(central_capture: Any) -> None:
    assert central_capture.outputs["accountStacks"] == {DEV: "child", PROD: "child"}
