"""``patchctl shards move``: the exact commands that move one account from a child stack to another.

An account belongs to exactly one child stack (shard). Moving it is a state operation, not a destroy and
recreate: ``pulumi state move`` of the account's provider and components (their children come along) from
the source stack to the destination, after the account is added to the destination's config and before it
is removed from the source's. This prints the steps with the URNs filled in (read from the source stack's
config for the account's regions); it runs nothing.
"""

from __future__ import annotations

import argparse
import shlex
from typing import Any

from components.config import AccountConfig, ChildConfig, load_stack_file
from components.stacks.shards import account_urns
from patchctl.errors import EXIT_OK, InputError


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "shards", help="print the pulumi state move commands that move an account between child stacks"
    )
    actions = parser.add_subparsers(dest="action", required=True)
    move = actions.add_parser("move", help="move one account from one child stack to another")
    move.add_argument("--account", required=True, help="the 12-digit account id")
    move.add_argument("--from", dest="source", required=True, help="the child stack that enrolls it now")
    move.add_argument("--to", dest="dest", required=True, help="the child stack that will enroll it")
    move.add_argument("--config", required=True, help="the source stack's config file (Pulumi.<stack>.yaml)")
    return parser


def move_commands(cfg: ChildConfig, account_id: str, source: str, dest: str) -> list[str]:
    """The steps, one line each (comments start with #)."""
    if source == dest:
        raise InputError(f"--from and --to are both {source!r}")
    listed = {a.id: a for a in cfg.accounts or []}
    if cfg.accounts is not None and account_id not in listed:
        raise InputError(f"account {account_id} is not in org-patching:accounts of stack {source}")
    account = listed.get(account_id) or AccountConfig(id=account_id, name=account_id)
    urns = account_urns(source, account_id, cfg.regions_of(account))
    return [
        f"# 1. add {account_id} to the config of {dest} (org-patching:accounts or its discovered OUs)",
        f"#    and to org-patching:childStacks.{dest} of the central stack (remove it from .{source})",
        "# 2. move its state (the provider and components; their children come along):",
        shlex.join(["pulumi", "state", "move", "--source", source, "--dest", dest, "--yes", *urns]),
        f"# 3. remove {account_id} from the config of {source}, then check that nothing is replaced:",
        shlex.join(["pulumi", "preview", "--stack", dest, "--diff"]),
        shlex.join(["pulumi", "preview", "--stack", source, "--diff"]),
    ]


def run(args: argparse.Namespace) -> int:
    cfg = load_stack_file(args.config)
    if not isinstance(cfg, ChildConfig):
        raise InputError(f"{args.config}: not a child stack's config (org-patching:stack must be child)")
    for line in move_commands(cfg, args.account, args.source, args.dest):
        print(line)
    return EXIT_OK
