"""Resource data sync writes the real S3 layout (readable by the compliance lake's tables); associations."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from components.hub import compliance_tables
from devkit.moto_extensions.ssm.models import data_sync, patch_runs
from tests import aws

HUB = "999999999999"
BUCKET = "org-patching-inventory-hub"


_COMMON = {"resourceId", "captureTime", "schemaVersion"}
_EXECUTION = {
    "ComplianceType",
    "ExecutionId",
    "ExecutionTime",
    "ExecutionType",
    "PatchBaselineId",
    "PatchGroup",
    "Status",
}
_COUNTS = {
    f"{kind}{severity}Count"
    for kind in ("Compliant", "NonCompliant")
    for severity in ("Critical", "High", "Medium", "Low", "Informational", "Unspecified")
}
#: The keys of each type's JSON lines as resource data sync writes them for a patched managed EC2
#: instance (SSM User Guide, "Walkthrough: Use resource data sync to aggregate inventory data").
SYNC_KEYS = {
    "AWS:ComplianceItem": _COMMON
    | _EXECUTION
    | {"Id", "Title", "Severity", "Classification", "PatchSeverity", "PatchState", "InstalledTime"}
    | {"DocumentName", "DocumentVersion"},
    "AWS:ComplianceSummary": _COMMON | _EXECUTION | _COUNTS | {"OverallSeverity"},
    "AWS:InstanceInformation": _COMMON
    | {"AgentType", "AgentVersion", "ComputerName", "IamRole", "InstanceId", "InstanceStatus", "IpAddress"}
    | {"PlatformName", "PlatformType", "PlatformVersion", "ResourceType"},
    "AWS:Tag": _COMMON | {"Key", "Value"},
}


def destination(prefix: str = "inventory") -> dict[str, str]:
    return {"BucketName": BUCKET, "Prefix": prefix, "SyncFormat": "JsonSerDe", "Region": "us-east-1"}


def test_sync_from_two_accounts_writes_the_real_layout_into_the_hub_bucket(moto_aws: None) -> None:
    aws.session(HUB, "us-east-1").client("s3").create_bucket(Bucket=BUCKET)
    expected_keys = set()
    for account, region in ((aws.ACCOUNTS[0], "us-east-1"), (aws.ACCOUNTS[1], "eu-west-1")):
        sess = aws.session(account, region)
        profile = aws.create_instance_profile(sess)
        ids = aws.run_instances(sess, {"environment": "Prod", "Patch Group": "Prod"}, count=2, profile=profile)
        aws.run_instances(sess, {"environment": "Prod"})  # not managed: nothing is synced for it
        patch_runs.simulate_patch_run(account, region, ids, "Scan")
        sess.client("ssm").create_resource_data_sync(SyncName="org-patching-inventory", S3Destination=destination())
        keys = data_sync.run_resource_data_sync(account, region)
        for instance_id in ids:
            for type_name in ("AWS:ComplianceItem", "AWS:ComplianceSummary", "AWS:InstanceInformation", "AWS:Tag"):
                expected_keys.add(
                    f"inventory/{type_name}/accountid={account}/region={region}/"
                    f"resourcetype=ManagedInstanceInventory/{instance_id}.json"
                )
        assert len(keys) == 8
        [sync] = sess.client("ssm").list_resource_data_sync()["ResourceDataSyncItems"]
        assert sync["LastStatus"] == "Successful" and sync["S3Destination"]["BucketName"] == BUCKET
    s3 = aws.session(HUB, "us-east-1").client("s3")
    listed = {o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET)["Contents"]}
    assert listed == expected_keys
    # every line is one JSON object of strings whose keys the lake's Glue tables declare
    tables = {t.type_name: t for t in compliance_tables.TABLES}
    for key in listed:
        type_name = key.split("/")[1]
        body = s3.get_object(Bucket=BUCKET, Key=key)["Body"].read().decode()
        lines = body.strip().split("\n")
        allowed = {k.lower() for k in tables[type_name].json_keys} | {
            k.lower() for k in compliance_tables.PARTITION_SHADOWED_KEYS.get(type_name, ())
        }
        for line in lines:
            row = json.loads(line)
            assert all(isinstance(v, str) for v in row.values()), row
            # exactly the sync's documented keys (written out here, not taken from the emulator or the tables)
            assert set(row) == SYNC_KEYS[type_name], (type_name, set(row) ^ SYNC_KEYS[type_name])
            assert {k.lower() for k in row} <= allowed, (type_name, set(row) - allowed)
            assert row["schemaVersion"] == "1.0" and row["resourceId"] in key
        if type_name == "AWS:ComplianceItem":
            row = json.loads(lines[0])
            assert row["ComplianceType"] == "Patch" and row["PatchState"] == "Missing"
            assert row["Status"] == "NON_COMPLIANT" and row["PatchGroup"] == "Prod"
        if type_name == "AWS:ComplianceSummary":
            row = json.loads(lines[0])
            assert row["Status"] == "NON_COMPLIANT" and int(row["CompliantCriticalCount"]) == 0
        if type_name == "AWS:InstanceInformation":
            assert json.loads(lines[0])["InstanceStatus"] == "Active"


def test_sync_validation_and_lifecycle(moto_aws: None) -> None:
    ssm = aws.session(aws.ACCOUNTS[2], "us-east-1").client("ssm")
    ssm.create_resource_data_sync(SyncName="one", S3Destination=destination())
    for kwargs, code in (
        ({"SyncName": "one", "S3Destination": destination()}, "ResourceDataSyncAlreadyExistsException"),
        (
            {"SyncName": "two", "S3Destination": {**destination(), "SyncFormat": "Csv"}},
            "ResourceDataSyncInvalidConfigurationException",
        ),
        ({"SyncName": "two"}, "ResourceDataSyncInvalidConfigurationException"),
    ):
        with pytest.raises(ClientError) as error:
            ssm.create_resource_data_sync(**kwargs)
        assert error.value.response["Error"]["Code"] == code
    for n in range(2, 6):
        ssm.create_resource_data_sync(SyncName=f"s{n}", S3Destination=destination())
    with pytest.raises(ClientError) as full:
        ssm.create_resource_data_sync(SyncName="s6", S3Destination=destination())
    assert full.value.response["Error"]["Code"] == "ResourceDataSyncCountExceededException"
    ssm.delete_resource_data_sync(SyncName="one")
    with pytest.raises(ClientError) as gone:
        ssm.delete_resource_data_sync(SyncName="one")
    assert gone.value.response["Error"]["Code"] == "ResourceDataSyncNotFoundException"
    # a missing bucket fails the sync with the reason, as AWS reports it
    with pytest.raises(ValueError, match="does not exist"):
        data_sync.run_resource_data_sync(aws.ACCOUNTS[2], "us-east-1", "s2")
    statuses = {s["SyncName"]: s["LastStatus"] for s in ssm.list_resource_data_sync()["ResourceDataSyncItems"]}
    assert statuses["s2"] == "Failed"


def test_associations(moto_aws: None) -> None:
    ssm = aws.session(aws.ACCOUNTS[0], "eu-west-1").client("ssm")
    created = ssm.create_association(
        Name="AWS-GatherSoftwareInventory",
        AssociationName="org-patching-inventory",
        Targets=[{"Key": "tag:maintenance_window", "Values": ["Default_maintenance_window"]}],
        ScheduleExpression="rate(1 day)",
    )["AssociationDescription"]
    assert created["Overview"]["Status"] == "Pending" and created["AssociationVersion"] == "1"
    listed = ssm.list_associations(AssociationFilterList=[{"key": "Name", "value": "AWS-GatherSoftwareInventory"}])
    assert [a["AssociationId"] for a in listed["Associations"]] == [created["AssociationId"]]
    described = ssm.describe_association(AssociationId=created["AssociationId"])["AssociationDescription"]
    assert described["ScheduleExpression"] == "rate(1 day)"
    for kwargs, code in (
        (
            {
                "Name": "AWS-GatherSoftwareInventory",
                "ScheduleExpression": "every day",
                "Targets": [{"Key": "InstanceIds", "Values": ["*"]}],
            },
            "InvalidSchedule",
        ),
        ({"Name": "AWS-GatherSoftwareInventory", "Targets": [{"Key": "bogus", "Values": ["x"]}]}, "InvalidTarget"),
        ({"Name": "MyMissingDoc", "Targets": [{"Key": "InstanceIds", "Values": ["*"]}]}, "InvalidDocument"),
        (
            {
                "Name": "AWS-GatherSoftwareInventory",
                "AssociationName": "org-patching-inventory",
                "Targets": [{"Key": "tag:maintenance_window", "Values": ["Default_maintenance_window"]}],
            },
            "AssociationAlreadyExists",
        ),
    ):
        with pytest.raises(ClientError) as error:
            ssm.create_association(**kwargs)
        assert error.value.response["Error"]["Code"] == code, kwargs
    ssm.delete_association(AssociationId=created["AssociationId"])
    with pytest.raises(ClientError) as gone:
        ssm.describe_association(AssociationId=created["AssociationId"])
    assert gone.value.response["Error"]["Code"] == "AssociationDoesNotExist"
