"""Shard assignment never moves a placed account; a move is a printed `pulumi state move` of exactly the
account's top-level resources (components/stacks/shards.py, patchctl/commands/shards.py)."""

from __future__ import annotations

from typing import Any

import pytest

from components.stacks.shards import account_urns, assign_shards, hash_shard
from patchctl.cli import main

SHARDS = ["child-a", "child-b", "child-c"]


def test_adding_accounts_never_moves_existing_ones() -> None:
    first = [f"{200000000000 + i:012d}" for i in range(60)]
    before = assign_shards(first, SHARDS, {})
    assert all(before[shard] for shard in SHARDS)  # the hash spreads them
    more = [*first, *(f"{300000000000 + i:012d}" for i in range(60))]
    after = assign_shards(more, SHARDS, {})
    for shard, members in before.items():
        assert set(members) <= set(after[shard])
    # a persisted placement wins over the hash, and stays where it is
    pinned = {"child-c": [first[0]]}
    assert first[0] in assign_shards(more, SHARDS, pinned)["child-c"]
    assert hash_shard(first[0], SHARDS) == hash_shard(first[0], SHARDS)
    with pytest.raises(ValueError, match="at least one"):
        hash_shard(first[0], [])


def test_the_move_names_every_top_level_resource_of_the_account(child_capture: Any) -> None:
    account = "222222222222"
    stack_urn = next(r.urn for r in child_capture.resources if r.type == "pulumi:pulumi:Stack")
    top_level = {
        r.urn
        for r in child_capture.resources
        if r.parent in (None, stack_urn)
        and (r.name == account or r.name.startswith(f"{account}-"))
        and r.type != "pulumi:pulumi:Stack"
    }
    assert set(account_urns("child", account, ["us-east-1", "eu-west-1"])) == top_level


def test_patchctl_prints_the_commands(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["shards", "move", "--account", "222222222222", "--from", "child", "--to", "child-eu",
                 "--config", "Pulumi.child.yaml"]) == 0  # fmt: skip
    out = capsys.readouterr().out
    assert "pulumi state move --source child --dest child-eu --yes " in out
    assert "urn:pulumi:child::org-patching::org-patching:spoke:RegionalSpoke::222222222222-eu-west-1" in out


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["--account", "999999999999", "--from", "child", "--to", "b"], "not in org-patching:accounts"),
        (["--account", "222222222222", "--from", "child", "--to", "child"], "both 'child'"),
        (
            ["--account", "222222222222", "--from", "child", "--to", "b", "--config", "Pulumi.central.yaml"],
            "not a child",
        ),
    ],
)
def test_bad_input_is_one_line(argv: list[str], words: str, capsys: pytest.CaptureFixture[str]) -> None:
    if "--config" not in argv:
        argv = [*argv, "--config", "Pulumi.child.yaml"]
    assert main(["shards", "move", *argv]) == 2
    err = capsys.readouterr().err
    assert words in err and err.count("\n") == 1
