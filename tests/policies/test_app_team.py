"""App-team policies: each resource type, compliant/non-compliant, unknowns, config, remediation."""

from __future__ import annotations

import json

import pytest
from policy_testing import R, U, provider, remediate, run_resource, run_stack

INSTANCE = "aws:ec2/instance:Instance"
SPOT = "aws:ec2/spotInstanceRequest:SpotInstanceRequest"
NATIVE = "aws-native:ec2:Instance"
LT = "aws:ec2/launchTemplate:LaunchTemplate"
NATIVE_LT = "aws-native:ec2:LaunchTemplate"
ASG = "aws:autoscaling/group:Group"
NATIVE_ASG = "aws-native:autoscaling:AutoScalingGroup"
PROFILE = "aws:iam/instanceProfile:InstanceProfile"
ROLE = "aws:iam/role:Role"
ATTACH = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
CORE = "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"
MANAGED = {"Patch Group": "Prod", "maintenance_window": "Prod_maintenance_window"}


# --- ec2-instance-patch-tags ----------------------------------------------------------------


@pytest.mark.parametrize("type_", [INSTANCE, SPOT])
@pytest.mark.parametrize(
    "tags",
    [
        {"environment": "Prod"},
        {"environment": " prod "},
        MANAGED,
        {"Patch Group": "Default", "maintenance_window": "Default_maintenance_window"},
        {"install_patch": "no"},
        {"patch_install": "NO"},
        {"eks:nodegroup-name": "ng"},
        {"aws:autoscaling:groupName": "asg"},
    ],
)
def test_instance_tags_compliant(type_: str, tags: dict[str, str]) -> None:
    assert run_resource("ec2-instance-patch-tags", type_, {"tags": tags, "iamInstanceProfile": "p"}) == []


def test_untagged_instance_message_names_resource_tags_values_and_exemption() -> None:
    [message] = run_resource("ec2-instance-patch-tags", INSTANCE, {"ami": "ami-1"}, resource_name="web")
    assert message.startswith("EC2 instance 'web' would not be patched: missing tag 'Patch Group'")
    assert "(allowed: Default, Dev, Test, Prod)" in message
    assert "missing tag 'maintenance_window' (allowed: Default_maintenance_window, Dev_maintenance_window" in message
    assert "set tag 'environment' to one of Dev, Test, Prod" in message
    assert "install_patch=no or patch_install=no" in message


def test_bad_values_are_named() -> None:
    [message] = run_resource("ec2-instance-patch-tags", INSTANCE, {"tags": {"environment": "prd"}})
    assert "tag 'environment'='prd' is not one of Dev, Test, Prod" in message
    [message] = run_resource(
        "ec2-instance-patch-tags", INSTANCE, {"tags": {"environment": "Prod", "Patch Group": "Gold"}}
    )
    assert "tag 'Patch Group'='Gold' is not one of Default, Dev, Test, Prod" in message


def test_native_instance_tags_are_a_list() -> None:
    ok = {"tags": [{"key": "environment", "value": "Test"}], "iamInstanceProfile": "p"}
    assert run_resource("ec2-instance-patch-tags", NATIVE, ok) == []
    [message] = run_resource("ec2-instance-patch-tags", NATIVE, {"tags": [{"key": "Name", "value": "x"}]})
    assert message.startswith("EC2 instance (aws-native) 'res' would not be patched")


def test_provider_default_tags_count() -> None:
    prov = provider("app", {"defaultTags": json.dumps({"tags": {"environment": "Dev"}})})
    assert run_resource("ec2-instance-patch-tags", INSTANCE, {"tags": {"Name": "x"}}, prov=prov) == []


def test_other_resource_types_are_ignored() -> None:
    assert run_resource("ec2-instance-patch-tags", "aws:s3/bucket:Bucket", {}) == []
    assert run_resource("ec2-instance-patch-tags", "aws:eks/nodeGroup:NodeGroup", {}) == []


def test_instance_from_launch_template_defers_to_the_template() -> None:
    props = {"launchTemplate": {"id": "lt-1", "version": "$Latest"}}
    assert run_resource("ec2-instance-patch-tags", INSTANCE, props) == []
    assert run_resource("ec2-instance-profile", INSTANCE, props) == []


