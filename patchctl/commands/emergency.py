"""``patchctl emergency``: start, follow, approve and cancel an emergency patching rollout.

Against a real hub: AWS credentials (``--profile`` or the environment) and the central stack's
outputs (``pulumi stack output --json -s central > central-outputs.json``, ``--hub-outputs``).
``start`` checks the request with the state machine's own model (a bad request: one line, exit 2)
and starts it through the hub's approval gate, which records who asked; ``approve`` answers one
wave as the caller (never the requester, once per wave); ``status`` shows the waves and every
account x Region result; ``list`` the recent rollouts; ``cancel`` stops one and its automations.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from patchctl.errors import EXIT_FAILED, EXIT_OK, InputError, read_json


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "emergency",
        help="start, follow, approve and cancel an emergency patching rollout",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    actions = parser.add_subparsers(dest="action", required=True)

    def common(sub: argparse.ArgumentParser) -> None:
        sub.add_argument("--hub-outputs", type=Path, required=True, metavar="FILE", help="central stack outputs JSON")
        sub.add_argument("--profile", help="AWS profile (default: the credential chain)")

    start = actions.add_parser("start", help="start a rollout from a request file or flags")
    common(start)
    start.add_argument("--request", type=Path, metavar="FILE", help="the request as JSON (schemas/emergency-request)")
    start.add_argument("--operation", choices=["Scan", "Install"], help="patching_operation")
    start.add_argument("--account", action="append", default=[], metavar="ID", help="target account (repeatable)")
    start.add_argument("--ou", action="append", default=[], metavar="ID", help="target OU or root (repeatable)")
    start.add_argument("--region", action="append", default=[], metavar="NAME", help="target Region (repeatable)")
    start.add_argument("--waves", metavar="LIST", help="comma-separated patch groups, in order (e.g. Dev,Prod)")
    start.add_argument("--include-asg", action="store_true", help="also rebake and refresh the waves' ASGs")
    start.add_argument("--no-reboot", action="store_true", help="operation_post_patching NoReboot")
    start.add_argument("--approval-before", metavar="LIST", help="extra waves that wait for an approver")
    start.add_argument("--poll-seconds", type=int, metavar="N", help="how often a running wave is polled")
    start.add_argument(
        "--override-freeze", action="store_true", help="run during a change freeze (recorded with the approval)"
    )

    status = actions.add_parser("status", help="a rollout's waves, accounts and per-location results")
    common(status)
    status.add_argument("--execution", required=True, help="execution name or ARN")

    listing = actions.add_parser("list", help="recent rollouts")
    common(listing)
    listing.add_argument("--limit", type=int, default=20, help="at most this many (1-1000)")

    cancel = actions.add_parser("cancel", help="stop a rollout and the automations it started")
    common(cancel)
    cancel.add_argument("--execution", required=True, help="execution name or ARN")
    cancel.add_argument("--reason", default="cancelled with patchctl emergency cancel", help="recorded as the cause")

    approve = actions.add_parser("approve", help="approve (or --reject) the wave waiting for an approver")
    common(approve)
    approve.add_argument("--execution", required=True, help="execution ARN (from the approval message)")
    approve.add_argument("--wave", required=True, choices=["Default", "Dev", "Test", "Prod"])
    approve.add_argument("--reject", action="store_true", help="reject the wave instead (the rollout stops)")
    approve.add_argument("--reason", default="", help="why (recorded; at most 256 characters)")
    return parser


def request_from_flags(args: argparse.Namespace) -> dict[str, Any]:
    """The request the flags describe (checked by the same model as a request file)."""
    if args.operation is None:
        raise InputError("start: give --request FILE or at least --operation and --account/--ou")
    request: dict[str, Any] = {
        "patching_operation": args.operation,
        "targets": {"accounts": args.account, "organizational_units": args.ou},
    }
    if args.region:
        request["targets"]["regions"] = args.region
    if args.waves:
        request["waves"] = [w.strip() for w in args.waves.split(",")]
    if args.include_asg:
        request["include_asg"] = "Yes"
    if args.no_reboot:
        request["operation_post_patching"] = "NoReboot"
    if args.poll_seconds is not None:
        request["poll_seconds"] = args.poll_seconds
    if args.override_freeze:
        request["freeze_override"] = True
    if args.approval_before:
        request["approval"] = {"required_before": [w.strip() for w in args.approval_before.split(",")]}
    return request


def _print(document: Any) -> None:
    print(json.dumps(document, indent=2, default=str))


def run(args: argparse.Namespace) -> int:
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    from patchctl.emergency import follow, gate
    from patchctl.emergency.hub import HubRef

    hub = HubRef.from_file(args.hub_outputs)
    if args.action == "start":
        flags = args.operation or args.account or args.ou or args.region or args.waves
        if args.request is not None and flags:
            raise InputError("start: give --request FILE or flags, not both")
        request = read_json(args.request, "no such request file") if args.request else request_from_flags(args)
        if args.override_freeze and isinstance(request, dict):
            request["freeze_override"] = True  # with a request file too
    if args.action == "list" and not 1 <= args.limit <= 1000:
        raise InputError(f"--limit {args.limit}: must be 1..1000")
    session = boto3.session.Session(profile_name=args.profile) if args.profile else boto3.session.Session()
    try:
        if args.action == "start":
            _print(gate.start(session, hub, request))
        elif args.action == "approve":
            _print(gate.answer(session, hub, args.execution, args.wave, approve=not args.reject, reason=args.reason))
        elif args.action == "status":
            _print(follow.status(session, hub, args.execution))
        elif args.action == "list":
            _print(follow.executions(session, hub, args.limit))
        else:
            _print(follow.cancel(session, hub, args.execution, args.reason))
    except gate.GateRefused as refused:
        print(f"patchctl emergency {args.action}: refused: {refused}", file=sys.stderr)
        return EXIT_FAILED
    except ClientError as error:
        details = error.response.get("Error", {})
        print(f"patchctl emergency {args.action}: {details.get('Code')}: {details.get('Message')}", file=sys.stderr)
        return EXIT_FAILED
    except BotoCoreError as error:
        print(f"patchctl emergency {args.action}: {error}", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK
