"""``app_launch_templates``: launch-template-patch-tags, launch-template-instance-profile and
asg-patch-tags, joined across the stack (instances, node groups, capacity providers)."""

from __future__ import annotations

from policy_testing import R, U, run_stack

INSTANCE = "aws:ec2/instance:Instance"
LT = "aws:ec2/launchTemplate:LaunchTemplate"
NATIVE_LT = "aws-native:ec2:LaunchTemplate"
ASG = "aws:autoscaling/group:Group"
NATIVE_ASG = "aws-native:autoscaling:AutoScalingGroup"


# --- launch templates -------------------------------------------------------------------------------


def _lt(tags: dict | None = None, profile: dict | None = None, name: str = "lt") -> R:
    props: dict = {"name": f"{name}-x", "id": f"lt-{name}"}
    if tags is not None:
        props["tagSpecifications"] = [
            {"resourceType": "volume", "tags": {"a": "b"}},
            {"resourceType": "instance", "tags": tags},
        ]
    if profile is not None:
        props["iamInstanceProfile"] = profile
    return R(LT, name, props)


def test_launch_template_tags_and_profile() -> None:
    good = _lt({"environment": "Prod"}, {"name": "p"})
    assert run_stack("launch-template-patch-tags", [good]) == []
    assert run_stack("launch-template-instance-profile", [good]) == []
    bad = _lt({"Name": "x"})
    [(name, message)] = run_stack("launch-template-patch-tags", [bad])
    assert name == "lt" and "launch template 'lt' (instance tag specifications) would not be patched" in message
    [(name, message)] = run_stack("launch-template-instance-profile", [bad])
    assert "launch template 'lt' has no IAM instance profile" in message
    assert run_stack("launch-template-instance-profile", [_lt({}, {"arn": "arn:aws:iam::1:instance-profile/p"})]) == []


def test_native_launch_template() -> None:
    data = {
        "tagSpecifications": [{"resourceType": "instance", "tags": [{"key": "environment", "value": "Dev"}]}],
        "iamInstanceProfile": {"name": "p"},
    }
    good = R(NATIVE_LT, "nlt", {"launchTemplateData": data})
    assert run_stack("launch-template-patch-tags", [good]) == []
    assert run_stack("launch-template-instance-profile", [good]) == []
    bad = R(NATIVE_LT, "nlt", {"launchTemplateData": {"imageId": "ami-1"}})
    assert len(run_stack("launch-template-patch-tags", [bad])) == 1
    assert len(run_stack("launch-template-instance-profile", [bad])) == 1


def test_eks_and_ecs_managed_templates_are_exempt() -> None:
    bare = _lt(None, None, "ng-lt")
    node_group = R("aws:eks/nodeGroup:NodeGroup", "ng", {"launchTemplate": {"id": "lt-ng-lt", "version": "1"}})
    assert run_stack("launch-template-patch-tags", [bare, node_group]) == []
    assert run_stack("launch-template-instance-profile", [bare, node_group]) == []
    # joined by property dependency when the id is unknown at preview
    node_group = R(
        "aws:eks/nodeGroup:NodeGroup", "ng", {"launchTemplate": {"id": U}}, deps={"launchTemplate": ["ng-lt"]}
    )
    assert run_stack("launch-template-patch-tags", [bare, node_group]) == []
    asg = R(ASG, "ecs-asg", {"arn": "arn:asg:ecs", "launchTemplate": {"id": "lt-ng-lt"}, "tags": []})
    capacity = R(
        "aws:ecs/capacityProvider:CapacityProvider",
        "cp",
        {"autoScalingGroupProvider": {"autoScalingGroupArn": "arn:asg:ecs"}},
    )
    assert run_stack("launch-template-patch-tags", [bare, asg, capacity]) == []
    assert run_stack("launch-template-instance-profile", [bare, asg, capacity]) == []
    assert run_stack("asg-patch-tags", [bare, asg, capacity]) == []
    assert len(run_stack("asg-patch-tags", [bare, asg])) == 1
    marked = _lt({"kubernetes.io/cluster/prod": "owned"}, None, "k8s")
    assert run_stack("launch-template-patch-tags", [marked]) == []
    # ...but not when it launches plain instances: the marker would buy them an exemption (issue 13 item 6)
    plain = R(INSTANCE, "web", {"launchTemplate": {"id": "lt-k8s"}})
    [(name, _)] = run_stack("launch-template-patch-tags", [marked, plain])
    assert name == "k8s"


