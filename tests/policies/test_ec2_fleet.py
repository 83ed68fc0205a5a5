"""``ec2_fleet``: instances, templates, ASGs and profiles in their wire form, and the stack join."""

from __future__ import annotations

from ec2_fleet import (
    asg_tags,
    asg_template_refs,
    build_fleet,
    instance_tags,
    instance_template_refs,
    profile_users,
    template_instance_tags,
    template_own_tags,
    template_profile,
)
from policy_testing import R, U, provider, stack_resources
from pulumi_policy import StackValidationArgs
from stackview import StackView
from wire import UNKNOWN, plain

INSTANCE = "aws:ec2/instance:Instance"
NATIVE = "aws-native:ec2:Instance"
LT = "aws:ec2/launchTemplate:LaunchTemplate"
NATIVE_LT = "aws-native:ec2:LaunchTemplate"
ASG = "aws:autoscaling/group:Group"
NATIVE_ASG = "aws-native:autoscaling:AutoScalingGroup"
PROFILE = "aws:iam/instanceProfile:InstanceProfile"


def test_instance_tags_merge_provider_default_tags_except_on_aws_native() -> None:
    prov = provider("p", {"defaultTags": '{"tags": {"environment": "Dev", "team": "a"}}'})
    tags = instance_tags(INSTANCE, {"tags": {"environment": "Prod"}}, prov)
    assert tags.known == {"environment": "Prod", "team": "a"}
    assert instance_tags(NATIVE, {"tags": [{"key": "x", "value": "1"}]}, prov).known == {"x": "1"}
    assert instance_tags(INSTANCE, {}, None).known == {}


def test_template_tags_profile_and_native_nesting() -> None:
    props = {
        "tags": {"kubernetes.io/cluster/c": "owned"},
        "tagSpecifications": [
            {"resourceType": "volume", "tags": {"v": "1"}},
            {"resourceType": "instance", "tags": {"environment": "Test"}},
        ],
        "iamInstanceProfile": {"arn": "arn:aws:iam::1:instance-profile/p"},
    }
    assert template_instance_tags(LT, props).known == {"environment": "Test"}
    assert template_own_tags(LT, props).known == {"kubernetes.io/cluster/c": "owned"}
    assert template_profile(LT, props) == "arn:aws:iam::1:instance-profile/p"
    native = {
        "launchTemplateData": {
            "tagSpecifications": [{"resourceType": "instance", "tags": [{"key": "environment", "value": "Dev"}]}],
            "iamInstanceProfile": {"name": "p"},
        },
        "tagSpecifications": [{"resourceType": "launch-template", "tags": [{"key": "own", "value": "1"}]}],
    }
    assert template_instance_tags(NATIVE_LT, native).known == {"environment": "Dev"}
    assert template_own_tags(NATIVE_LT, native).known == {"own": "1"}
    assert template_profile(NATIVE_LT, native) == "p"
    assert template_profile(LT, {}) is None


def test_template_unknowns() -> None:
    assert template_instance_tags(LT, {"tagSpecifications": UNKNOWN}).opaque
    assert template_instance_tags(LT, {"tagSpecifications": [{"resourceType": UNKNOWN}]}).opaque
    assert template_instance_tags(NATIVE_LT, {"launchTemplateData": UNKNOWN}).opaque
    assert template_profile(LT, {"iamInstanceProfile": UNKNOWN}) is UNKNOWN
    assert template_profile(LT, {"iamInstanceProfile": {"name": UNKNOWN}}) is UNKNOWN


