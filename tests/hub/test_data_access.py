"""Issue 13 item 8, attacked on the rendered policies: one account reading another's patch lists,
writing patch logs under a key of its choice, using the hub key for its own bucket, or writing
inventory into another account's ``accountid=`` partition. Each request is evaluated against
the documents the offline render produced (``tests/policy_eval.py``)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.policy_eval import Request, evaluate

ORG = "o-exampleorg01"
A, B = "222222222222", "333333333333"  # the example child accounts


def _policy(capture: Any, name: str) -> dict[str, Any]:
    [resource] = [r for r in capture.resources if r.name == name]
    return json.loads(resource.inputs["policy"])


def _bucket(capture: Any, name: str) -> str:
    [statement] = [s for s in _policy(capture, f"{name}-policy")["Statement"] if s["Sid"] == "DenyInsecureTransport"]
    return str(statement["Resource"][0]).removeprefix("arn:aws:s3:::")


@pytest.fixture(scope="module")
def hub(central_capture: Any) -> dict[str, Any]:
    [key] = [r for r in central_capture.resources if r.name == "hub-compliance-key"]
    return {
        "key": json.loads(key.inputs["policy"]),
        "lists": _bucket(central_capture, "hub-compliance-patch-lists"),
        "logs": _bucket(central_capture, "hub-compliance-patch-logs"),
        "inventory": _bucket(central_capture, "hub-compliance-inventory"),
        "capture": central_capture,
    }


def _key_arn(capture: Any) -> str:
    statement = next(
        s
        for s in _policy(capture, "hub-compliance-inventory-policy")["Statement"]
        if "Condition" in s and "s3:x-amz-acl" in json.dumps(s)
    )
    return str(statement["Condition"]["StringEquals"]["s3:x-amz-server-side-encryption-aws-kms-key-id"])


def _org(account: str) -> dict[str, str]:
    return {"aws:PrincipalOrgID": ORG, "aws:PrincipalAccount": account, "aws:SecureTransport": "true"}


def test_an_account_reads_only_its_own_patch_lists(hub: dict[str, Any]) -> None:
    policy = _policy(hub["capture"], "hub-compliance-patch-lists-policy")
    reader = f"arn:aws:iam::{A}:role/InstanceRole"

    def get(owner: str) -> str:
        return evaluate(
            policy,
            Request(reader, "s3:GetObject", f"arn:aws:s3:::{hub['lists']}/{owner}/override-lists/x.yaml", _org(A)),
        )

    assert get(A) == "allow"
    assert get(B) == "implicit-deny"  # the attack: another account's lists (allowed before)
    shared = Request(reader, "s3:GetObject", f"arn:aws:s3:::{hub['lists']}/shared.yaml", _org(A))
    assert evaluate(policy, shared) == "implicit-deny"


def test_the_instance_role_reads_only_its_own_prefix(child_capture: Any) -> None:
    documents = list(_identity_documents(child_capture, "ReadPatchLists"))
    assert documents
    for account, document in documents:
        other = next(x for x in (A, B) if x != account)
        for owner, expected in ((account, "allow"), (other, "implicit-deny")):
            request = Request(
                f"arn:aws:iam::{account}:role/InstanceRole", "s3:GetObject", f"arn:aws:s3:::bucket/{owner}/lists/x.yaml"
            )
            statement = next(s for s in document["Statement"] if s.get("Sid") == "ReadPatchLists")
            resource = statement["Resource"][0].split(":::", 1)[1].split("/", 1)[0]
            request = Request(request.principal, request.action, request.resource.replace("bucket", resource))
            assert evaluate(document, request, resource_policy=False) == expected, (account, owner)


def _identity_documents(capture: Any, sid: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """(account, document) of every rendered identity policy holding ``sid``."""
    for resource in capture.resources:
        texts: list[str] = []
        if resource.type == "aws:iam/role:Role":
            texts = [
                p["policy"] for p in resource.inputs.get("inlinePolicies") or [] if isinstance(p.get("policy"), str)
            ]
        elif resource.type in ("aws:iam/rolePolicy:RolePolicy", "aws:iam/policy:Policy"):
            texts = [resource.inputs["policy"]]
        for text in texts:
            document = json.loads(text)
            if any(s.get("Sid") == sid for s in document["Statement"]):
                account = next(a for a in (A, B) if a in resource.urn or a in text)
                yield account, document


def test_patch_log_writes_keep_the_hub_key(hub: dict[str, Any]) -> None:
    policy = _policy(hub["capture"], "hub-compliance-patch-logs-policy")
    key = _key_arn(hub["capture"])
    writer = f"arn:aws:iam::{A}:role/InstanceRole"
    obj = f"arn:aws:s3:::{hub['logs']}/{A}/i-0123/stdout"

    def put(**headers: str) -> str:
        return evaluate(policy, Request(writer, "s3:PutObject", obj, {**_org(A), **headers}))

    assert put() == "allow"  # the bucket default (the hub key) applies
    assert (
        put(**{"s3:x-amz-server-side-encryption": "aws:kms", "s3:x-amz-server-side-encryption-aws-kms-key-id": key})
        == "allow"
    )
    other = key.replace(key.rsplit("/", 1)[1], "00000000-0000-4000-8000-000000000000")
    assert put(**{"s3:x-amz-server-side-encryption-aws-kms-key-id": other}) == "deny"  # the attack
    assert put(**{"s3:x-amz-server-side-encryption": "AES256"}) == "deny"
    other_prefix = Request(writer, "s3:PutObject", f"arn:aws:s3:::{hub['logs']}/{B}/i-0123/stdout", _org(A))
    assert evaluate(policy, other_prefix) == "implicit-deny"


def test_the_organization_uses_the_hub_key_only_for_the_hubs_buckets(hub: dict[str, Any]) -> None:
    caller = f"arn:aws:iam::{A}:role/InstanceRole"

    def decrypt(bucket_arn: str) -> str:
        context = {
            **_org(A),
            "kms:ViaService": "s3.us-east-1.amazonaws.com",
            "kms:EncryptionContext:aws:s3:arn": bucket_arn,
        }
        return evaluate(hub["key"], Request(caller, "kms:Decrypt", "*", context))

    assert decrypt(f"arn:aws:s3:::{hub['logs']}") == "allow"  # bucket key: the bucket's ARN
    assert decrypt(f"arn:aws:s3:::{hub['lists']}/{A}/override-lists/x.yaml") == "allow"  # no bucket key: the object's
    assert decrypt("arn:aws:s3:::team-a-private-bucket") == "implicit-deny"  # the attack (allowed before)
    assert decrypt(f"arn:aws:s3:::{hub['inventory']}") == "implicit-deny"


def test_inventory_sync_writes_only_its_own_partition(hub: dict[str, Any]) -> None:
    policy = _policy(hub["capture"], "hub-compliance-inventory-policy")
    key = _key_arn(hub["capture"])

    def sync(source: str, partition: str) -> str:
        context = {
            "aws:SourceOrgID": ORG,
            "aws:SourceAccount": source,
            "aws:SecureTransport": "true",
            "s3:x-amz-acl": "bucket-owner-full-control",
            "s3:x-amz-server-side-encryption-aws-kms-key-id": key,
        }
        path = f"inventory/AWS:ComplianceItem/accountid={partition}/region=us-east-1/x.json"
        obj = f"arn:aws:s3:::{hub['inventory']}/{path}"
        return evaluate(policy, Request("service:ssm.amazonaws.com", "s3:PutObject", obj, context))

    assert sync(A, A) == "allow" and sync(B, B) == "allow"
    assert sync(A, B) == "implicit-deny"  # the attack: A's sync writing into B's partition (allowed before)
    assert sync("444444444444", "444444444444") == "implicit-deny"  # an account the hub does not list


def test_hub_log_groups_and_topic_use_the_hub_key(hub: dict[str, Any]) -> None:
    key = _key_arn(hub["capture"])
    log_groups = [r for r in hub["capture"].resources if r.type == "aws:cloudwatch/logGroup:LogGroup"]
    assert log_groups and all(r.inputs.get("kmsKeyId") == key for r in log_groups)
    topics = [r for r in hub["capture"].resources if r.type == "aws:sns/topic:Topic"]
    assert topics and all(r.inputs.get("kmsMasterKeyId") == key for r in topics)
