"""``python -m devkit.applier --stack central|child --config Pulumi.<stack>.yaml``

Deploys the stack into a fresh emulator and prints what moto holds afterwards, per
account-region and type. A child stack needs the hub: the central stack (``--hub-config``)
is applied first and its real outputs feed the child's StackReference.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from components.config import CentralConfig, ChildConfig, load_stack_file
from components.errors import OrgPatchingError
from devkit.emulator import Emulator

from .engine import Applied, apply_central, apply_child
from .errors import ApplyError
from .summary import print_summary


def ensure_config_recorders(emu: Emulator, cfg: ChildConfig) -> None:
    """AWS Config rules need a recorder in their region (AWS Config is usually enabled
    organization-wide, e.g. by Control Tower); the program does not create one."""
    for account in cfg.accounts or []:
        for region in account.regions or cfg.regions:
            client = emu.session(account.id, region).client("config")
            if not client.describe_configuration_recorders()["ConfigurationRecorders"]:
                client.put_configuration_recorder(
                    ConfigurationRecorder={"name": "default", "roleARN": f"arn:aws:iam::{account.id}:role/aws-config"}
                )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devkit.applier", description=__doc__)
    parser.add_argument("--stack", required=True, choices=["central", "child"])
    parser.add_argument("--config", help="stack config file (default: Pulumi.<stack>.yaml)")
    parser.add_argument("--hub-config", default="Pulumi.central.yaml", help="child only: the central stack's config")
    parser.add_argument(
        "--no-config-recorders",
        action="store_true",
        help="child only: do not create the AWS Config recorder the child's Config rules need",
    )
    args = parser.parse_args(argv)
    try:
        cfg = load_stack_file(Path(args.config or f"Pulumi.{args.stack}.yaml"))
        if cfg.stack != args.stack:
            raise OrgPatchingError(f"{args.config}: org-patching:stack is {cfg.stack!r}, not {args.stack!r}")
        with Emulator() as emu:
            stacks: list[Applied] = []
            if isinstance(cfg, CentralConfig):
                stacks.append(apply_central(emu, cfg))
            else:
                hub_cfg = load_stack_file(Path(args.hub_config))
                if not isinstance(hub_cfg, CentralConfig):
                    raise OrgPatchingError(f"{args.hub_config}: not a central stack config")
                hub = apply_central(emu, hub_cfg)
                if not args.no_config_recorders:
                    ensure_config_recorders(emu, cfg)
                stacks.append(apply_child(emu, cfg, hub.outputs))
            missing = print_summary(emu, stacks, sys.stdout)
    except (ApplyError, OrgPatchingError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
