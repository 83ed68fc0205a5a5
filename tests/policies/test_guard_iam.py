"""``guard_iam``: no admin statements, no wildcard iam:PassRole, cross-account trust scoped to the org."""

from __future__ import annotations

import json

from policy_testing import U, provider, run_resource

GR = "org-patching"


def _doc(*statements: dict) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def test_no_admin_statements() -> None:
    admin = _doc({"Effect": "Allow", "Action": "*", "Resource": "*", "Sid": "Boom"})
    [message] = run_resource("iam-no-admin-statements", "aws:iam/policy:Policy", {"policy": admin}, project=GR)
    assert message == "Policy 'res' allows '*' on '*' (Sid Boom)."
    inline = {"inlinePolicies": [{"name": "x", "policy": admin}]}
    assert len(run_resource("iam-no-admin-statements", "aws:iam/role:Role", inline, project=GR)) == 1
    scoped = _doc(
        {"Effect": "Allow", "Action": "ssm:*", "Resource": "*"}, {"Effect": "Deny", "Action": "*", "Resource": "*"}
    )
    assert run_resource("iam-no-admin-statements", "aws:iam/policy:Policy", {"policy": scoped}, project=GR) == []
    assert run_resource("iam-no-admin-statements", "aws:iam/policy:Policy", {"policy": U}, project=GR) == []


def test_no_wildcard_passrole() -> None:
    wild = _doc({"Effect": "Allow", "Action": ["iam:PassRole"], "Resource": "*"})
    [message] = run_resource("iam-no-wildcard-passrole", "aws:iam/rolePolicy:RolePolicy", {"policy": wild}, project=GR)
    assert "allows iam:PassRole on *" in message
    star = _doc({"Effect": "Allow", "Action": "iam:*", "Resource": "arn:aws:iam::1:role/*"})
    assert len(run_resource("iam-no-wildcard-passrole", "aws:iam/policy:Policy", {"policy": star}, project=GR)) == 1
    named = _doc({"Effect": "Allow", "Action": "iam:PassRole", "Resource": "arn:aws:iam::111111111111:role/x"})
    assert run_resource("iam-no-wildcard-passrole", "aws:iam/policy:Policy", {"policy": named}, project=GR) == []
    native = {"policyDocument": json.loads(wild)}
    assert len(run_resource("iam-no-wildcard-passrole", "aws-native:iam:ManagedPolicy", native, project=GR)) == 1


def test_trust_is_org_scoped() -> None:
    prov = provider("111111111111", {"allowedAccountIds": '["111111111111"]'}, project=GR)
    role = "aws:iam/role:Role"

    def trust(principal: object, condition: dict | None = None) -> list[str]:
        statement: dict = {"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"}
        if condition:
            statement["Condition"] = condition
        return run_resource("iam-trust-org-scoped", role, {"assumeRolePolicy": _doc(statement)}, project=GR, prov=prov)

    assert trust({"Service": "lambda.amazonaws.com"}) == []
    assert trust({"AWS": "arn:aws:iam::222222222222:role/org-patching-automation-administration"}) == []
    assert trust({"AWS": "arn:aws:iam::111111111111:root"}) == []  # own account
    [message] = trust({"AWS": "arn:aws:iam::222222222222:root"})
    assert message == (
        "role 'res' trust policy: account 222222222222 (whole account) without an aws:PrincipalOrgID condition."
    )
    assert trust({"AWS": "222222222222"}, {"StringEquals": {"aws:PrincipalOrgID": "o-1"}}) == []
    assert len(trust("*")) == 1
    assert trust("*", {"ForAnyValue:StringLike": {"aws:PrincipalOrgPaths": ["o-1/*"]}}) == []
    assert run_resource("iam-trust-org-scoped", role, {"assumeRolePolicy": U}, project=GR) == []
