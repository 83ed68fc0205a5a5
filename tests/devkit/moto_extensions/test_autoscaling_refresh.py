"""The instance refresh extension behaves like the Auto Scaling API reference says."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from devkit.moto_extensions.autoscaling import models as autoscaling_models
from devkit.virtual_clock import CLOCK
from tests import aws

ACCOUNT, REGION = aws.ACCOUNTS[0], aws.REGIONS[1]


def statuses(client, name: str, n: int) -> list[str]:
    return [
        client.describe_instance_refreshes(AutoScalingGroupName=name)["InstanceRefreshes"][0]["Status"]
        for _ in range(n)
    ]


def test_refresh_progresses_in_virtual_time_and_applies_the_desired_configuration(moto_aws: None) -> None:
    sess = aws.session(ACCOUNT, REGION)
    ec2, asg = sess.client("ec2"), sess.client("autoscaling")
    template = aws.create_launch_template(sess, "web")
    aws.create_asg(sess, "web", desired=4, template_id=template, version="1")
    before = {i["InstanceId"] for i in asg.describe_auto_scaling_groups()["AutoScalingGroups"][0]["Instances"]}
    ec2.create_launch_template_version(
        LaunchTemplateId=template, SourceVersion="1", LaunchTemplateData={"ImageId": "ami-0fedcba9876543210"}
    )
    refresh_id = asg.start_instance_refresh(
        AutoScalingGroupName="web",
        DesiredConfiguration={"LaunchTemplate": {"LaunchTemplateId": template, "Version": "2"}},
        Preferences={"MinHealthyPercentage": 50, "InstanceWarmup": 100, "AutoRollback": True},
    )["InstanceRefreshId"]
    first = asg.describe_instance_refreshes(AutoScalingGroupName="web")["InstanceRefreshes"][0]
    assert first["InstanceRefreshId"] == refresh_id and first["Status"] == "InProgress"
    assert first["Preferences"]["MinHealthyPercentage"] == 50 and first["Preferences"]["AutoRollback"] is True
    assert first["InstancesToUpdate"] == 4
    # 4 instances, at most 50 % out of service: 2 batches of 2, each launch (60 s) + warm-up (100 s) = 320 s
    CLOCK.advance(160)
    half = asg.describe_instance_refreshes(AutoScalingGroupName="web")["InstanceRefreshes"][0]
    assert half["Status"] == "InProgress" and half["PercentageComplete"] == 50
    group = asg.describe_auto_scaling_groups()["AutoScalingGroups"][0]
    assert group["LaunchTemplate"]["Version"] == "1"  # not before the refresh succeeded
    CLOCK.advance(160)
    assert statuses(asg, "web", 2) == ["Successful", "Successful"]
    group = asg.describe_auto_scaling_groups()["AutoScalingGroups"][0]
    assert group["LaunchTemplate"]["Version"] == "2"  # the desired configuration, applied on success
    after = {i["InstanceId"] for i in group["Instances"]}
    assert len(after) == 4 and not after & before
    images = {
        i["ImageId"] for r in ec2.describe_instances(InstanceIds=list(after))["Reservations"] for i in r["Instances"]
    }
    assert images == {"ami-0fedcba9876543210"}


def test_a_higher_min_healthy_percentage_takes_longer(moto_aws: None) -> None:
    sess = aws.session(ACCOUNT, REGION)
    asg = sess.client("autoscaling")
    aws.create_asg(sess, "slow", desired=4)
    asg.start_instance_refresh(AutoScalingGroupName="slow", Preferences={"MinHealthyPercentage": 90})
    assert statuses(asg, "slow", 1) == ["InProgress"]
    # 90 %: one instance at a time, 4 x (60 s + the default 300 s warm-up) = 1,440 s
    CLOCK.advance(1439)
    assert statuses(asg, "slow", 1) == ["InProgress"]
    CLOCK.advance(1)
    assert statuses(asg, "slow", 1) == ["Successful"]


def test_auto_rollback_needs_a_desired_configuration_and_a_pinned_version(moto_aws: None) -> None:
    """botocore, RefreshPreferences.AutoRollback: not supported without a desired configuration, for groups on
    $Latest/$Default, or for templates whose ImageId is an SSM parameter."""
    sess = aws.session(ACCOUNT, REGION)
    asg = sess.client("autoscaling")
    template = aws.create_launch_template(sess, "pinned")
    aws.create_asg(sess, "pinned", desired=0, template_id=template, version="1")
    aws.create_asg(sess, "floating", desired=0, template_id=template, version="$Default")
    desired = {"LaunchTemplate": {"LaunchTemplateId": template, "Version": "1"}}
    for name, kwargs in (
        ("pinned", {}),
        ("floating", {"DesiredConfiguration": desired}),
    ):
        with pytest.raises(ClientError) as refused:
            asg.start_instance_refresh(AutoScalingGroupName=name, Preferences={"AutoRollback": True}, **kwargs)
        assert refused.value.response["Error"]["Code"] == "ValidationError"
    with pytest.raises(ClientError) as unknown_version:
        asg.start_instance_refresh(
            AutoScalingGroupName="pinned",
            DesiredConfiguration={"LaunchTemplate": {"LaunchTemplateId": template, "Version": "9"}},
        )
    assert "9" in str(unknown_version.value)
    asg.start_instance_refresh(
        AutoScalingGroupName="pinned", DesiredConfiguration=desired, Preferences={"AutoRollback": True}
    )


def test_bake_time_adds_a_baking_step(moto_aws: None) -> None:
    sess = aws.session(ACCOUNT, REGION)
    aws.create_asg(sess, "baked", desired=0)
    asg = sess.client("autoscaling")
    asg.start_instance_refresh(AutoScalingGroupName="baked", Preferences={"BakeTime": 60})
    assert statuses(asg, "baked", 2) == ["InProgress", "Baking"]
    CLOCK.advance(60)
    assert statuses(asg, "baked", 1) == ["Successful"]


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
    template = aws.create_launch_template(sess, "svc")
    aws.create_asg(sess, "svc", desired=1, template_id=template, version="1")
    desired = {"LaunchTemplate": {"LaunchTemplateId": template, "Version": "1"}}
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
    asg.start_instance_refresh(
        AutoScalingGroupName="svc", DesiredConfiguration=desired, Preferences={"AutoRollback": True}
    )
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