def test_template_used_by_instances_merges_their_tags() -> None:
    lt = _lt({"Name": "x"}, None)
    inst = R(
        INSTANCE, "web", {"launchTemplate": {"id": "lt-lt"}, "tags": {"environment": "Prod"}, "iamInstanceProfile": "p"}
    )
    assert run_stack("launch-template-patch-tags", [lt, inst]) == []
    assert run_stack("launch-template-instance-profile", [lt, inst]) == []
    inst.props = {"launchTemplate": {"id": "lt-lt"}}
    [(_, message)] = run_stack("launch-template-patch-tags", [lt, inst])
    assert "(instances launched by EC2 instance 'web')" in message
    assert len(run_stack("launch-template-instance-profile", [lt, inst])) == 1


def test_instance_from_external_template_is_left_to_that_templates_stack() -> None:
    inst = R(INSTANCE, "web", {"launchTemplate": {"name": "shared"}, "tags": {"environment": "Dev"}})
    assert run_stack("launch-template-instance-profile", [inst]) == []
    assert run_stack("launch-template-patch-tags", [inst]) == []
    # the same template seen in its own stack, launched by nothing there, must carry both
    assert len(run_stack("launch-template-instance-profile", [_lt({"environment": "Dev"}, None, "shared")])) == 1


# --- Auto Scaling groups ---------------------------------------------------------------------------


def _asg(tags: list | str, lt_ref: dict | None = None, type_: str = ASG) -> R:
    props: dict = {"tags": tags, "maxSize": 2.0, "minSize": 1.0}
    if lt_ref is not None:
        props["launchTemplate"] = lt_ref
    return R(type_, "asg", props)


def test_asg_propagated_tags_or_template_tags() -> None:
    env = {"key": "environment", "value": "Prod", "propagateAtLaunch": True}
    assert run_stack("asg-patch-tags", [_asg([env])]) == []
    [(name, message)] = run_stack("asg-patch-tags", [_asg([{**env, "propagateAtLaunch": False}])])
    assert name == "asg" and "Auto Scaling group 'asg' (tags propagated at launch) would not be patched" in message
    lt = _lt({"environment": "Dev"})
    assert run_stack("asg-patch-tags", [lt, _asg([], {"id": "lt-lt", "version": "$Latest"})]) == []
    assert run_stack("launch-template-patch-tags", [_lt({}), _asg([env], {"name": "lt-x"})]) == []
    mixed = _asg([])
    mixed.props["mixedInstancesPolicy"] = {
        "launchTemplate": {"launchTemplateSpecification": {"launchTemplateName": "lt-x"}}
    }
    assert run_stack("asg-patch-tags", [lt, mixed]) == []
    assert len(run_stack("asg-patch-tags", [_lt({}), mixed])) == 1


def test_native_asg_and_exemptions() -> None:
    env = {"key": "environment", "value": "Test", "propagateAtLaunch": True}
    assert run_stack("asg-patch-tags", [_asg([env], None, NATIVE_ASG)]) == []
    native = _asg([], {"launchTemplateId": "lt-lt"}, NATIVE_ASG)
    assert run_stack("asg-patch-tags", [_lt({"environment": "Dev"}), native]) == []
    assert len(run_stack("asg-patch-tags", [_asg([], None, NATIVE_ASG)])) == 1
    exempt = {"key": "install_patch", "value": "no", "propagateAtLaunch": False}
    assert run_stack("asg-patch-tags", [_asg([exempt])]) == []
    eks = {"key": "k8s.io/cluster-autoscaler/enabled", "value": "true", "propagateAtLaunch": True}
    assert run_stack("asg-patch-tags", [_asg([eks])]) == []


def test_asg_unknowns_do_not_report() -> None:
    assert run_stack("asg-patch-tags", [_asg(U)]) == []
    assert run_stack("asg-patch-tags", [_asg([{"key": "environment", "value": "Prod", "propagateAtLaunch": U}])]) == []
    assert run_stack("asg-patch-tags", [_lt({}), _asg([], {"id": U})]) == []
    # an external template (known id, not in this stack) can't be seen: don't guess
    assert run_stack("asg-patch-tags", [_asg([], {"id": "lt-elsewhere"})]) == []
