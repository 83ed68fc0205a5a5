"""IAM policy documents as they arrive (JSON text in pulumi-aws, objects in aws-native; parse
them with ``wire.json_or_obj``) and the account ARNs they name.

Read by the guard rails (S3 TLS-only policies, IAM statements, trust policies, provider roles)
and by the app-team IAM-grant resolver, so a statement is picked out of a document one way.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final

from wire import as_list

#: An IAM principal ARN naming an account: group 1 the account id, group 2 what in it.
ACCOUNT_ARN: Final = re.compile(r"^arn:aws[\w-]*:iam::(\d{12}):(root|role/.+|user/.+|assumed-role/.+)$")


def statements(document: Any, effect: str) -> list[Mapping[str, Any]]:
    """The statements of ``document`` with ``Effect`` ``effect`` (none when it is not a document)."""
    if not isinstance(document, Mapping):
        return []
    return [
        statement
        for statement in as_list(document.get("Statement"))
        if isinstance(statement, Mapping) and statement.get("Effect") == effect
    ]


def allow_statements(document: Any) -> list[Mapping[str, Any]]:
    """The ``Allow`` statements of ``document``."""
    return statements(document, "Allow")
