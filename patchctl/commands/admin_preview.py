"""``patchctl admin-preview``: what the admin program would set in Pulumi Cloud, offline.

The admin program (``deployments/``) declares the Pulumi Deployments settings, drift
schedules and enrollment schedules of the org-patching stacks. Those objects live in Pulumi
Cloud, not in an AWS account, so the account/region tree ``patchctl preview`` prints says
nothing about them; this command renders the program under mocks (its real ``__main__.py``,
its stack config) and prints, per stack, the source, the OIDC role, the pre-run commands and
the schedules, and writes the same JSON document as ``preview``.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path
from typing import Any, TextIO

from patchctl.errors import EXIT_BAD_INPUT, InputError
from patchctl.offline.analyzer import PolicyConfigError
from patchctl.offline.document import build_document, publish
from patchctl.offline.mocks import AwsMocks
from patchctl.offline.render import Capture, ProgramError, program_imports, render_program
from patchctl.policy_run import load_policy_config, run_policies

#: Where the admin program lives, relative to the repository root.
DEFAULT_PROGRAM_DIR = Path(__file__).resolve().parents[2] / "deployments"

SETTINGS = "pulumiservice:index:DeploymentSettings"
DRIFT = "pulumiservice:index:DriftSchedule"
SCHEDULE = "pulumiservice:index:DeploymentSchedule"
CLOUD_PREFIX = "pulumiservice:"
#: Where the tree shows Pulumi Cloud objects (they are in no AWS account).
CLOUD_ACCOUNT = "pulumi-cloud"


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "admin-preview",
        help="render the admin program (Pulumi Deployments settings and schedules) offline",
        description=__doc__.splitlines()[0] if __doc__ else None,
    )
    parser.add_argument("--program", default=str(DEFAULT_PROGRAM_DIR), help="admin program directory")
    parser.add_argument("--stack", default="admin", help="admin stack name (config from Pulumi.<stack>.yaml)")
    parser.add_argument("--config", help="stack config file instead of <program>/Pulumi.<stack>.yaml")
    parser.add_argument("--json", dest="json_out", help="write the preview document to this file")
    parser.add_argument("--policies", action="store_true", help="also run the org-patching policy pack")
    parser.add_argument("--policy-config", help="policy pack config JSON (with --policies)")
    parser.add_argument("--quiet", action="store_true", help="no tree on stdout")
    return parser


def validate_config(program_dir: Path, config_file: Path) -> None:
    """Validate the admin config with the program's own loader first, so a bad value is one
    line naming the key (exit 2) instead of a traceback from inside the render."""
    # The program's modules are forgotten afterwards: the render imports them afresh from the same place.
    with program_imports(program_dir):
        try:
            config_module = importlib.import_module("org_patching_admin.config")
            config_module.load_stack_file(config_file)
        except ImportError as error:
            raise ProgramError(f"{program_dir}: not the org-patching admin program ({error})") from None
        except Exception as error:
            if type(error).__name__ == "AdminConfigError":
                raise InputError(str(error)) from None
            raise


def render_admin(program: str | Path, stack: str, config: str | Path | None = None) -> Capture:
    """Validate, then render the admin program the way ``pulumi preview`` would run it."""
    program_dir = Path(program).resolve()
    if not program_dir.is_dir():
        raise ProgramError(f"{program}: not a directory")
    config_file = Path(config) if config else program_dir / f"Pulumi.{stack}.yaml"
    validate_config(program_dir, config_file)
    # No AWS here: strict mocks, so an AWS invoke sneaking into the admin program fails loudly.
    return render_program(program_dir, stack=stack, config_file=config_file, mocks=AwsMocks(strict=True))


def cloud_document(capture: Capture, result: Any = None) -> dict[str, Any]:
    """``build_document``, with the Pulumi Cloud objects placed in Pulumi Cloud (``account``
    ``pulumi-cloud``, ``region`` the organization): the mocks would otherwise attribute them to
    the default AWS account and region, and the tree would show them there."""
    document = build_document(capture, result)
    placement: dict[str, dict[str, int]] = {}
    for item in document["resources"]:
        if item["type"].startswith(CLOUD_PREFIX):
            item["account"] = CLOUD_ACCOUNT
            item["region"] = str(item["inputs"].get("organization") or "")
            regions = placement.setdefault(CLOUD_ACCOUNT, {})
            regions[item["region"]] = regions.get(item["region"], 0) + 1
    document["summary"]["byAccount"] = placement
    document["deployments"] = deployments_view(document)
    return document


def deployments_view(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Per target stack (``org/project/stack``): its settings and schedules, from the inputs."""
    view: dict[str, dict[str, Any]] = {}
    for item in document["resources"]:
        if not item["type"].startswith(CLOUD_PREFIX):
            continue
        inputs = item["inputs"]
        key = f"{inputs.get('organization')}/{inputs.get('project')}/{inputs.get('stack')}"
        entry = view.setdefault(key, {"settings": None, "drift": None, "schedules": []})
        if item["type"] == SETTINGS:
            context = inputs.get("operationContext") or {}
            git = (inputs.get("sourceContext") or {}).get("git") or {}
            vcs = inputs.get("vcs") or inputs.get("github") or {}
            aws = ((context.get("oidc") or {}).get("aws")) or {}
            entry["settings"] = {
                "repository": vcs.get("repository"),
                "branch": git.get("branch"),
                "repoDir": git.get("repoDir"),
                "deployCommits": vcs.get("deployCommits"),
                "previewPullRequests": vcs.get("previewPullRequests"),
                "awsRoleArn": aws.get("roleARN"),
                "sessionName": aws.get("sessionName"),
                "duration": aws.get("duration"),
                "preRunCommands": context.get("preRunCommands") or [],
                "environmentVariables": sorted((context.get("environmentVariables") or {}).keys()),
            }
        elif item["type"] == DRIFT:
            entry["drift"] = {"cron": inputs.get("scheduleCron"), "autoRemediate": bool(inputs.get("autoRemediate"))}
        elif item["type"] == SCHEDULE:
            entry["schedules"].append(
                {
                    "operation": inputs.get("pulumiOperation"),
                    "cron": inputs.get("scheduleCron") or inputs.get("timestamp"),
                }
            )
    return view


