"""Account names for the report: ``patchctl report --accounts FILE``.

Why a file and not a call: the report runs offline (a copy of the bucket, an air-gapped host) as often as
on AWS, and the names live in Organizations, in the management account, which the report's role usually
cannot read. The file is what Organizations already prints, so nobody types names by hand::

    aws organizations list-accounts --output json > accounts.json    # {"Accounts": [{"Id", "Name", ...}]}

The central stack's outputs (``pulumi stack output --json -s central``) work too: their ``accountNames``
are the names the central stack discovered in Organizations (or its ``org-patching:accountNames``). A plain
mapping ``{"222222222222": "payments-prod"}`` (JSON) works too. Bad input is one line
(:class:`ReportError`) naming the file and what is wrong.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .errors import ReportError

_ACCOUNT_ID = re.compile(r"^\d{12}$")


def parse_account_names(document: Any, where: str) -> dict[str, str]:
    """``{account id: name}`` from ``list-accounts`` output or a plain mapping; raises ReportError."""
    if isinstance(document, Mapping) and "Accounts" in document:
        entries = document["Accounts"]
        if not isinstance(entries, list):
            raise ReportError(f"{where}: 'Accounts' must be a list (aws organizations list-accounts output)")
        pairs = []
        for index, entry in enumerate(entries):
            if not isinstance(entry, Mapping) or not isinstance(entry.get("Id"), str):
                raise ReportError(f"{where}: Accounts[{index}] has no 'Id' string")
            pairs.append((entry["Id"], entry.get("Name")))
    elif isinstance(document, Mapping) and "accountNames" in document:
        outputs = document["accountNames"]
        if not isinstance(outputs, Mapping):
            raise ReportError(f"{where}: 'accountNames' must be an object (the central stack's outputs)")
        pairs = list(outputs.items())
    elif isinstance(document, Mapping):
        pairs = list(document.items())
    else:
        raise ReportError(
            f"{where}: expected list-accounts output, the central stack's outputs or an object of account id -> name"
        )
    names: dict[str, str] = {}
    for account, name in pairs:
        if not isinstance(account, str) or not _ACCOUNT_ID.match(account):
            raise ReportError(f"{where}: {account!r} is not a 12-digit account id (quote it in the file)")
        if not isinstance(name, str) or not name.strip():
            raise ReportError(f"{where}: account {account} has no name")
        names[account] = name.strip()
    return names


def load_account_names(path: Path) -> dict[str, str]:
    """Read ``--accounts FILE``; one-line ReportError for a missing, unreadable or malformed file."""
    where = f"--accounts {path}"
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ReportError(f"{where}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ReportError(f"{where}: cannot read it ({type(exc).__name__})") from None
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ReportError(f"{where}: not JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from None
    return parse_account_names(document, where)


def account_label(account: str, names: Mapping[str, str]) -> str:
    """``payments-prod (222222222222)`` when the name is known, else the id."""
    name = names.get(account)
    return f"{name} ({account})" if name else account
