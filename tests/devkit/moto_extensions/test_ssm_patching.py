"""The SSM patching/compliance extension: shapes, filters, paging and errors from the SSM API reference."""

from __future__ import annotations

import datetime
import json

import pytest
from botocore.exceptions import ClientError

from devkit.moto_extensions.ssm.models import patch_runs
from tests import aws

ACCOUNT, REGION = aws.ACCOUNTS[2], aws.REGIONS[0]


def fleet(n_managed: int = 3) -> tuple[list[str], list[str]]:
    sess = aws.session(ACCOUNT, REGION)
    profile = aws.create_instance_profile(sess)
    managed = aws.run_instances(sess, {"Patch Group": "Prod", "environment": "Prod"}, count=n_managed, profile=profile)
    unmanaged = aws.run_instances(sess, {"Patch Group": "Prod"})  # no instance profile: the agent cannot register
    stopped = aws.run_instances(sess, {"Patch Group": "Prod"}, profile=profile)
    sess.client("ec2").stop_instances(InstanceIds=stopped)
    return managed, unmanaged + stopped


@pytest.mark.parametrize(
    ("trust", "policy", "managed"),
    [
        (aws.EC2_TRUST, aws.SSM_CORE, True),
        ({"Version": "2012-10-17", "Statement": []}, aws.SSM_CORE, False),  # the seed's demo role: EC2 cannot assume it
        (
            aws.EC2_TRUST,
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]},
            False,
        ),
        (
            aws.EC2_TRUST,
            {
                "Version": "2012-10-17",
                "Statement": [
                    {"Effect": "Allow", "Action": "ssm:*", "Resource": "*"},
                    {"Effect": "Deny", "Action": "ssm:UpdateInstanceInformation", "Resource": "*"},
                ],
            },
            False,
        ),
    ],
)
def test_managed_needs_a_role_ec2_assumes_with_the_agent_s_registration_permission(
    moto_aws: None, trust: dict[str, object], policy: dict[str, object], managed: bool
) -> None:
    sess = aws.session(ACCOUNT, REGION)
    iam = sess.client("iam")
    iam.create_role(RoleName="r", AssumeRolePolicyDocument=json.dumps(trust))
    iam.put_role_policy(RoleName="r", PolicyName="p", PolicyDocument=json.dumps(policy))
    iam.create_instance_profile(InstanceProfileName="p")
    iam.add_role_to_instance_profile(InstanceProfileName="p", RoleName="r")
    [instance] = aws.run_instances(sess, profile="p")
    listed = sess.client("ssm").describe_instance_information()["InstanceInformationList"]
    assert [i["InstanceId"] for i in listed] == ([instance] if managed else [])


def test_an_attached_managed_policy_counts_with_its_default_version(moto_aws: None) -> None:
    sess = aws.session(ACCOUNT, REGION)
    iam = sess.client("iam")
    iam.create_role(RoleName="r", AssumeRolePolicyDocument=json.dumps(aws.EC2_TRUST))
    arn = iam.create_policy(PolicyName="core", PolicyDocument=json.dumps(aws.SSM_CORE))["Policy"]["Arn"]
    iam.attach_role_policy(RoleName="r", PolicyArn=arn)
    iam.create_instance_profile(InstanceProfileName="p")
    iam.add_role_to_instance_profile(InstanceProfileName="p", RoleName="r")
    [instance] = aws.run_instances(sess, profile="p")
    listed = sess.client("ssm").describe_instance_information()["InstanceInformationList"]
    assert [i["InstanceId"] for i in listed] == [instance]
    # a new default version without the permission: the agent can no longer register
    other = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}
    iam.create_policy_version(PolicyArn=arn, PolicyDocument=json.dumps(other), SetAsDefault=True)
    assert sess.client("ssm").describe_instance_information()["InstanceInformationList"] == []


