"""Instances with no SSM inventory: ``patchctl report --unmanaged FILE``.

Why a separate input: an instance without the agent, an instance profile or Default Host Management never
reaches inventory, so no Glue table and no named query can count it. Whatever finds them (an EC2
DescribeInstances compared with SSM's managed nodes, the enrollment check) writes one JSON object per
instance, as a JSON array or one object per line::

    {"accountid": "222222222222", "region": "eu-west-1", "resourceid": "i-0abc...", "reason": "no instance profile"}

(``InstanceId`` is accepted for ``resourceid``; ``tags``, an object or EC2's ``[{"Key", "Value"}]`` list, is
optional; a tag sweep's own line, ``"sweep": true``, is skipped, so an object of the lake's ``unmanaged/`` prefix
is a valid file.) The report counts them as ours and not compliant, unless the tag contract says otherwise (an
exempt instance, an Auto Scaling, EKS or ECS node: counted apart). Without ``--unmanaged`` the report reads the
tag sweeps' findings from the lake instead (:mod:`.lake_unmanaged`).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from .errors import ReportError

_ACCOUNT_ID = re.compile(r"^\d{12}$")


def _tags(value: Any, where: str) -> dict[str, str]:
    """``{"k": "v"}`` or EC2's ``[{"Key": "k", "Value": "v"}]``."""
    if value is None:
        return {}
    if isinstance(value, dict):
        return {str(k): str(v) for k, v in value.items()}
    if isinstance(value, list) and all(isinstance(t, dict) and "Key" in t for t in value):
        return {str(t["Key"]): str(t.get("Value", "")) for t in value}
    raise ReportError(f"{where}: tags must be an object or EC2's [{{Key, Value}}] list")


def is_sweep_line(entry: Any) -> bool:
    """The line a tag sweep writes first in the lake's objects (``"sweep": true``, no instance): not an instance,
    so an object copied from ``s3://<bucket>/unmanaged/...`` works as ``--unmanaged FILE`` as it is."""
    return isinstance(entry, dict) and entry.get("sweep") is True and not entry.get("resourceid")


def entry_from(entry: Any, where: str) -> dict[str, Any]:
    """One instance in the report's form; :class:`ReportError` naming ``where`` when it is not one."""
    if not isinstance(entry, dict):
        raise ReportError(f"{where}: expected an object per instance")
    resource = entry.get("resourceid") or entry.get("InstanceId")
    account = entry.get("accountid")
    if not isinstance(account, str) or not _ACCOUNT_ID.match(account):
        raise ReportError(f"{where}: accountid {account!r} is not a 12-digit account id string")
    if not isinstance(resource, str) or not resource:
        raise ReportError(f"{where}: no resourceid (or InstanceId)")
    return {
        "accountid": account,
        "region": str(entry.get("region") or ""),
        "resourceid": resource,
        "reason": str(entry.get("reason") or "no SSM inventory"),
        "tags": _tags(entry.get("tags", entry.get("Tags")), where),
    }


def load_unmanaged(path: Path) -> list[dict[str, Any]]:
    """Read ``--unmanaged FILE`` (JSON array or JSON lines); one-line ReportError on bad input."""
    where = f"--unmanaged {path}"
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ReportError(f"{where}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ReportError(f"{where}: cannot read it ({type(exc).__name__})") from None
    stripped = text.strip()
    if not stripped:
        return []
    if stripped.startswith("["):
        try:
            entries = json.loads(stripped)
        except json.JSONDecodeError as exc:
            raise ReportError(f"{where}: not JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})") from None
        return [
            entry_from(entry, f"{where}: item {index}")
            for index, entry in enumerate(entries)
            if not is_sweep_line(entry)
        ]
    found = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ReportError(f"{where}: line {number} is not JSON ({exc.msg} at column {exc.colno})") from None
        if not is_sweep_line(entry):
            found.append(entry_from(entry, f"{where}: line {number}"))
    return found
