"""``patchctl summary``: preview/policy-check documents as Markdown for a CI job summary.

A pull request's reviewers read the job summary, not the JSON artifact: this turns one or
more documents written by ``patchctl preview --json`` (or ``policy-check``/``admin-preview``)
into a short Markdown report (a table of stacks with their resource and violation counts,
then every violation with its policy, resource and message) for ``$GITHUB_STEP_SUMMARY``.
It only reads and formats; it exits 1 with ``--fail-on-mandatory`` when a document has a
mandatory violation, so a workflow can write the summary first and fail afterwards.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

EXIT_OK, EXIT_VIOLATION, EXIT_BAD_INPUT = 0, 1, 2
#: GitHub caps one step summary at 1 MiB; a runaway violation list must not eat it.
MAX_VIOLATIONS_PER_STACK = 50
_LEVEL_ICON = {"mandatory": "❌", "remediate": "🔧", "advisory": "⚠️"}


class SummaryInputError(Exception):
    """A document cannot be read (exit 2, one line)."""


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "summary",
        help="turn preview/policy-check JSON documents into Markdown (for $GITHUB_STEP_SUMMARY)",
        description=__doc__.splitlines()[0] if __doc__ else None,
    )
    parser.add_argument("--json", dest="documents", nargs="+", required=True, metavar="FILE", help="JSON documents")
    parser.add_argument("--title", default="org-patching preview", help="heading of the report")
    parser.add_argument("--out", help="append the Markdown to this file instead of printing it")
    parser.add_argument(
        "--fail-on-mandatory", action="store_true", help="exit 1 when any document has a mandatory violation"
    )
    return parser


def load_document(path: str | Path) -> dict[str, Any]:
    try:
        document = json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise SummaryInputError(f"{path}: document does not exist (did the preview step run?)") from None
    except (OSError, UnicodeDecodeError) as error:  # a directory, no permission, not UTF-8 (found by tests/fuzz)
        raise SummaryInputError(f"{path}: document cannot be read ({type(error).__name__})") from None
    except json.JSONDecodeError as error:
        raise SummaryInputError(f"{path}: not valid JSON ({error.msg} at line {error.lineno})") from None
    if not isinstance(document, dict) or not isinstance(document.get("summary"), dict):
        raise SummaryInputError(f"{path}: not a patchctl preview/policy-check document (no 'summary')")
    return document


def cell(text: Any) -> str:
    """One Markdown table cell: pipes escaped, line breaks kept as <br>."""
    return str(text).replace("\\", "\\\\").replace("|", "\\|").replace("\r", "").replace("\n", "<br>")


def resource_name(urn: str) -> str:
    return urn.rsplit("::", 1)[-1] if urn else "(stack)"


def mandatory_count(document: dict[str, Any]) -> int:
    return int(document["summary"].get("violations", {}).get("mandatory", 0))


def status_of(document: dict[str, Any]) -> str:
    summary = document["summary"]
    if not summary.get("policiesRun", False):
        return "policies not run"
    if mandatory_count(document):
        return "❌ blocked"
    if summary.get("violations", {}).get("advisory", 0):
        return "⚠️ advisories"
    return "✅ passes"


def render(documents: Iterable[tuple[str, dict[str, Any]]], title: str) -> str:
    """The Markdown report for the documents, in the order given."""
    items = list(documents)
    lines = [f"## {title}", ""]
    lines += [
        "| stack | project | resources | mandatory | advisory | remediations | result |",
        "|---|---|---:|---:|---:|---:|---|",
    ]
    for _, document in items:
        summary = document["summary"]
        violations = summary.get("violations", {})
        lines.append(
            "| "
            + " | ".join(
                cell(value)
                for value in (
                    document.get("stack", "?"),
                    document.get("project", ""),
                    summary.get("resources", len(document.get("resources", []))),
                    violations.get("mandatory", 0),
                    violations.get("advisory", 0),
                    summary.get("remediations", 0),
                    status_of(document),
                )
            )
            + " |"
        )
    for path, document in items:
        violations = document.get("violations") or []
        warnings = document["summary"].get("warnings") or []
        if not violations and not warnings:
            continue
        lines += ["", f"### {cell(document.get('stack', path))}", ""]
        if violations:
            lines += ["| level | policy | resource | message |", "|---|---|---|---|"]
            for violation in violations[:MAX_VIOLATIONS_PER_STACK]:
                level = str(violation.get("level", ""))
                lines.append(
                    f"| {_LEVEL_ICON.get(level, '')} {cell(level)} | `{cell(violation.get('policy', ''))}` "
                    f"| {cell(resource_name(str(violation.get('urn', ''))))} | {cell(violation.get('message', ''))} |"
                )
            hidden = len(violations) - MAX_VIOLATIONS_PER_STACK
            if hidden > 0:
                lines.append(f"\n…and {hidden} more: see the JSON artifact ({cell(path)}).")
        for warning in warnings:
            lines.append(f"\n> warning: {cell(warning)}")
    blocked = [d.get("stack", "?") for _, d in items if mandatory_count(d)]
    lines.append("")
    if blocked:
        lines.append(
            f"**{len(blocked)} stack(s) with mandatory violations: `pulumi up` would fail for {', '.join(blocked)}.**"
        )
    else:
        lines.append("No mandatory violations.")
    return "\n".join(lines) + "\n"


def run(args: argparse.Namespace) -> int:
    try:
        documents = [(path, load_document(path)) for path in args.documents]
    except SummaryInputError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    markdown = render(documents, args.title)
    if args.out:
        with Path(args.out).open("a", encoding="utf-8") as out:
            out.write(markdown)
    else:
        sys.stdout.write(markdown)
    if args.fail_on_mandatory and any(mandatory_count(d) for _, d in documents):
        return EXIT_VIOLATION
    return EXIT_OK