@pytest.mark.parametrize(
    "props",
    [
        {"tags": U, "iamInstanceProfile": "p"},
        {"tags": {"environment": U}, "iamInstanceProfile": "p"},
        {"tags": {"Name": "x", "install_patch": U}, "iamInstanceProfile": "p"},
        {"tags": {"environment": "Prod"}, "iamInstanceProfile": U},
    ],
)
def test_unknowns_at_preview_do_not_crash_or_report(props: dict) -> None:
    assert run_resource("ec2-instance-patch-tags", INSTANCE, props) == []
    assert run_resource("ec2-instance-profile", INSTANCE, props) == []
    assert run_resource("ec2-instance-patch-tags", NATIVE, {**props, "tags": U}) == []
    fixed = remediate("ec2-instance-patch-tags", INSTANCE, props)
    if props["iamInstanceProfile"] == U:  # tags are known: remediate them, keep the unknown as an unknown
        assert fixed is not None and fixed["iamInstanceProfile"] == U and fixed["tags"]["Patch Group"] == "Prod"
    else:
        assert fixed is None


def test_unknown_unrelated_tag_does_not_hide_a_violation() -> None:
    assert len(run_resource("ec2-instance-patch-tags", INSTANCE, {"tags": {"Name": U}})) == 1


def test_config_overrides_keys_environments_and_exemptions() -> None:
    config = {
        "environmentTag": "Env",
        "patchGroupTag": "PatchGroup",
        "maintenanceWindowTag": "Window",
        "environments": ["Dev", "Prod"],
        "exemptionTags": ["skip-patching"],
    }
    assert run_resource("ec2-instance-patch-tags", INSTANCE, {"tags": {"Env": "Prod"}}, config=config) == []
    assert run_resource("ec2-instance-patch-tags", INSTANCE, {"tags": {"skip-patching": "no"}}, config=config) == []
    [message] = run_resource("ec2-instance-patch-tags", INSTANCE, {"tags": {"install_patch": "no"}}, config=config)
    assert "missing tag 'PatchGroup'" in message and "missing tag 'Window'" in message
    assert "skip-patching=no" in message and "install_patch=no" not in message
    [message] = run_resource("ec2-instance-patch-tags", INSTANCE, {"tags": {"Env": "Test"}}, config=config)
    assert "tag 'Env'='Test' is not an environment this organization allows (allowed: Dev, Prod)" in message
    # the contract's own key means nothing when another key is configured
    assert len(run_resource("ec2-instance-patch-tags", INSTANCE, {"tags": {"environment": "Prod"}}, config=config)) == 1


# --- remediation ------------------------------------------------------------------------------


def test_remediation_adds_managed_tags_from_environment() -> None:
    props = {"ami": "ami-1", "tags": {"environment": "prod", "Name": "web"}}
    fixed = remediate("ec2-instance-patch-tags", INSTANCE, props)
    assert fixed is not None
    assert fixed["tags"] == {
        "environment": "prod",
        "Name": "web",
        "Patch Group": "Prod",
        "maintenance_window": "Default_maintenance_window",
    }
    assert fixed["ami"] == "ami-1"


def test_remediation_keeps_existing_and_unknown_values_and_native_shape() -> None:
    fixed = remediate(
        "ec2-instance-patch-tags", INSTANCE, {"tags": {"environment": "Dev", "Patch Group": "Dev", "x": U}}
    )
    assert fixed is not None and fixed["tags"] == {
        "environment": "Dev",
        "Patch Group": "Dev",
        "x": U,
        "maintenance_window": "Default_maintenance_window",
    }
    fixed = remediate("ec2-instance-patch-tags", NATIVE, {"tags": [{"key": "environment", "value": "Test"}]})
    assert fixed is not None and fixed["tags"] == [
        {"key": "environment", "value": "Test"},
        {"key": "Patch Group", "value": "Test"},
        {"key": "maintenance_window", "value": "Default_maintenance_window"},
    ]


def test_remediation_with_configured_keys_and_nothing_to_derive() -> None:
    config = {"environmentTag": "Env", "patchGroupTag": "PG", "maintenanceWindowTag": "MW"}
    fixed = remediate("ec2-instance-patch-tags", INSTANCE, {"tags": {"Env": "Test"}}, config=config)
    assert fixed is not None and fixed["tags"] == {"Env": "Test", "PG": "Test", "MW": "Default_maintenance_window"}
    assert remediate("ec2-instance-patch-tags", INSTANCE, {"tags": {"Name": "x"}}) is None
    assert remediate("ec2-instance-patch-tags", INSTANCE, {"tags": {"environment": "Prod", **MANAGED}}) is None
    assert (
        remediate("ec2-instance-patch-tags", INSTANCE, {"tags": {"environment": "Prod", "install_patch": "no"}}) is None
    )


# --- ec2-instance-profile -----------------------------------------------------------------------


