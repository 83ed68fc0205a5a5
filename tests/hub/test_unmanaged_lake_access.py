"""Issue 15.4, attacked on the rendered stacks: who may write the tag sweeps' unmanaged findings into the lake.

Each request is evaluated against the documents the offline render produced (``tests/policy_eval.py``): the
hub's inventory bucket policy, its key policy and the child's tag-remediation role policy. The replay of the
real write, as the deployed role on the emulator, is in ``tests/devkit/test_iam_replay.py``.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from components import naming
from components.hub import unmanaged_table
from tests.policy_eval import Request, evaluate, role_policy_documents

ORG = "o-exampleorg01"
A, B = "222222222222", "333333333333"  # the example child accounts
SWEEP_ROLE = f"arn:aws:iam::{A}:role/{naming.TAG_REMEDIATION_ROLE}"


def _policy(capture: Any, name: str) -> dict[str, Any]:
    [resource] = [r for r in capture.resources if r.name == name]
    return json.loads(resource.inputs["policy"])


@pytest.fixture(scope="module")
def hub(central_capture: Any) -> dict[str, Any]:
    bucket_policy = _policy(central_capture, "hub-compliance-inventory-policy")
    [tls] = [s for s in bucket_policy["Statement"] if s["Sid"] == "DenyInsecureTransport"]
    [sync] = [s for s in bucket_policy["Statement"] if s.get("Sid") == f"SSMBucketDelivery{A}"]
    return {
        "bucket_policy": bucket_policy,
        "key_policy": _policy(central_capture, "hub-compliance-key"),
        "bucket": str(tls["Resource"][0]).removeprefix("arn:aws:s3:::"),
        "key": sync["Condition"]["StringEquals"]["s3:x-amz-server-side-encryption-aws-kms-key-id"],
    }


def _context(principal: str, account: str, org: str = ORG, **extra: str) -> dict[str, str]:
    return {
        "aws:PrincipalOrgID": org,
        "aws:PrincipalAccount": account,
        "aws:PrincipalArn": principal,
        "aws:SecureTransport": "true",
        **extra,
    }


def test_a_sweep_writes_only_its_own_accounts_prefix_with_the_hub_key(hub: dict[str, Any]) -> None:
    policy, bucket, key = hub["bucket_policy"], hub["bucket"], hub["key"]

    def put(path: str, principal: str = SWEEP_ROLE, account: str = A, org: str = ORG, kms: str = key) -> str:
        context = _context(principal, account, org, **{"s3:x-amz-server-side-encryption-aws-kms-key-id": kms})
        return evaluate(policy, Request(principal, "s3:PutObject", f"arn:aws:s3:::{bucket}/{path}", context))

    own = f"{naming.UNMANAGED_PREFIX}/accountid={A}/region=eu-west-1/dt=2026-11-29/findings.jsonl"
    assert put(own) == "allow"
    # the attacks: B's prefix, outside the prefix, another key, another role, the same role outside the org
    assert put(own.replace(A, B)) == "implicit-deny"
    assert put(f"{naming.INVENTORY_PREFIX}/AWS:Tag/accountid={A}/region=eu-west-1/x.json") == "implicit-deny"
    assert put(f"{naming.UNMANAGED_PREFIX}/x.jsonl") == "implicit-deny"
    assert put(own, kms=key.rsplit("/", 1)[0] + "/00000000-0000-4000-8000-000000000000") == "implicit-deny"
    assert put(own, principal=f"arn:aws:iam::{A}:role/InstanceRole") == "implicit-deny"
    assert put(own, org="o-otherorg0001") == "implicit-deny"
    no_key = _context(SWEEP_ROLE, A)
    assert evaluate(policy, Request(SWEEP_ROLE, "s3:PutObject", f"arn:aws:s3:::{bucket}/{own}", no_key)) == (
        "implicit-deny"
    )
    # the statement grants writes and nothing else: no read, no delete of the findings
    for action in ("s3:GetObject", "s3:DeleteObject"):
        assert evaluate(policy, Request(SWEEP_ROLE, action, f"arn:aws:s3:::{bucket}/{own}", no_key)) == "implicit-deny"


def test_the_key_encrypts_for_the_sweeps_only_through_s3_for_the_inventory_bucket(hub: dict[str, Any]) -> None:
    bucket = f"arn:aws:s3:::{hub['bucket']}"

    def use(action: str, context_arn: str = bucket, via: str = "s3.us-east-1.amazonaws.com", **kw: str) -> str:
        principal = kw.get("principal", SWEEP_ROLE)
        context = _context(principal, A, **{"kms:ViaService": via, "kms:EncryptionContext:aws:s3:arn": context_arn})
        return evaluate(hub["key_policy"], Request(principal, action, "*", context))

    assert use("kms:GenerateDataKey") == "allow"
    assert use("kms:Decrypt") == "implicit-deny"  # a single PUT needs no Decrypt: the findings stay unreadable
    assert use("kms:GenerateDataKey", context_arn="arn:aws:s3:::team-a-private-bucket") == "implicit-deny"
    assert use("kms:GenerateDataKey", via="sqs.us-east-1.amazonaws.com") == "implicit-deny"
    assert use("kms:GenerateDataKey", principal=f"arn:aws:iam::{A}:role/InstanceRole") == "implicit-deny"


def test_the_sweep_role_may_write_only_its_accounts_findings(child_capture: Any, hub: dict[str, Any]) -> None:
    """The child's half: each account's tag-remediation role names its own prefix and the hub's key."""
    roles = [
        r
        for r in child_capture.of_type("aws:iam/role:Role")
        if (r.inputs.get("name") or r.outputs.get("name")) == naming.TAG_REMEDIATION_ROLE
    ]
    assert len(roles) == 2
    for role in roles:
        account = child_capture.account_of(role)
        other = B if account == A else A
        [document] = [json.loads(text) for text in role_policy_documents(child_capture, role)]
        [write] = [s for s in document["Statement"] if s.get("Sid") == "WriteOwnUnmanagedFindings"]
        [encrypt] = [s for s in document["Statement"] if s.get("Sid") == "EncryptUnmanagedFindings"]
        bucket = write["Resource"][0].split(":::", 1)[1].split("/", 1)[0]
        key = write["Condition"]["StringEquals"]["s3:x-amz-server-side-encryption-aws-kms-key-id"]
        principal = f"arn:aws:iam::{account}:role/{naming.TAG_REMEDIATION_ROLE}"

        def put(
            owner: str, key: str = key, bucket: str = bucket, principal: str = principal, document: Any = document
        ) -> str:
            path = f"arn:aws:s3:::{bucket}/{naming.UNMANAGED_PREFIX}/accountid={owner}/region=eu-west-1/x.jsonl"
            context = {"s3:x-amz-server-side-encryption-aws-kms-key-id": key}
            return evaluate(document, Request(principal, "s3:PutObject", path, context), resource_policy=False)

        assert put(account) == "allow" and put(other) == "implicit-deny"
        assert put(account, key="arn:aws:kms:us-east-1:111111111111:key/other") == "implicit-deny"
        assert encrypt["Action"] == ["kms:GenerateDataKey"] and encrypt["Resource"] == [key]
        assert encrypt["Condition"]["StringEquals"]["kms:EncryptionContext:aws:s3:arn"] == f"arn:aws:s3:::{bucket}"
        assert encrypt["Condition"]["StringEquals"]["kms:ViaService"].startswith("s3.")


def test_the_hub_declares_the_table_and_the_query_over_the_prefix(central_capture: Any, hub: dict[str, Any]) -> None:
    [table] = [
        r
        for r in central_capture.of_type("aws:glue/catalogTable:CatalogTable")
        if r.inputs["name"] == "unmanaged_instances"
    ]
    parameters = table.inputs["parameters"]
    assert parameters["storage.location.template"] == (
        f"s3://{hub['bucket']}/unmanaged/accountid=${{accountid}}/region=${{region}}/dt=${{dt}}/"
    )
    assert parameters["projection.accountid.values"] == f"{A},{B}" and parameters["projection.dt.type"] == "date"
    [query] = [
        r
        for r in central_capture.of_type("aws:athena/namedQuery:NamedQuery")
        if r.inputs["name"] == unmanaged_table.NAMED_QUERY_NAME
    ]
    assert query.inputs["query"] == unmanaged_table.NAMED_QUERY_SQL
    assert query.inputs["database"] == naming.GLUE_DATABASE
