"""IAM and resource policy documents, built as plain dicts (values may be Pulumi Outputs).

Helpers for the statements every part needs — TLS-only, organization scoping — so each is
written once and linted once. ``to_json`` turns a document with Outputs into an Output[str].
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pulumi

Document = dict[str, Any]
Statement = dict[str, Any]


def document(*statements: Statement) -> Document:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def to_json(doc: Mapping[str, Any]) -> pulumi.Output[str]:
    return pulumi.Output.json_dumps(doc)


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