def test_instance_profile_required_and_allow_list() -> None:
    tags = {"tags": {"environment": "Prod"}}
    [message] = run_resource("ec2-instance-profile", INSTANCE, tags, resource_name="web")
    assert message.startswith("EC2 instance 'web' has no IAM instance profile")
    assert "AmazonSSMManagedInstanceCore" in message and "install_patch=no" in message
    assert run_resource("ec2-instance-profile", INSTANCE, {**tags, "iamInstanceProfile": "anything"}) == []
    config = {"instanceProfiles": ["InstanceProfileforPatching"]}
    ok = {**tags, "iamInstanceProfile": "arn:aws:iam::1:instance-profile/InstanceProfileforPatching"}
    assert run_resource("ec2-instance-profile", INSTANCE, ok, config=config) == []
    [message] = run_resource("ec2-instance-profile", SPOT, {**tags, "iamInstanceProfile": "other"}, config=config)
    assert "'other', which is not one of the allowed profiles (InstanceProfileforPatching)" in message
    assert run_resource("ec2-instance-profile", INSTANCE, {"tags": {"install_patch": "no"}}) == []


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


# --- instance-profile-can-patch ----------------------------------------------------------------


def _profile_stack(*extra: R, role_props: dict | None = None) -> list[R]:
    return [
        R(ROLE, "role", {"name": "app-role", "arn": "arn:aws:iam::1:role/app-role", **(role_props or {})}),
        R(PROFILE, "profile", {"name": "app-profile", "role": "app-role"}),
        R(INSTANCE, "web", {"iamInstanceProfile": "app-profile", "tags": {"environment": "Prod"}}),
        *extra,
    ]


def test_profile_role_with_core_policy_passes() -> None:
    attach = R(ATTACH, "core", {"role": "app-role", "policyArn": CORE})
    assert run_stack("instance-profile-can-patch", _profile_stack(attach)) == []
    assert (
        run_stack(
            "instance-profile-can-patch",
            _profile_stack(role_props={"managedPolicyArns": [CORE.replace("arn:aws:", "arn:aws-us-gov:", 1)]}),
        )
        == []
    )


def test_profile_role_without_ssm_fails_with_fix() -> None:
    other = R(ATTACH, "ro", {"role": "app-role", "policyArn": "arn:aws:iam::aws:policy/ReadOnlyAccess"})
    [(name, message)] = run_stack("instance-profile-can-patch", _profile_stack(other))
    assert name == "profile"
    assert "instance profile 'profile' (used by 'web') has role 'role' without AmazonSSMManagedInstanceCore" in message
    assert "ssm:UpdateInstanceInformation" in message


def test_custom_policy_granting_ssm_actions_passes() -> None:
    document = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": ["ssm:*", "ec2messages:*"], "Resource": "*"}],
    }
    policy = R(
        "aws:iam/policy:Policy", "custom", {"arn": "arn:aws:iam::1:policy/custom", "policy": json.dumps(document)}
    )
    attach = R(ATTACH, "a", {"role": "app-role", "policyArn": "arn:aws:iam::1:policy/custom"})
    assert run_stack("instance-profile-can-patch", _profile_stack(policy, attach)) == []
    inline = R("aws:iam/rolePolicy:RolePolicy", "inline", {"role": "app-role", "policy": json.dumps(document)})
    assert run_stack("instance-profile-can-patch", _profile_stack(inline)) == []
    partial = {"Statement": [{"Effect": "Allow", "Action": "ssm:*", "Resource": "*"}]}
    inline = R("aws:iam/rolePolicy:RolePolicy", "inline", {"role": "app-role", "policy": json.dumps(partial)})
    [(_, message)] = run_stack("instance-profile-can-patch", _profile_stack(inline))
    assert "ec2messages:GetMessages" in message and "ssm:PutInventory" not in message


def test_profile_unknowns_and_unused_profiles() -> None:
    unknown_attach = R(ATTACH, "core", {"role": "app-role", "policyArn": U})
    assert run_stack("instance-profile-can-patch", _profile_stack(unknown_attach)) == []
    stack = _profile_stack()
    stack[2] = R(INSTANCE, "web", {"iamInstanceProfile": "someone-elses"})
    assert run_stack("instance-profile-can-patch", stack) == []
    # joined by property dependency when names are unknown
    stack = [
        R(ROLE, "role", {"name": U}),
        R(PROFILE, "profile", {"name": U, "role": U}, deps={"role": ["role"]}),
        R(INSTANCE, "web", {"iamInstanceProfile": U}, deps={"iamInstanceProfile": ["profile"]}),
    ]
    assert len(run_stack("instance-profile-can-patch", stack)) == 1
    stack.append(R(ATTACH, "core", {"role": U, "policyArn": CORE}, deps={"role": ["role"]}))
    assert run_stack("instance-profile-can-patch", stack) == []