def print_deployments(document: dict[str, Any], out: TextIO) -> None:
    """The part of the preview people read: what every stack's deployments will do."""
    view = document["deployments"]
    out.write(f"pulumi deployments: {len(view)} stack(s)\n")
    for stack, entry in view.items():
        out.write(f"  {stack}\n")
        settings = entry["settings"]
        if settings is None:
            out.write("    settings: MISSING (schedules cannot run without deployment settings)\n")
        else:
            triggers = [
                name
                for name, on in (
                    ("push-to-deploy", settings["deployCommits"]),
                    ("PR previews", settings["previewPullRequests"]),
                )
                if on
            ]
            out.write(
                f"    source:    github {settings['repository']} @ {settings['branch']}  dir {settings['repoDir']}"
                f"  ({', '.join(triggers) if triggers else 'no push/PR triggers'})\n"
            )
            out.write(
                f"    aws oidc:  {settings['awsRoleArn']}  session {settings['sessionName']}, {settings['duration']}\n"
            )
            out.write(f"    pre-run:   {'; '.join(settings['preRunCommands']) or '(none)'}\n")
            if settings["environmentVariables"]:
                out.write(f"    env:       {', '.join(settings['environmentVariables'])}\n")
        drift = entry["drift"]
        if drift is None:
            out.write("    drift:     none\n")
        else:
            remediate = "auto-remediate" if drift["autoRemediate"] else "detect only"
            out.write(f"    drift:     {drift['cron']}  ({remediate})\n")
        for schedule in entry["schedules"]:
            out.write(f"    schedule:  pulumi {schedule['operation']} at {schedule['cron']}\n")


def run(args: argparse.Namespace) -> int:
    try:
        capture = render_admin(args.program, args.stack, args.config)
        result = run_policies(capture, load_policy_config(args.policy_config)) if args.policies else None
    except (InputError, ProgramError, PolicyConfigError) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    document = cloud_document(capture, result)
    return publish(document, args.json_out, args.quiet, sys.stdout, extra=print_deployments)
