"""``patchctl policy-check``: run the org-patching pack on ANY Pulumi Python program, offline.

An app team checks a pull request without cloud credentials or the Pulumi CLI: the program
directory's ``__main__.py`` runs under mocks (cwd and ``sys.path`` set to the directory, its
``Pulumi.<stack>.yaml`` as config), then the pack's real ``__main__.py`` analyzes what it
registered, the way the engine calls it. Common invokes get plausible answers; an invoke no
mock knows is a warning (its result is empty), not a crash, because arbitrary programs call
arbitrary data sources. Same JSON document and exit codes as ``patchctl preview``.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import Any

from patchctl.errors import EXIT_BAD_INPUT, InputError
from patchctl.offline.analyzer import DEFAULT_PACK_DIR, PolicyConfigError, PolicyResult
from patchctl.offline.document import build_document, publish
from patchctl.offline.mocks import AwsMocks
from patchctl.offline.render import Capture, ProgramError, render_program
from patchctl.policy_run import load_policy_config, run_policies


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "policy-check",
        help="render any Pulumi Python program offline and run the org-patching policy pack on it",
        description=__doc__.splitlines()[0] if __doc__ else None,
    )
    parser.add_argument("--program", required=True, help="Pulumi program directory (with Pulumi.yaml, __main__.py)")
    parser.add_argument("--stack", default="dev", help="stack name; config from Pulumi.<stack>.yaml (default: dev)")
    parser.add_argument("--config", help="stack config file instead of <program>/Pulumi.<stack>.yaml")
    parser.add_argument("--policy-config", help="policy pack config JSON (same shape as --policy-pack-config)")
    parser.add_argument("--json", dest="json_out", help="write the result document to this file")
    parser.add_argument("--pack", default=str(DEFAULT_PACK_DIR), help="policy pack directory (default: ours)")
    parser.add_argument("--account", default="123456789012", help="account the default credentials are in")
    parser.add_argument("--region", default="us-east-1", help="region when the program sets none")
    parser.add_argument("--grpc", action="store_true", help="run the pack over gRPC as the engine does (slower)")
    parser.add_argument("--quiet", action="store_true", help="no tree on stdout")
    return parser


def render(args: argparse.Namespace) -> Capture:
    """Render the program; any failure of the program itself is bad input (exit 2)."""
    mocks = AwsMocks(default_account=args.account, default_region=args.region, strict=False)
    try:
        return render_program(args.program, stack=args.stack, config_file=args.config, mocks=mocks, preview=False)
    except ProgramError:
        raise
    except Exception as error:  # the program is user code: report it in one line, like the CLI would
        first = (str(error).strip().splitlines() or [type(error).__name__])[0]
        raise ProgramError(f"{args.program}: the program failed: {type(error).__name__}: {first}") from error


def check(capture: Capture, pack_dir: str | Path, policy_config: dict[str, Any] | None, grpc: bool) -> PolicyResult:
    """The engine's call sequence over the capture of an ``up`` (no preview: remediations apply)."""
    return run_policies(capture, policy_config, pack_dir=pack_dir, grpc=grpc, preview=False)


def run(args: argparse.Namespace) -> int:
    # Warnings are printed once, below, with the prefix users grep for (not via logging's last resort).
    logging.getLogger("patchctl.offline.mocks").addHandler(logging.NullHandler())
    try:
        if not Path(args.pack, "__main__.py").exists():
            raise InputError(f"{args.pack}: not a policy pack directory (no __main__.py)")
        policy_config = load_policy_config(args.policy_config)
        capture = render(args)
        result = check(capture, args.pack, policy_config, args.grpc)
    except (InputError, ProgramError, PolicyConfigError) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    for warning in capture.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    document = build_document(capture, result)
    return publish(document, args.json_out, args.quiet, sys.stdout)
