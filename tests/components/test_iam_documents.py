"""Every IAM and resource policy the central stack renders is linted with parliament, and
every statement that opens access beyond the account is scoped to the organization."""

from __future__ import annotations

import json
from typing import Any

import parliament

POLICY_PROPERTIES = {
    "aws:kms/key:Key": "policy",
    "aws:s3/bucketPolicy:BucketPolicy": "policy",
    "aws:iam/role:Role": "assumeRolePolicy",
    "aws:iam/policy:Policy": "policy",
    "aws:iam/rolePolicy:RolePolicy": "policy",
}

#: Findings parliament reports that do not apply to resource policies it lints as identity
#: policies (a key policy's Resource "*" means "this key"; bucket policies name principals).
IGNORED_FINDINGS = {"RESOURCE_STAR", "UNKNOWN_PRINCIPAL", "UNKNOWN_FEDERATION_SOURCE"}


def documents(capture: Any) -> list[tuple[str, dict[str, Any]]]:
    found = []
    for record in capture.resources:
        prop = POLICY_PROPERTIES.get(record.type)
        if prop and isinstance(record.inputs.get(prop), str):
            found.append((record.urn, json.loads(record.inputs[prop])))
    return found


def test_policies_lint_clean(central_capture: Any) -> None:
    docs = documents(central_capture)
    assert len(docs) >= 5
    problems = []
    for urn, doc in docs:
        for finding in parliament.analyze_policy_string(json.dumps(doc), include_community_auditors=False).findings:
            if finding.issue not in IGNORED_FINDINGS and finding.severity in ("HIGH", "MEDIUM", "CRITICAL"):
                problems.append(f"{urn}: {finding.issue} {finding.detail}")
    assert not problems, "\n".join(problems)


def test_statements_open_to_everyone_are_org_scoped(central_capture: Any) -> None:
    for urn, doc in documents(central_capture):
        for statement in doc["Statement"]:
            principal = statement.get("Principal")
            if statement["Effect"] != "Allow" or principal not in ("*", {"AWS": "*"}):
                continue
            assert "aws:PrincipalOrgID" in json.dumps(statement.get("Condition", {})), (urn, statement)
