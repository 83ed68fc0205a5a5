"""``patchctl preview``: the central stack's document lists the compliance lake with every
property the issue asks for; bad input exits 2 with one line; violations exit 1."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from patchctl.cli import main

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def central_document(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("preview") / "central.json"
    assert (
        main(
            [
                "preview",
                "--stack",
                "central",
                "--config",
                str(ROOT / "Pulumi.central.yaml"),
                "--json",
                str(out),
                "--quiet",
            ]
        )
        == 0
    )
    return json.loads(out.read_text())


def of_type(document: dict[str, Any], type_token: str) -> list[dict[str, Any]]:
    return [r for r in document["resources"] if r["type"] == type_token]


def by_bucket(document: dict[str, Any], type_token: str) -> dict[str, dict[str, Any]]:
    return {r["inputs"]["bucket"]: r for r in of_type(document, type_token)}


def test_document_shape(central_document: dict[str, Any]) -> None:
    assert set(central_document) >= {"stack", "resources", "outputs", "violations", "summary"}
    assert central_document["stack"] == "central"
    for resource in central_document["resources"]:
        assert set(resource) == {"urn", "type", "name", "parent", "provider", "account", "region", "inputs"}
    aws_resources = [r for r in central_document["resources"] if r["type"].startswith("aws:")]
    assert aws_resources and all(r["account"] == "111111111111" for r in aws_resources)
    # the home region, plus the shared runbook copies in every region the hub serves (Pulumi.central.yaml)
    assert {r["region"] for r in aws_resources} - {"global"} == {"us-east-1", "eu-west-1"}
    assert central_document["summary"]["violations"]["mandatory"] == 0


def test_key_rotates_and_is_org_scoped(central_document: dict[str, Any]) -> None:
    (key,) = of_type(central_document, "aws:kms/key:Key")
    assert key["inputs"]["enableKeyRotation"] is True
    policy = json.loads(key["inputs"]["policy"])
    ssm = next(s for s in policy["Statement"] if s.get("Principal") == {"Service": "ssm.amazonaws.com"})
    assert ssm["Condition"] == {"StringEquals": {"aws:SourceOrgID": "o-exampleorg01"}}
    everyone = [s for s in policy["Statement"] if s.get("Principal") == {"AWS": "*"}]
    assert everyone and all(s["Condition"]["StringEquals"]["aws:PrincipalOrgID"] == "o-exampleorg01" for s in everyone)
    assert of_type(central_document, "aws:kms/alias:Alias")


def test_every_bucket_is_locked_down(central_document: dict[str, Any]) -> None:
    buckets = of_type(central_document, "aws:s3/bucket:Bucket")
    assert len(buckets) >= 3
    names = {b["urn"].rsplit("::", 1)[-1] for b in buckets}
    assert {"hub-compliance-inventory", "hub-compliance-patch-logs", "hub-compliance-patch-lists"} <= names
    encryption = of_type(
        central_document, "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
    )
    access = of_type(central_document, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock")
    versioning = of_type(central_document, "aws:s3/bucketVersioning:BucketVersioning")
    ownership = of_type(central_document, "aws:s3/bucketOwnershipControls:BucketOwnershipControls")
    lifecycle = of_type(central_document, "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration")
    policies = of_type(central_document, "aws:s3/bucketPolicy:BucketPolicy")
    for resources in (encryption, access, versioning, ownership, lifecycle, policies):
        assert len(resources) == len(buckets)
    for item in encryption:
        (rule,) = item["inputs"]["rules"]
        assert rule["bucketKeyEnabled"] is True
        assert rule["applyServerSideEncryptionByDefault"]["sseAlgorithm"] == "aws:kms"
        assert rule["applyServerSideEncryptionByDefault"]["kmsMasterKeyId"].startswith(
            "arn:aws:kms:us-east-1:111111111111:key/"
        )
    for item in access:
        assert all(
            item["inputs"][k] is True
            for k in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
        )
    assert all(v["inputs"]["versioningConfiguration"]["status"] == "Enabled" for v in versioning)
    assert all(o["inputs"]["rule"]["objectOwnership"] == "BucketOwnerEnforced" for o in ownership)
    for item in lifecycle:
        (rule,) = item["inputs"]["rules"]
        assert rule["status"] == "Enabled" and rule["filter"]["prefix"] == ""
        assert rule["expiration"]["days"] > 0 and rule["noncurrentVersionExpiration"]["noncurrentDays"] > 0
    for item in policies:
        statements = json.loads(item["inputs"]["policy"])["Statement"]
        tls = next(s for s in statements if s["Sid"] == "DenyInsecureTransport")
        assert tls["Effect"] == "Deny" and tls["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
        for statement in statements:
            if statement["Effect"] == "Allow" and statement["Principal"] in (
                "*",
                {"AWS": "*"},
                {"Service": "ssm.amazonaws.com"},
            ):
                condition = json.dumps(statement.get("Condition", {}))
                assert "aws:PrincipalOrgID" in condition or "aws:SourceOrgID" in condition, statement


def test_inventory_bucket_accepts_resource_data_sync_from_the_org_only(central_document: dict[str, Any]) -> None:
    policy = next(
        json.loads(p["inputs"]["policy"])
        for p in of_type(central_document, "aws:s3/bucketPolicy:BucketPolicy")
        if "hub-compliance-inventory" in p["urn"]
    )
    sids = {s["Sid"]: s for s in policy["Statement"]}
    assert {"SSMBucketPermissionsCheck", "SSMBucketDeliveryTagging"} <= set(sids)
    # one delivery statement per listed account, each pinned to its own accountid= partition (issue 13 item 8)
    deliveries = {sid: s for sid, s in sids.items() if sid.startswith("SSMBucketDelivery") and sid[17:].isdigit()}
    assert deliveries, sids
    for sid, delivery in deliveries.items():
        account = sid.removeprefix("SSMBucketDelivery")
        assert delivery["Resource"].endswith(f"/inventory/*/accountid={account}/*")
        assert delivery["Condition"]["StringEquals"]["s3:x-amz-acl"] == "bucket-owner-full-control"
        assert delivery["Condition"]["StringEquals"]["aws:SourceAccount"] == account


def test_patch_logs_are_written_to_the_callers_own_prefix(central_document: dict[str, Any]) -> None:
    policy = next(
        json.loads(p["inputs"]["policy"])
        for p in of_type(central_document, "aws:s3/bucketPolicy:BucketPolicy")
        if "hub-compliance-patch-logs" in p["urn"]
    )
    write = next(s for s in policy["Statement"] if s.get("Sid") == "OrganizationWritesOwnPrefix")
    assert write["Resource"].endswith("/${aws:PrincipalAccount}/*")


def test_glue_tables_use_partition_projection(central_document: dict[str, Any]) -> None:
    (database,) = of_type(central_document, "aws:glue/catalogDatabase:CatalogDatabase")
    assert database["inputs"]["name"] == "managed_instances_database"
    tables = {t["inputs"]["name"]: t for t in of_type(central_document, "aws:glue/catalogTable:CatalogTable")}
    assert {"aws_complianceitem", "aws_compliancesummary", "aws_instanceinformation"} <= set(tables)
    # the patch-events table (own bucket, dt partition): tests/hub/test_patch_events_component.py; the sweeps'
    # unmanaged findings (dt partition): tests/hub/test_unmanaged_lake_access.py
    for table in (t for name, t in tables.items() if name not in ("patch_events", "unmanaged_instances")):
        parameters = table["inputs"]["parameters"]
        assert parameters["projection.enabled"] == "true"
        assert parameters["projection.accountid.values"] == "222222222222,333333333333"
        assert parameters["storage.location.template"].startswith("s3://hub-compliance-inventory-")
        assert [k["name"] for k in table["inputs"]["partitionKeys"]] == ["accountid", "region", "resourcetype"]


def test_workgroup_is_enforced_and_encrypted(central_document: dict[str, Any]) -> None:
    (workgroup,) = of_type(central_document, "aws:athena/workgroup:Workgroup")
    configuration = workgroup["inputs"]["configuration"]
    assert configuration["enforceWorkgroupConfiguration"] is True
    assert configuration["bytesScannedCutoffPerQuery"] == 10240 * 1024 * 1024
    encryption = configuration["resultConfiguration"]["encryptionConfiguration"]
    assert encryption["encryptionOption"] == "SSE_KMS" and encryption["kmsKeyArn"].startswith("arn:aws:kms:")
    queries = {q["inputs"]["name"]: q for q in of_type(central_document, "aws:athena/namedQuery:NamedQuery")}
    assert {"QueryNonCompliantPatch", "QueryInstanceList", "PatchComplianceReport"} <= set(queries)
    for query in queries.values():
        assert (
            query["inputs"]["database"] == "managed_instances_database"
        )  # the seed pointed at a database that did not exist
        assert "LIMIT 20" not in query["inputs"]["query"]


def write_config(tmp_path: Path, **overrides: Any) -> Path:
    document = yaml.safe_load((ROOT / "Pulumi.central.yaml").read_text())
    document["config"].update({f"org-patching:{k}": v for k, v in overrides.items()})
    path = tmp_path / "Pulumi.central.yaml"
    path.write_text(yaml.safe_dump(document))
    return path


def test_malformed_account_id_exits_2_with_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = write_config(tmp_path, centralAccountId="12345")
    out = tmp_path / "out.json"
    assert main(["preview", "--stack", "central", "--config", str(config), "--json", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "org-patching:centralAccountId" in err and "'12345'" in err
    assert not out.exists(), "bad input writes nothing"


def test_stack_mismatch_and_bad_policy_config_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["preview", "--stack", "child", "--config", str(ROOT / "Pulumi.central.yaml")]) == 2
    assert "org-patching:stack is 'central'" in capsys.readouterr().err
    bad = tmp_path / "policy.json"
    bad.write_text('{"no-such-policy": "mandatory"}')
    assert main(["preview", "--stack", "central", "--policy-config", str(bad), "--quiet"]) == 2
    assert "no such policy" in capsys.readouterr().err


def test_a_mandatory_violation_exits_1(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Break one guard rail on purpose: a hub bucket without its policy must fail the preview."""
    from components import secure_bucket

    original = secure_bucket.deny_insecure_transport

    def no_tls(bucket_arn: Any) -> dict[str, Any]:
        statement = original(bucket_arn)
        statement["Condition"] = {"Bool": {"aws:SecureTransport": "true"}}
        return statement

    monkeypatch.setattr(secure_bucket, "deny_insecure_transport", no_tls)
    assert (
        main(["preview", "--stack", "central", "--quiet", "--policy-config", json_file(tmp_path, {"all": "mandatory"})])
        == 1
    )


def json_file(tmp_path: Path, data: dict[str, Any]) -> str:
    path = tmp_path / "config.json"
    path.write_text(json.dumps(data))
    return str(path)
