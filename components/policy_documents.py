"""IAM and resource policy documents, built as plain dicts (values may be Pulumi Outputs).

Helpers for the statements every part needs — TLS-only, organization scoping — so each is
written once and linted once. ``to_json`` turns a document with Outputs into an Output[str].
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import pulumi

Document = dict[str, Any]
Statement = dict[str, Any]


def document(*statements: Statement) -> Document:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def to_json(doc: Mapping[str, Any]) -> pulumi.Output[str]:
    """The document as JSON text, the same string, dependencies and secrecy as ``Output.json_dumps(doc)``,
    at a fraction of its cost: ``json_dumps`` first lifts every nested dict, list and string of the document
    into an ``Output`` of its own (``Output.from_input``), which made policies a third of the child stack's
    render. Here only the document's ``Output`` values are awaited (``Output.all``, which unwraps each as
    deeply and carries its resources, secrecy and unknowns), and the plain structure is dumped once."""
    found: list[pulumi.Output[Any]] = []
    _collect_outputs(doc, found)
    if not found:
        return pulumi.Output.from_input(json.dumps(doc))
    return pulumi.Output.all(*found).apply(lambda values: json.dumps(_substitute(doc, iter(values))))


def _collect_outputs(value: Any, found: list[pulumi.Output[Any]]) -> None:
    if isinstance(value, pulumi.Output):
        found.append(value)
    elif isinstance(value, Mapping):
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError(f"policy document keys must be strings, got {key!r}")
            _collect_outputs(item, found)
    elif isinstance(value, list | tuple):
        for item in value:
            _collect_outputs(item, found)


def _substitute(value: Any, resolved: Iterator[Any]) -> Any:
    """``value`` with its ``Output``s replaced, in :func:`_collect_outputs`' order, by their values."""
    if isinstance(value, pulumi.Output):
        return next(resolved)
    if isinstance(value, Mapping):
        return {key: _substitute(item, resolved) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_substitute(item, resolved) for item in value]
    return value


def allow(
    actions: Sequence[str],
    resources: Sequence[Any] | Any,
    *,
    sid: str | None = None,
    principal: Any = None,
    conditions: Mapping[str, Mapping[str, Any]] | None = None,
) -> Statement:
    statement: Statement = {}
    if sid:
        statement["Sid"] = sid
    statement["Effect"] = "Allow"
    if principal is not None:
        statement["Principal"] = principal
    statement["Action"] = list(actions)
    statement["Resource"] = resources if isinstance(resources, str | pulumi.Output) else list(resources)
    if conditions:
        statement["Condition"] = {k: dict(v) for k, v in conditions.items()}
    return statement


def deny_insecure_transport(bucket_arn: pulumi.Input[str]) -> Statement:
    """TLS-only: deny every S3 action over plain HTTP, for every principal."""
    return {
        "Sid": "DenyInsecureTransport",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [bucket_arn, pulumi.Output.concat(bucket_arn, "/*")],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }


def service_trust(service: str, *, source_account: pulumi.Input[str] | None = None) -> Document:
    """A role trusted by one AWS service, scoped to our account (confused-deputy guard)."""
    statement: Statement = {
        "Effect": "Allow",
        "Principal": {"Service": service},
        "Action": "sts:AssumeRole",
    }
    if source_account is not None:
        statement["Condition"] = {"StringEquals": {"aws:SourceAccount": source_account}}
    return document(statement)


def org_principal_condition(org_id: str) -> dict[str, dict[str, str]]:
    return {"StringEquals": {"aws:PrincipalOrgID": org_id}}


def org_source_condition(org_id: str) -> dict[str, dict[str, str]]:
    return {"StringEquals": {"aws:SourceOrgID": org_id}}
