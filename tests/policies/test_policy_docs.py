"""``policy_docs``: statements by effect, and the account ARN pattern."""

from __future__ import annotations

import pytest
from policy_docs import ACCOUNT_ARN, allow_statements, statements

ALLOW = {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}
DENY = {"Effect": "Deny", "Action": "s3:*", "Resource": "*"}


def test_statements_by_effect() -> None:
    document = {"Statement": [ALLOW, DENY, "junk", {"Action": "x"}]}
    assert allow_statements(document) == [ALLOW]
    assert statements(document, "Deny") == [DENY]
    assert allow_statements({"Statement": ALLOW}) == [ALLOW]  # a single statement, not a list


@pytest.mark.parametrize("document", [None, "text", ["list"], {}, {"Statement": None}])
def test_no_document_no_statements(document: object) -> None:
    assert allow_statements(document) == []


@pytest.mark.parametrize(
    ("arn", "account", "what"),
    [
        ("arn:aws:iam::111111111111:root", "111111111111", "root"),
        ("arn:aws-us-gov:iam::222222222222:role/path/name", "222222222222", "role/path/name"),
        ("arn:aws:iam::333333333333:assumed-role/r/session", "333333333333", "assumed-role/r/session"),
    ],
)
def test_account_arn(arn: str, account: str, what: str) -> None:
    match = ACCOUNT_ARN.match(arn)
    assert match is not None and match.groups() == (account, what)


@pytest.mark.parametrize("arn", ["111111111111", "arn:aws:iam::1111:root", "arn:aws:iam::111111111111:policy/p"])
def test_not_an_account_arn(arn: str) -> None:
    assert ACCOUNT_ARN.match(arn) is None
