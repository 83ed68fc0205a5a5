"""The preview / policy-check document (docs/architecture.md, "Contracts other code depends on") and its readable form.

``{"stack", "resources": [{"urn","type","name","parent","provider","account","region","inputs"}],
"outputs", "violations": [{"policy","level","urn","message"}], "summary"}``
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

from google.protobuf import json_format

from patchctl.errors import EXIT_OK, EXIT_VIOLATION

from .analyzer import PolicyResult
from .monitor import STACK_TYPE, Recorded
from .render import Capture

UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
_SIG = "4dabf18193072939515e22adb298388d"
_SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"
#: Services whose resources are global (no region of their own).
GLOBAL_PREFIXES = ("aws:iam/", "aws:organizations/")


def plain(value: Any) -> Any:
    """Wire values made JSON-friendly: unknowns and secrets become readable markers."""
    if isinstance(value, dict):
        signature = value.get(_SIG)
        if signature == _SECRET_SIG:
            return "[secret]"
        if signature is not None:
            return {k: plain(v) for k, v in value.items() if k != _SIG}
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    if value == UNKNOWN:
        return "<computed>"
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def account_of(capture: Capture, record: Recorded) -> str:
    if record.is_provider:
        return capture.mocks.account_of(f"{record.urn}::{record.id}")
    if record.type == STACK_TYPE or not record.custom:
        return ""
    return capture.account_of(record)


def region_of(capture: Capture, record: Recorded) -> str:
    if record.is_provider:
        return str(record.inputs.get("region") or "")
    if record.type == STACK_TYPE or not record.custom:
        return ""
    if record.type.startswith(GLOBAL_PREFIXES):
        return "global"
    return capture.region_of(record)


def build_document(capture: Capture, result: PolicyResult | None) -> dict[str, Any]:
    resources = [
        {
            "urn": r.urn,
            "type": r.type,
            "name": r.name,
            "parent": r.parent,
            "provider": r.provider_urn,
            "account": account_of(capture, r),
            "region": region_of(capture, r),
            "inputs": plain(json_format.MessageToDict(r.inputs_struct)),
        }
        for r in capture.resources
    ]
    violations = [v.as_json() for v in (result.violations if result else [])]
    levels = Counter(v["level"] for v in violations)
    placement: dict[str, Counter[str]] = defaultdict(Counter)
    for item in resources:
        if item["account"]:
            placement[item["account"]][item["region"] or "-"] += 1
    summary = {
        "resources": len(resources),
        "byType": dict(sorted(Counter(r["type"] for r in resources).items())),
        "byAccount": {account: dict(sorted(regions.items())) for account, regions in sorted(placement.items())},
        "violations": {"mandatory": levels["mandatory"] + levels["remediate"], "advisory": levels["advisory"]},
        "remediations": len(result.remediations) if result else 0,
        "policiesRun": result is not None,
        "warnings": list(capture.warnings),
    }
    return {
        "stack": capture.stack,
        "project": capture.project,
        "resources": resources,
        "outputs": plain(capture.outputs),
        "violations": violations,
        "summary": summary,
    }


def write_document(document: dict[str, Any], path: str | Path) -> None:
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(document, indent=2, sort_keys=False) + "\n")


def print_tree(document: dict[str, Any], out: TextIO) -> None:
    """Resources grouped by account and region, with counts per type, then policy results."""
    resources = document["resources"]
    summary = document["summary"]
    out.write(f"stack {document['stack']}: {summary['resources']} resources\n")
    grouped: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    for item in resources:
        if not item["account"] or item["type"].startswith("pulumi:providers:"):
            continue
        grouped[(item["account"], item["region"])][item["type"]] += 1
    components = Counter(r["type"] for r in resources if not r["account"] and r["type"] != STACK_TYPE)
    providers = [r for r in resources if r["type"].startswith("pulumi:providers:")]
    out.write(f"  providers: {len(providers)}   components: {sum(components.values())}\n")
    current = None
    for (account, region), types in sorted(grouped.items()):
        if account != current:
            current = account
            total = sum(sum(t.values()) for (a, _), t in grouped.items() if a == account)
            out.write(f"  account {account}  ({total} resources)\n")
        out.write(f"    {region}: {sum(types.values())}\n")
        for type_token, count in sorted(types.items()):
            out.write(f"      {count:4d}  {type_token}\n")
    violations = document["violations"]
    if not summary["policiesRun"]:
        out.write("policies: not run\n")
        return
    mandatory = summary["violations"]["mandatory"]
    out.write(f"policies: {mandatory} mandatory, {summary['violations']['advisory']} advisory")
    out.write(f", {summary['remediations']} remediation(s)\n" if summary["remediations"] else "\n")
    for violation in violations:
        name = violation["urn"].rsplit("::", 1)[-1] if violation["urn"] else "(stack)"
        out.write(f"  [{violation['level']}] {violation['policy']}  ({name})\n")
        for line in violation["message"].splitlines():
            out.write(f"      {line}\n")
    for warning in summary["warnings"]:
        out.write(f"warning: {warning}\n")
    if mandatory:
        out.write(f"{mandatory} mandatory violation(s): `pulumi up` would fail\n")


def publish(
    document: dict[str, Any],
    json_out: str | None,
    quiet: bool,
    out: TextIO,
    extra: Callable[[dict[str, Any], TextIO], None] | None = None,
) -> int:
    """What every rendering command ends with: write the document (``--json``), print the tree
    and ``extra`` (unless ``--quiet``), and return the exit code: 1 on a mandatory violation."""
    if json_out:
        write_document(document, json_out)
    if not quiet:
        print_tree(document, out)
        if extra is not None:
            extra(document, out)
        if json_out:
            out.write(f"wrote {json_out}\n")
    return EXIT_VIOLATION if document["summary"]["violations"]["mandatory"] else EXIT_OK