def test_asg_tags_and_template_references() -> None:
    props = plain(
        {
            "tags": [
                {"key": "environment", "value": "Prod", "propagateAtLaunch": True},
                {"key": "team", "value": "a", "propagateAtLaunch": "false"},
                {"key": "x", "value": "1", "propagateAtLaunch": U},
            ],
            "launchTemplate": {"id": "lt-1", "version": "$Latest"},
            "mixedInstancesPolicy": {"launchTemplate": {"launchTemplateSpecification": {"launchTemplateName": "n"}}},
        }
    )
    everything, propagated = asg_tags(props)
    assert set(everything.known) == {"environment", "team", "x"}
    assert propagated.known == {"environment": "Prod"} and propagated.opaque
    assert asg_template_refs(ASG, props) == [("launchTemplate", "lt-1"), ("mixedInstancesPolicy", "n")]
    assert asg_template_refs(NATIVE_ASG, {"launchTemplate": {"launchTemplateId": "lt-2"}}) == [
        ("launchTemplate", "lt-2")
    ]
    assert asg_template_refs(ASG, {"launchTemplate": UNKNOWN}) == [("launchTemplate", UNKNOWN)]
    assert instance_template_refs(INSTANCE, {"launchTemplate": {"name": "shared"}}) == ["shared"]
    assert instance_template_refs(NATIVE, {"launchTemplate": {"launchTemplateId": "lt-3"}}) == ["lt-3"]
    assert instance_template_refs(INSTANCE, {}) == []


def test_build_fleet_joins_users_and_managers() -> None:
    resources = [
        R(LT, "web-lt", {"id": "lt-web", "name": "web"}),
        R(LT, "ng-lt", {"id": "lt-ng", "name": "ng"}),
        R(LT, "ecs-lt", {"id": "lt-ecs", "name": "ecs"}),
        R(INSTANCE, "web", {"launchTemplate": {"id": "lt-web"}}),
        R(ASG, "ecs-asg", {"arn": "arn:asg", "launchTemplate": {"name": "ecs"}, "tags": []}),
        R(ASG, "blind-asg", {"launchTemplate": {"id": U}, "tags": []}),
        R("aws:eks/nodeGroup:NodeGroup", "ng", {"launchTemplate": {"name": "ng"}}),
        R(
            "aws:ecs/capacityProvider:CapacityProvider",
            "cp",
            {"autoScalingGroupProvider": {"autoScalingGroupArn": "arn:asg"}},
        ),
    ]
    fleet = build_fleet(StackValidationArgs(stack_resources(resources), {}))
    by_urn = fleet.view.by_urn
    by_name = {node.name: node for node in fleet.view.nodes}
    users = {by_urn[urn].name: [u.name for u in nodes] for urn, nodes in fleet.template_users.items()}
    assert users == {"web-lt": ["web"], "ng-lt": [], "ecs-lt": ["ecs-asg"]}
    assert [t.name for t in fleet.instance_templates[by_name["web"].urn]] == ["web-lt"]
    assert fleet.asg_templates[by_name["blind-asg"].urn] is None
    managed = {by_urn[urn].name: reason for urn, reason in fleet.managed.items()}
    assert managed == {
        "ng-lt": "managed: launch template of EKS node group 'ng'",
        "ecs-asg": "managed: Auto Scaling group of ECS capacity provider 'cp'",
        "ecs-lt": "managed: Auto Scaling group of ECS capacity provider 'cp' (via Auto Scaling group 'ecs-asg')",
    }


def test_profile_users() -> None:
    view = StackView(
        stack_resources(
            [
                R(PROFILE, "profile", {"name": "app"}),
                R(INSTANCE, "web", {"iamInstanceProfile": "app"}),
                R(LT, "lt", {"iamInstanceProfile": {"name": "app"}}),
                R(NATIVE_LT, "nlt", {"launchTemplateData": {"iamInstanceProfile": {"arn": U}}}),
                R(INSTANCE, "other", {"iamInstanceProfile": "elsewhere"}),
            ]
        )
    )
    profiles = view.pool(PROFILE, ids=("name",))
    [(urn, users)] = profile_users(view, profiles).items()
    assert view.by_urn[urn].name == "profile" and [u.name for u in users] == ["web", "lt"]
