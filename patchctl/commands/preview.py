"""``patchctl preview``: what a stack would create, where, and what the policy pack says.

The offline companion of ``pulumi preview --policy-pack policies``: the program is rendered
under mocks from the stack's config file, the real pack runs on the result the way the
engine runs it, and nothing needs cloud credentials.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from components.config import CentralConfig, ChildConfig, load_stack_file
from components.errors import OrgPatchingError
from patchctl.offline.analyzer import (
    DEFAULT_PACK_DIR,
    GrpcAnalyzer,
    InProcessAnalyzer,
    PolicyConfigError,
    PolicyResult,
    evaluate,
    load_pack,
)
from patchctl.offline.document import build_document, print_tree, write_document
from patchctl.offline.mocks import AwsMocks
from patchctl.offline.render import Capture, render

PROJECT = "org-patching"


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    parser = subparsers.add_parser("preview", help="render a stack offline and run the policy pack on it")
    parser.add_argument("--stack", required=True, choices=["central", "child"], help="which stack to render")
    parser.add_argument("--config", help="stack config file (default: Pulumi.<stack>.yaml)")
    parser.add_argument("--policy-config", help="policy pack config JSON (same shape as --policy-pack-config)")
    parser.add_argument("--json", dest="json_out", help="write the preview document to this file")
    parser.add_argument("--hub-json", help="child only: central preview JSON whose outputs feed the StackReference")
    parser.add_argument(
        "--hub-config", help="child only: central config to render first (default: Pulumi.central.yaml)"
    )
    parser.add_argument("--no-policies", action="store_true", help="render only")
    parser.add_argument("--grpc", action="store_true", help="run the pack over gRPC as the engine does (slower)")
    parser.add_argument("--quiet", action="store_true", help="no tree on stdout")
    return parser


class InputError(Exception):
    """Bad command-line input (exit 2)."""


def load_policy_config(path: str | None) -> dict[str, Any] | None:
    if not path:
        return None
    try:
        data = json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise InputError(f"{path}: policy config file does not exist") from None
    except (OSError, UnicodeDecodeError) as error:  # a directory, no permission, not UTF-8 (found by tests/fuzz)
        raise InputError(f"{path}: policy config file cannot be read ({type(error).__name__})") from None
    except json.JSONDecodeError as error:
        raise InputError(f"{path}: not valid JSON ({error.msg} at line {error.lineno})") from None
    if not isinstance(data, dict):
        raise InputError(f"{path}: policy config must be a JSON object")
    return data


def render_stack(
    cfg: CentralConfig | ChildConfig, hub_outputs: dict[str, Any] | None = None, stack: str | None = None
) -> Capture:
    """Render one stack of the program under mocks."""
    from components.program import build

    stack_name = stack or cfg.stack
    stack_outputs = {}
    if isinstance(cfg, ChildConfig):
        if hub_outputs is None:
            raise InputError("child stack: the hub's outputs are needed (--hub-json or --hub-config)")
        stack_outputs[cfg.hub_stack] = hub_outputs
    mocks = AwsMocks(
        default_account=cfg.central_account_id,
        default_region=cfg.home_region,
        org_id=cfg.org_id,
        stack_outputs=stack_outputs,
        strict=True,
    )
    return render(lambda: build(cfg), mocks=mocks, project=PROJECT, stack=stack_name)


def run_policies(capture: Capture, policy_config: dict[str, Any] | None, grpc: bool = False) -> PolicyResult:
    analyzer = GrpcAnalyzer(DEFAULT_PACK_DIR) if grpc else InProcessAnalyzer(load_pack(DEFAULT_PACK_DIR))
    try:
        return evaluate(
            capture.resources,
            analyzer,
            project=capture.project,
            stack=capture.stack,
            user_config=policy_config,
            stack_tags={"org-patching:stack": capture.stack},
        )
    finally:
        analyzer.close()


def hub_outputs_for(args: argparse.Namespace, config_path: Path) -> dict[str, Any]:
    if args.hub_json:
        try:
            document = json.loads(Path(args.hub_json).read_text())
        except FileNotFoundError:
            raise InputError(f"{args.hub_json}: central preview JSON does not exist") from None
        except (OSError, UnicodeDecodeError) as error:  # a directory, no permission, not UTF-8 (found by tests/fuzz)
            raise InputError(f"{args.hub_json}: central preview JSON cannot be read ({type(error).__name__})") from None
        except json.JSONDecodeError as error:
            raise InputError(f"{args.hub_json}: not valid JSON ({error.msg})") from None
        outputs = document.get("outputs") if isinstance(document, dict) else None
        if not isinstance(outputs, dict) or "outputsVersion" not in outputs:
            raise InputError(f"{args.hub_json}: no central stack outputs in this document")
        return outputs
    hub_path = Path(args.hub_config) if args.hub_config else config_path.parent / "Pulumi.central.yaml"
    hub_cfg = load_stack_file(hub_path)
    if not isinstance(hub_cfg, CentralConfig):
        raise InputError(f"{hub_path}: org-patching:stack is not 'central'")
    return render_stack(hub_cfg).outputs


def run(args: argparse.Namespace) -> int:
    try:
        config_path = Path(args.config or f"Pulumi.{args.stack}.yaml")
        cfg = load_stack_file(config_path)
        if cfg.stack != args.stack:
            raise InputError(f"{config_path}: org-patching:stack is {cfg.stack!r}, not {args.stack!r}")
        policy_config = load_policy_config(args.policy_config)
        hub_outputs = hub_outputs_for(args, config_path) if isinstance(cfg, ChildConfig) else None
        capture = render_stack(cfg, hub_outputs, stack=args.stack)
        result = None if args.no_policies else run_policies(capture, policy_config, grpc=args.grpc)
    except (OrgPatchingError, InputError, PolicyConfigError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    document = build_document(capture, result)
    if args.json_out:
        write_document(document, args.json_out)
    if not args.quiet:
        print_tree(document, sys.stdout)
        if args.json_out:
            print(f"wrote {args.json_out}")
    return 1 if document["summary"]["violations"]["mandatory"] else 0
