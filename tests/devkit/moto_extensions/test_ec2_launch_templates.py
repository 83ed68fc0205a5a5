"""Launch template versions behave as EC2 documents them (SourceVersion, response-only fields, deletion)."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError, ParamValidationError

from tests import aws

ACCOUNT, REGION = aws.ACCOUNTS[1], aws.REGIONS[0]


def test_source_version_inherits_and_the_given_fields_overwrite(moto_aws: None) -> None:
    sess = aws.session(ACCOUNT, REGION)
    ec2 = sess.client("ec2")
    template = aws.create_launch_template(sess, "app", profile="app-profile")
    created = ec2.create_launch_template_version(
        LaunchTemplateId=template, SourceVersion="1", LaunchTemplateData={"ImageId": "ami-0123456789abcdef0"}
    )["LaunchTemplateVersion"]
    [source, new] = ec2.describe_launch_template_versions(LaunchTemplateId=template)["LaunchTemplateVersions"]
    assert created["VersionNumber"] == 2 and new["LaunchTemplateData"]["ImageId"] == "ami-0123456789abcdef0"
    rest = {k: v for k, v in new["LaunchTemplateData"].items() if k != "ImageId"}
    assert rest == {k: v for k, v in source["LaunchTemplateData"].items() if k != "ImageId"}
    assert rest["IamInstanceProfile"] == {"Name": "app-profile"} and rest["InstanceType"] == "t3.small"
    # without SourceVersion the version holds only what was sent (as on AWS)
    ec2.create_launch_template_version(
        LaunchTemplateId=template, LaunchTemplateData={"ImageId": "ami-0123456789abcdef1"}
    )
    third = ec2.describe_launch_template_versions(LaunchTemplateId=template, Versions=["3"])["LaunchTemplateVersions"]
    assert third[0]["LaunchTemplateData"] == {"ImageId": "ami-0123456789abcdef1"}


def test_a_described_version_cannot_be_sent_back(moto_aws: None) -> None:
    """MetadataOptions.State is response-only: copying describe output into a request fails in botocore."""
    sess = aws.session(ACCOUNT, REGION)
    ec2 = sess.client("ec2")
    template = aws.create_launch_template(sess, "copy")
    data = ec2.describe_launch_template_versions(LaunchTemplateId=template)["LaunchTemplateVersions"][0][
        "LaunchTemplateData"
    ]
    assert data["MetadataOptions"]["State"] == "applied"
    with pytest.raises(ParamValidationError, match="State"):
        ec2.create_launch_template_version(LaunchTemplateId=template, LaunchTemplateData=data)


def test_versions_are_deleted_but_never_the_default_and_numbers_are_not_reused(moto_aws: None) -> None:
    sess = aws.session(ACCOUNT, REGION)
    ec2 = sess.client("ec2")
    template = aws.create_launch_template(sess, "gone")
    ec2.create_launch_template_version(LaunchTemplateId=template, SourceVersion="1", LaunchTemplateData={})
    answer = ec2.delete_launch_template_versions(LaunchTemplateId=template, Versions=["2", "1"])
    assert [v["VersionNumber"] for v in answer["SuccessfullyDeletedLaunchTemplateVersions"]] == [2]
    [refused] = answer["UnsuccessfullyDeletedLaunchTemplateVersions"]
    assert refused["ResponseError"]["Code"] == "launchTemplateVersionIsDefaultVersion"
    listed = ec2.describe_launch_template_versions(LaunchTemplateId=template)["LaunchTemplateVersions"]
    assert [v["VersionNumber"] for v in listed] == [1]
    latest = ec2.describe_launch_template_versions(LaunchTemplateId=template, Versions=["$Latest"])
    assert latest["LaunchTemplateVersions"][0]["VersionNumber"] == 1
    with pytest.raises(ClientError):
        ec2.describe_launch_template_versions(LaunchTemplateId=template, Versions=["2"])
    created = ec2.create_launch_template_version(LaunchTemplateId=template, SourceVersion="1", LaunchTemplateData={})
    assert created["LaunchTemplateVersion"]["VersionNumber"] == 3