def test_managed_instances_are_running_instances_with_a_profile(moto_aws: None) -> None:
    managed, not_managed = fleet(7)
    ssm = aws.session(ACCOUNT, REGION).client("ssm")
    pages = list(ssm.get_paginator("describe_instance_information").paginate(PaginationConfig={"PageSize": 5}))
    assert [len(p["InstanceInformationList"]) for p in pages] == [5, 2]
    ids = {i["InstanceId"] for p in pages for i in p["InstanceInformationList"]}
    assert ids == set(managed) and not ids & set(not_managed)
    item = pages[0]["InstanceInformationList"][0]
    assert item["PingStatus"] == "Online" and item["PlatformType"] == "Linux" and item["ResourceType"] == "EC2Instance"
    assert item["IamRole"] == "InstanceProfileforPatching-role"
    by_filter = ssm.describe_instance_information(
        InstanceInformationFilterList=[{"key": "InstanceIds", "valueSet": managed[:2]}]
    )["InstanceInformationList"]
    assert {i["InstanceId"] for i in by_filter} == set(managed[:2])
    by_tag = ssm.describe_instance_information(Filters=[{"Key": "tag:Patch Group", "Values": ["Prod"]}])
    assert len(by_tag["InstanceInformationList"]) == 7
    with pytest.raises(ClientError) as bad_key:
        ssm.describe_instance_information(InstanceInformationFilterList=[{"key": "Nope", "valueSet": ["x"]}])
    assert bad_key.value.response["Error"]["Code"] == "InvalidFilterKey"
    with pytest.raises(ClientError) as bad_max:
        ssm.describe_instance_information(MaxResults=51)
    assert bad_max.value.response["Error"]["Code"] == "ValidationException"
    with pytest.raises(ClientError) as bad_token:
        ssm.describe_instance_information(NextToken="not-a-token")
    assert bad_token.value.response["Error"]["Code"] == "InvalidNextToken"
    # other accounts and regions see nothing
    assert (
        aws.session(ACCOUNT, REGIONS_OTHER).client("ssm").describe_instance_information()["InstanceInformationList"]
        == []
    )


REGIONS_OTHER = aws.REGIONS[1]


def test_scan_then_install_reports_states_patches_and_compliance(moto_aws: None) -> None:
    managed, _ = fleet(2)
    target = managed[0]
    patch_runs.seed_patches(
        ACCOUNT,
        REGION,
        target,
        [
            {"KBId": "ALAS-1", "Title": "kernel", "Classification": "Security", "Severity": "Critical"},
            {"KBId": "ALAS-2", "Title": "openssl", "Classification": "Security", "Severity": "Important"},
            {"KBId": "ALAS-3", "Title": "vim", "Classification": "Bugfix", "Severity": "Low"},
        ],
    )
    ssm = aws.session(ACCOUNT, REGION).client("ssm")
    assert ssm.describe_instance_patch_states(InstanceIds=[target])["InstancePatchStates"] == []  # never patched
    patch_runs.simulate_patch_run(ACCOUNT, REGION, [target], "Scan")
    state = ssm.describe_instance_patch_states(InstanceIds=[target])["InstancePatchStates"][0]
    assert (state["MissingCount"], state["InstalledCount"], state["Operation"]) == (3, 0, "Scan")
    assert state["PatchGroup"] == "Prod" and state["CriticalNonCompliantCount"] == 1
    missing = ssm.describe_instance_patches(InstanceId=target, Filters=[{"Key": "State", "Values": ["Missing"]}])
    assert sorted(p["KBId"] for p in missing["Patches"]) == ["ALAS-1", "ALAS-2", "ALAS-3"]

    patch_runs.simulate_patch_run(
        ACCOUNT, REGION, [target], "Install", install_override_list=["ALAS-1", "open*"], fail=["ALAS-2"]
    )
    state = ssm.describe_instance_patch_states(InstanceIds=[target])["InstancePatchStates"][0]
    assert (state["InstalledCount"], state["FailedCount"], state["MissingCount"]) == (1, 1, 1)
    patches = {p["KBId"]: p for p in ssm.describe_instance_patches(InstanceId=target)["Patches"]}
    assert patches["ALAS-1"]["State"] == "Installed" and patches["ALAS-1"]["InstalledTime"].year > 2000
    assert patches["ALAS-2"]["State"] == "Failed" and patches["ALAS-3"]["State"] == "Missing"

    items = ssm.list_compliance_items(ResourceIds=[target], ResourceTypes=["ManagedInstance"])["ComplianceItems"]
    assert {i["Id"]: i["Status"] for i in items} == {
        "ALAS-1": "COMPLIANT",
        "ALAS-2": "NON_COMPLIANT",
        "ALAS-3": "NON_COMPLIANT",
    }
    assert {i["ComplianceType"] for i in items} == {"Patch"}
    summary = ssm.list_resource_compliance_summaries(Filters=[{"Key": "ResourceId", "Values": [target]}])
    [row] = summary["ResourceComplianceSummaryItems"]
    assert row["Status"] == "NON_COMPLIANT" and row["OverallSeverity"] == "HIGH"
    assert row["NonCompliantSummary"]["NonCompliantCount"] == 2 and row["CompliantSummary"]["CompliantCount"] == 1


