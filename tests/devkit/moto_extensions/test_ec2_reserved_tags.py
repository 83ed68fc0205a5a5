"""The emulator refuses user tag keys under ``aws:`` (EC2 User Guide, "Tag restrictions"), the rule the tag
contract's managed-node evidence rests on (issue 13 item 6), while AWS's services still write them."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from tests import aws


def test_users_cannot_write_or_delete_reserved_tags(moto_aws: None) -> None:
    account, region = aws.ACCOUNTS[0], aws.REGIONS[0]
    sess = aws.session(account, region)
    ec2 = sess.client("ec2")
    spec = [{"ResourceType": "instance", "Tags": [{"Key": "aws:eks:cluster-name", "Value": "c"}]}]
    with pytest.raises(ClientError) as run:
        ec2.run_instances(ImageId=aws.AMI, MinCount=1, MaxCount=1, TagSpecifications=spec)
    assert run.value.response["Error"]["Code"] == "InvalidParameterValue"
    assert "reserved" in run.value.response["Error"]["Message"]
    assert ec2.describe_instances()["Reservations"] == []  # nothing launched
    [plain] = aws.run_instances(sess, {"environment": "Prod"})
    for call in (ec2.create_tags, ec2.delete_tags):
        with pytest.raises(ClientError) as tagging:
            call(Resources=[plain], Tags=[{"Key": "AWS:autoscaling:groupName", "Value": "g"}])
        assert tagging.value.response["Error"]["Code"] == "InvalidParameterValue"
    assert aws.instance_tags(sess, plain) == {"environment": "Prod"}
    # the service path (EKS, ECS, Auto Scaling) still writes them, and a user's marker tag is fine
    [node] = aws.run_instances(sess, {"aws:eks:cluster-name": "c", "eks:cluster-name": "c"})
    assert aws.instance_tags(sess, node) == {"aws:eks:cluster-name": "c", "eks:cluster-name": "c"}
    aws.create_asg(sess, "g", {"environment": "Prod"}, desired=1)
    members = sess.client("autoscaling").describe_auto_scaling_groups()["AutoScalingGroups"][0]["Instances"]
    assert aws.instance_tags(sess, members[0]["InstanceId"])["aws:autoscaling:groupName"] == "g"
