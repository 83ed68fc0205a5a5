"""The instance refresh extension behaves like the Auto Scaling API reference says."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from devkit.moto_extensions.autoscaling import models as autoscaling_models
from tests import aws

ACCOUNT, REGION = aws.ACCOUNTS[0], aws.REGIONS[1]


def statuses(client, name: str, n: int) -> list[str]:
    return [
        client.describe_instance_refreshes(AutoScalingGroupName=name)["InstanceRefreshes"][0]["Status"]
        for _ in range(n)
    ]


def test_refresh_progresses_to_successful_and_replaces_instances_from_the_new_template(moto_aws: None) -> None:
    sess = aws.session(ACCOUNT, REGION)
    ec2, asg = sess.client("ec2"), sess.client("autoscaling")
    template = aws.create_launch_template(sess, "web")
    aws.create_asg(sess, "web", desired=2, template_id=template, version="$Latest")
    before = {i["InstanceId"] for i in asg.describe_auto_scaling_groups()["AutoScalingGroups"][0]["Instances"]}
    ec2.create_launch_template_version(
        LaunchTemplateId=template, LaunchTemplateData={"ImageId": "ami-0fedcba9876543210", "InstanceType": "t3.small"}
    )
    refresh_id = asg.start_instance_refresh(
        AutoScalingGroupName="web", Preferences={"MinHealthyPercentage": 50, "AutoRollback": True}
    )["InstanceRefreshId"]
    first = asg.describe_instance_refreshes(AutoScalingGroupName="web")["InstanceRefreshes"][0]
    assert first["InstanceRefreshId"] == refresh_id and first["Status"] == "InProgress"
    assert first["Preferences"]["MinHealthyPercentage"] == 50 and first["Preferences"]["AutoRollback"] is True
    assert first["InstancesToUpdate"] == 2
    assert statuses(asg, "web", 2) == ["Successful", "Successful"]
    group = asg.describe_auto_scaling_groups()["AutoScalingGroups"][0]
    after = {i["InstanceId"] for i in group["Instances"]}
    assert len(after) == 2 and not after & before
    images = {
        i["ImageId"] for r in ec2.describe_instances(InstanceIds=list(after))["Reservations"] for i in r["Instances"]
    }
    assert images == {"ami-0fedcba9876543210"}


def test_bake_time_adds_a_baking_step(moto_aws: None) -> None:
    sess = aws.session(ACCOUNT, REGION)
    aws.create_asg(sess, "baked", desired=0)
    asg = sess.client("autoscaling")
    asg.start_instance_refresh(AutoScalingGroupName="baked", Preferences={"BakeTime": 60})
    assert statuses(asg, "baked", 3) == ["InProgress", "Baking", "Successful"]


def test_validation_and_conflicts_are_reported_like_aws(moto_aws: None) -> None:
    sess = aws.session(ACCOUNT, REGION)
    aws.create_asg(sess, "api", desired=1)
    asg = sess.client("autoscaling")
    with pytest.raises(ClientError) as missing:
        asg.start_instance_refresh(AutoScalingGroupName="nope")
    assert missing.value.response["Error"]["Code"] == "ValidationError"
    with pytest.raises(ClientError) as bad:
        asg.start_instance_refresh(AutoScalingGroupName="api", Preferences={"MinHealthyPercentage": 101})
    assert bad.value.response["Error"]["Code"] == "ValidationError"
    asg.start_instance_refresh(AutoScalingGroupName="api")
    with pytest.raises(ClientError) as busy:
        asg.start_instance_refresh(AutoScalingGroupName="api")
    assert busy.value.response["Error"]["Code"] == "InstanceRefreshInProgress"
    with pytest.raises(ClientError) as none:
        asg.cancel_instance_refresh(AutoScalingGroupName="other")
    assert none.value.response["Error"]["Code"] == "ActiveInstanceRefreshNotFound"
    with pytest.raises(ClientError) as records:
        asg.describe_instance_refreshes(AutoScalingGroupName="api", MaxRecords=101)
    assert records.value.response["Error"]["Code"] == "ValidationError"


def test_cancel_rollback_failure_paging_and_isolation(moto_aws: None) -> None:
    sess = aws.session(ACCOUNT, REGION)
    aws.create_asg(sess, "svc", desired=1)
    asg = sess.client("autoscaling")
    asg.start_instance_refresh(AutoScalingGroupName="svc")
    asg.cancel_instance_refresh(AutoScalingGroupName="svc")
    assert statuses(asg, "svc", 2) == ["Cancelled", "Cancelled"]
    asg.start_instance_refresh(AutoScalingGroupName="svc")
    asg.rollback_instance_refresh(AutoScalingGroupName="svc")
    assert statuses(asg, "svc", 1) == ["RollbackSuccessful"]
    asg.start_instance_refresh(AutoScalingGroupName="svc", Preferences={"AutoRollback": False})
    assert autoscaling_models.fail_refresh(ACCOUNT, REGION, "svc", "health checks failed") == "Failed"
    latest = asg.describe_instance_refreshes(AutoScalingGroupName="svc")["InstanceRefreshes"][0]
    assert latest["Status"] == "Failed" and latest["StatusReason"] == "health checks failed"
    asg.start_instance_refresh(AutoScalingGroupName="svc", Preferences={"AutoRollback": True})
    assert autoscaling_models.fail_refresh(ACCOUNT, REGION, "svc") == "RollbackInProgress"
    # newest first, paged
    first = asg.describe_instance_refreshes(AutoScalingGroupName="svc", MaxRecords=3)
    second = asg.describe_instance_refreshes(AutoScalingGroupName="svc", MaxRecords=3, NextToken=first["NextToken"])
    assert len(first["InstanceRefreshes"]) == 3 and len(second["InstanceRefreshes"]) == 1
    assert "NextToken" not in second
    assert first["InstanceRefreshes"][0]["Status"] == "RollbackSuccessful"
    assert second["InstanceRefreshes"][0]["Status"] == "Cancelled"
    # another account sees nothing
    other = aws.session(aws.ACCOUNTS[1], REGION).client("autoscaling")
    assert other.describe_instance_refreshes(AutoScalingGroupName="svc")["InstanceRefreshes"] == []