def test_patch_group_states_filter_and_invalid_requests(moto_aws: None) -> None:
    managed, not_managed = fleet(3)
    patch_runs.simulate_patch_run(ACCOUNT, REGION, None, "Install")  # every managed instance
    ssm = aws.session(ACCOUNT, REGION).client("ssm")
    states = ssm.describe_instance_patch_states_for_patch_group(PatchGroup="Prod")["InstancePatchStates"]
    assert {s["InstanceId"] for s in states} == set(managed)
    none_missing = ssm.describe_instance_patch_states_for_patch_group(
        PatchGroup="Prod", Filters=[{"Key": "MissingCount", "Values": ["0"], "Type": "Equal"}]
    )["InstancePatchStates"]
    assert len(none_missing) == 3
    with pytest.raises(ClientError) as bad:
        ssm.describe_instance_patch_states_for_patch_group(
            PatchGroup="Prod", Filters=[{"Key": "Nope", "Values": ["0"], "Type": "Equal"}]
        )
    assert bad.value.response["Error"]["Code"] == "InvalidFilter"
    with pytest.raises(ClientError) as unknown:
        ssm.describe_instance_patches(InstanceId=not_managed[0])
    assert unknown.value.response["Error"]["Code"] == "InvalidInstanceId"
    with pytest.raises(ClientError) as too_many:
        ssm.describe_instance_patch_states(InstanceIds=[f"i-{n:017x}" for n in range(51)])
    assert too_many.value.response["Error"]["Code"] == "ValidationException"
    with pytest.raises(ValueError, match="not a managed instance"):
        patch_runs.simulate_patch_run(ACCOUNT, REGION, [not_managed[0]])


def test_put_compliance_items_complete_partial_summaries_and_validation(moto_aws: None) -> None:
    ssm = aws.session(ACCOUNT, REGION).client("ssm")
    when = datetime.datetime(2026, 11, 1, tzinfo=datetime.UTC)

    def put(resource: str, items: list[dict], upload: str = "COMPLETE", kind: str = "Custom:Backup") -> None:
        ssm.put_compliance_items(
            ResourceId=resource,
            ResourceType="ManagedInstance",
            ComplianceType=kind,
            ExecutionSummary={"ExecutionTime": when},
            Items=items,
            UploadType=upload,
        )

    put(
        "i-1",
        [
            {"Id": "a", "Severity": "CRITICAL", "Status": "NON_COMPLIANT"},
            {"Id": "b", "Severity": "LOW", "Status": "COMPLIANT"},
        ],
    )
    put("i-2", [{"Id": "a", "Severity": "LOW", "Status": "COMPLIANT"}])
    put("i-1", [{"Id": "b", "Severity": "LOW", "Status": "NON_COMPLIANT"}], upload="PARTIAL")
    items = {i["Id"]: i["Status"] for i in ssm.list_compliance_items(ResourceIds=["i-1"])["ComplianceItems"]}
    assert items == {"a": "NON_COMPLIANT", "b": "NON_COMPLIANT"}
    [summary] = ssm.list_compliance_summaries()["ComplianceSummaryItems"]
    assert summary["ComplianceType"] == "Custom:Backup"
    assert summary["CompliantSummary"]["CompliantCount"] == 1
    assert summary["NonCompliantSummary"]["NonCompliantCount"] == 1
    assert summary["NonCompliantSummary"]["SeveritySummary"]["CriticalCount"] == 1
    put("i-1", [{"Id": "c", "Severity": "LOW", "Status": "COMPLIANT"}])  # COMPLETE replaces
    assert [i["Id"] for i in ssm.list_compliance_items(ResourceIds=["i-1"])["ComplianceItems"]] == ["c"]
    only_bad = ssm.list_compliance_items(Filters=[{"Key": "Status", "Values": ["NON_COMPLIANT"], "Type": "EQUAL"}])
    assert only_bad["ComplianceItems"] == []
    bad_items: list[tuple[list[dict], str]] = [
        ([{"Id": "x", "Severity": "SEVERE", "Status": "COMPLIANT"}], "InvalidItemContentException"),
        ([{"Id": "x", "Severity": "LOW", "Status": "MAYBE"}], "InvalidItemContentException"),
    ]
    for bad, code in bad_items:
        with pytest.raises(ClientError) as error:
            put("i-3", bad)
        assert error.value.response["Error"]["Code"] == code
    with pytest.raises(ClientError) as bad_type:
        put("i-3", [], kind="Custom:")
    assert bad_type.value.response["Error"]["Code"] == "ValidationException"


def test_a_window_run_patches_only_the_managed_instances_of_that_window(moto_aws: None) -> None:
    sess = aws.session(ACCOUNT, REGION)
    profile = aws.create_instance_profile(sess)
    prod = aws.run_instances(sess, {"maintenance_window": "Prod_maintenance_window"}, count=2, profile=profile)
    dev = aws.run_instances(sess, {"maintenance_window": "Dev_maintenance_window"}, profile=profile)
    states = patch_runs.simulate_window_run(ACCOUNT, REGION, "Prod_maintenance_window", "Install")
    assert sorted(states) == sorted(prod)
    assert all(s["MissingCount"] == 0 and s["InstalledCount"] > 0 for s in states.values())
    ssm = sess.client("ssm")
    assert ssm.describe_instance_patch_states(InstanceIds=dev)["InstancePatchStates"] == []
