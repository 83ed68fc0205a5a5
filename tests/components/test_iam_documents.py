"""Every IAM and resource policy both stacks render is linted with parliament (a finding that is
not listed here as a false positive, with its reason, fails), and every statement that opens
access beyond the account is scoped to the organization."""

from __future__ import annotations

import json
from typing import Any

import parliament

from tests.policy_eval import role_policy_documents

POLICY_PROPERTIES = {
    "aws:kms/key:Key": "policy",
    "aws:s3/bucketPolicy:BucketPolicy": "policy",
    "aws:iam/role:Role": "assumeRolePolicy",
    "aws:iam/policy:Policy": "policy",
    "aws:iam/rolePolicy:RolePolicy": "policy",
    "aws:sns/topicPolicy:TopicPolicy": "policy",
    "aws:sqs/queuePolicy:QueuePolicy": "policy",
    "aws:cloudwatch/eventBusPolicy:EventBusPolicy": "policy",
}

#: Findings parliament reports that are not defects, each with the reason. parliament lints every
#: document as an identity policy and its reference data predates some condition keys; any other
#: finding (any severity) fails the test.
KNOWN_FALSE_POSITIVES: dict[str, str] = {
    # Key policies: Resource "*" means "this key" (KMS Developer Guide, "Key policies").
    "RESOURCE_STAR": "a key policy's Resource '*' is the key itself; identity statements on '*' are checked below",
    # Resource and trust policies name principals, which an identity policy cannot.
    "UNKNOWN_PRINCIPAL": "resource and trust policies name principals",
    "UNKNOWN_FEDERATION_SOURCE": "resource and trust policies name principals",
}

#: (finding, detail fragment) pairs that are false positives only in that form, with the reason.
KNOWN_FALSE_POSITIVE_DETAILS: list[tuple[str, str, str]] = [
    (
        "UNKNOWN_CONDITION_FOR_ACTION",
        "aws:SourceOrgID",
        "a global condition key (IAM User Guide, 2023) newer than parliament's reference data",
    ),
    (
        "UNKNOWN_CONDITION_FOR_ACTION",
        "kms:EncryptionContext:aws:logs:arn",
        "kms:EncryptionContext:${key} accepts any context key; CloudWatch Logs documents this one",
    ),
    (
        "MISMATCHED_TYPE",
        "ArnLike requires a value of type Arn but given String",
        "CloudWatch Logs documents ArnLike on kms:EncryptionContext:aws:logs:arn (an ARN)",
    ),
    (
        "MISMATCHED_TYPE_BUT_USABLE",
        "StringEquals requires a value of type String but given Arn",
        "aws:SourceArn compared with StringEquals as the S3 and SSM documentation does",
    ),
    (
        "RESOURCE_MISMATCH",
        "document/*",
        "AWS-owned documents have no account in their ARN (arn:aws:ssm:<region>::document/AWS-...)",
    ),
    (
        "MISMATCHED_TYPE_BUT_USABLE",
        "StringNotEquals requires a value of type String but given Arn",
        "the S3 KMS key-id header is compared with the key's ARN, as the S3 User Guide's examples do",
    ),
]

#: Actions whose resource types the program splits across statements, so each type carries its own
#: conditions (the builder's instance and volume must be tagged, its image may be any owner's...).
#: parliament judges statement by statement and reports the types each one leaves out; AWS authorises
#: every resource type of the call against all statements, which the IAM replay does
#: (tests/devkit/test_iam_replay.py runs the rebake as this role: 0 denied calls).
SPLIT_ACROSS_STATEMENTS = frozenset({"ec2:RunInstances", "ec2:CreateImage"})


def documents(capture: Any) -> list[tuple[str, str, dict[str, Any]]]:
    """(resource URN, property, document) for every policy document a stack renders."""
    found = []
    for record in capture.resources:
        prop = POLICY_PROPERTIES.get(record.type)
        if prop and isinstance(record.inputs.get(prop), str):
            found.append((record.urn, prop, json.loads(record.inputs[prop])))
        for inline in record.inputs.get("inlinePolicies") or []:
            if isinstance(inline, dict) and isinstance(inline.get("policy"), str):
                found.append((record.urn, f"inlinePolicies[{inline.get('name')}]", json.loads(inline["policy"])))
    return found


