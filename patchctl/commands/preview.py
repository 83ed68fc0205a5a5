"""``patchctl preview``: what a stack would create, where, and what the policy pack says.

The offline companion of ``pulumi preview --policy-pack policies``: the program is rendered
under mocks from the stack's config file, the real pack runs on the result the way the
engine runs it, and nothing needs cloud credentials.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from components.config import CentralConfig, ChildConfig, load_stack_file
from components.errors import OrgPatchingError
from patchctl.errors import EXIT_BAD_INPUT, InputError, read_json
from patchctl.offline.analyzer import PolicyConfigError
from patchctl.offline.document import build_document, publish
from patchctl.policy_run import load_policy_config, run_policies
from patchctl.project import project_dir
from patchctl.stack_render import render_stack


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    parser = subparsers.add_parser("preview", help="render a stack offline and run the policy pack on it")
    parser.add_argument("--stack", required=True, choices=["central", "child"], help="which stack to render")
    parser.add_argument("--config", help="stack config file (default: the project's Pulumi.<stack>.yaml)")
    parser.add_argument("--policy-config", help="policy pack config JSON (same shape as --policy-pack-config)")
    parser.add_argument("--json", dest="json_out", help="write the preview document to this file")
    parser.add_argument("--hub-json", help="child only: central preview JSON whose outputs feed the StackReference")
    parser.add_argument(
        "--hub-config", help="child only: central config to render first (default: the project's Pulumi.central.yaml)"
    )
    parser.add_argument("--no-policies", action="store_true", help="render only")
    parser.add_argument("--grpc", action="store_true", help="run the pack over gRPC as the engine does (slower)")
    parser.add_argument("--quiet", action="store_true", help="no tree on stdout")
    return parser


def default_config(stack: str) -> Path:
    """``Pulumi.<stack>.yaml`` of the project (as ``pulumi`` reads it); a missing one names the flag."""
    project = project_dir()
    path = (project or Path.cwd()) / f"Pulumi.{stack}.yaml"
    if not path.is_file():
        where = "beside Pulumi.yaml" if project else "in the working directory (no Pulumi.yaml here or above)"
        raise InputError(f"--config: no Pulumi.{stack}.yaml {where}; pass --config FILE")
    return path


def default_hub_config() -> Path:
    """The project's ``Pulumi.central.yaml`` (beside ``Pulumi.yaml``, found as ``pulumi`` finds it),
    not a file next to ``--config``: shard files often live elsewhere, the hub's does not."""
    project = project_dir()
    if project is None:
        raise InputError(
            "--hub-config: no Pulumi project here (no Pulumi.yaml in this directory or above) "
            "to take Pulumi.central.yaml from; pass --hub-config FILE or --hub-json FILE"
        )
    return project / "Pulumi.central.yaml"


def hub_outputs_for(args: argparse.Namespace, notes: list[str]) -> dict[str, Any]:
    if args.hub_json:
        document = read_json(args.hub_json, "central preview JSON does not exist")
        outputs = document.get("outputs") if isinstance(document, dict) else None
        if not isinstance(outputs, dict) or "outputsVersion" not in outputs:
            raise InputError(f"{args.hub_json}: no central stack outputs in this document")
        return outputs
    hub_path = Path(args.hub_config) if args.hub_config else default_hub_config()
    if not hub_path.is_file():
        default = "" if args.hub_config else " (the default: the project's Pulumi.central.yaml)"
        raise InputError(f"--hub-config: {hub_path} does not exist{default}; pass --hub-config FILE or --hub-json FILE")
    hub_cfg = load_stack_file(hub_path, notes)
    if not isinstance(hub_cfg, CentralConfig):
        raise InputError(f"--hub-config: {hub_path}: org-patching:stack is not 'central'")
    return render_stack(hub_cfg).outputs


def run(args: argparse.Namespace) -> int:
    try:
        config_path = Path(args.config) if args.config else default_config(args.stack)
        notes: list[str] = []
        cfg = load_stack_file(config_path, notes)
        if cfg.stack != args.stack:
            raise InputError(f"{config_path}: org-patching:stack is {cfg.stack!r}, not {args.stack!r}")
        policy_config = load_policy_config(args.policy_config)
        hub_outputs = hub_outputs_for(args, notes) if isinstance(cfg, ChildConfig) else None
        capture = render_stack(cfg, hub_outputs, stack=args.stack)
        result = (
            None
            if args.no_policies
            else run_policies(capture, policy_config, grpc=args.grpc, stack_tags={"org-patching:stack": capture.stack})
        )
    except (OrgPatchingError, InputError, PolicyConfigError) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    for note in notes:
        print(f"note: {note}", file=sys.stderr)
    document = build_document(capture, result)
    return publish(document, args.json_out, args.quiet, sys.stdout)