def lint(docs: list[tuple[str, str, dict[str, Any]]]) -> list[str]:
    problems = []
    for urn, prop, doc in docs:
        trust = prop == "assumeRolePolicy"
        for raw in parliament.analyze_policy_string(json.dumps(doc), include_community_auditors=False).findings:
            finding = parliament.enhance_finding(raw)
            detail = str(finding.detail)
            if finding.issue in KNOWN_FALSE_POSITIVES:
                continue
            if trust and finding.issue == "MALFORMED" and "neither Resource nor NotResource" in detail:
                continue  # trust policies have no Resource (IAM User Guide, "Role trust policy")
            if any(issue == finding.issue and part in detail for issue, part, _ in KNOWN_FALSE_POSITIVE_DETAILS):
                continue
            split = isinstance(finding.detail, list) and {str(i.get("action")) for i in finding.detail}
            if finding.issue == "RESOURCE_MISMATCH" and split and split <= SPLIT_ACROSS_STATEMENTS:
                continue
            problems.append(f"{urn.split('::')[-1]} {prop}: {finding.severity} {finding.issue} {detail[:300]}")
    return problems


def test_central_policies_lint_clean(central_capture: Any) -> None:
    docs = documents(central_capture)
    assert len(docs) >= 5
    assert lint(docs) == []


def test_child_policies_lint_clean(child_capture: Any) -> None:
    docs = documents(child_capture)
    # every role's inline policy is a RolePolicy (the Role's inline_policies input is deprecated): each is linted
    role_policies = [d for d in docs if "aws:iam/rolePolicy:RolePolicy" in d[0]]
    assert len(role_policies) == len(child_capture.of_type("aws:iam/rolePolicy:RolePolicy")) >= 16
    assert not [d for d in docs if d[1].startswith("inlinePolicies")]
    assert lint(docs) == []


#: Roles with no permissions at all, by design (URN name -> why).
ROLES_WITHOUT_PERMISSIONS = {
    "hub-catalog-hub-launch-role": "the hub's namesake of the child launch role, for CreateConstraint only "
    "(tests/hub/test_catalog_component.py asserts it has no policy)",
}


def test_every_role_of_both_stacks_has_its_permissions_read(central_capture: Any, child_capture: Any) -> None:
    """No role's permissions escape the lint: each has a RolePolicy read above or only managed attachments."""
    for capture in (central_capture, child_capture):
        attached = {
            (capture.account_of(a), a.inputs["role"])
            for a in capture.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
        }
        for role in capture.of_type("aws:iam/role:Role"):
            if role.urn.split("::")[-1] in ROLES_WITHOUT_PERMISSIONS:
                continue
            names = {role.outputs.get("name"), role.inputs.get("name"), role.id}
            account = capture.account_of(role)
            has_policy = bool(role_policy_documents(capture, role)) or any((account, n) in attached for n in names)
            assert has_policy, role.urn


def test_the_lint_fails_on_a_real_finding() -> None:
    """The linter is not silenced: a statement naming a resource the action cannot take is reported."""
    bad = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::bucket"}],
    }
    [problem] = lint([("urn:pulumi:x::y::aws:iam/rolePolicy:RolePolicy::bad", "policy", bad)])
    assert "RESOURCE_MISMATCH" in problem


def test_statements_open_to_everyone_are_org_scoped(central_capture: Any) -> None:
    for urn, _, doc in documents(central_capture):
        for statement in doc["Statement"]:
            principal = statement.get("Principal")
            if statement["Effect"] != "Allow" or principal not in ("*", {"AWS": "*"}):
                continue
            assert "aws:PrincipalOrgID" in json.dumps(statement.get("Condition", {})), (urn, statement)
