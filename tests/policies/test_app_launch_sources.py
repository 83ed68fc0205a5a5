"""``app_launch_sources``: the launch paths a stack could use to start unpatchable instances that the
tag rules never see (issue 13 item 9). Each test is an attack that passed the pack before these
rules, then the ways a legitimate stack still passes (allow-list, exemption, EKS/ECS, own tags)."""

from __future__ import annotations

import json

from policy_testing import R, U, run_resource, run_stack

INSTANCE = "aws:ec2/instance:Instance"
LT = "aws:ec2/launchTemplate:LaunchTemplate"
ASG = "aws:autoscaling/group:Group"
LC = "aws:ec2/launchConfiguration:LaunchConfiguration"
SPOT_FLEET = "aws:ec2/spotFleetRequest:SpotFleetRequest"
EC2_FLEET = "aws:ec2/fleet:Fleet"
CFN = "aws:cloudformation/stack:Stack"
TAG = "aws:ec2/tag:Tag"
ASG_TAG = "aws:autoscaling/tag:Tag"
VISIBLE = "launch-source-visible"
PROPAGATED_PROD = [{"key": "environment", "value": "Prod", "propagateAtLaunch": True}]


def _asg(props: dict, name: str = "workers", deps: dict | None = None) -> R:
    return R(ASG, name, {"minSize": 1.0, "maxSize": 2.0, "tags": PROPAGATED_PROD, **props}, deps=deps or {})


def _lt(name: str = "golden", tags: dict | None = None) -> R:
    props: dict = {"name": name, "id": f"lt-{name}", "iamInstanceProfile": {"name": "InstanceProfileforPatching"}}
    props["tagSpecifications"] = [{"resourceType": "instance", "tags": tags or {"environment": "Prod"}}]
    return R(LT, name, props)


# --- launch templates not in the stack -----------------------------------------------------------------


def test_asg_from_a_template_by_id_outside_the_stack_fails_closed() -> None:
    attack = _asg({"launchTemplate": {"id": "lt-0123456789abcdef0", "version": "$Latest"}})
    [(name, message)] = run_stack(VISIBLE, [attack])
    assert name == "workers"
    assert (
        "Auto Scaling group 'workers' launches from launch template 'lt-0123456789abcdef0', which is not in" in message
    )
    assert "'allow' list" in message
    # the other rules stay quiet on it: they cannot see the template (that was the hole)
    assert run_stack("asg-patch-tags", [attack]) == []
    # escape hatch: the platform team vets the golden template
    assert run_stack(VISIBLE, [attack], config={"allow": ["lt-0123*"]}) == []
    assert len(run_stack(VISIBLE, [attack], config={"allow": ["lt-9*"]})) == 1


def test_template_in_the_stack_passes_as_today() -> None:
    template = _lt()
    by_id = _asg({"launchTemplate": {"id": "lt-golden"}})
    by_dependency = _asg({"launchTemplate": {"id": "lt-not-yet-known"}}, deps={"launchTemplate": ["golden"]})
    assert run_stack(VISIBLE, [template, by_id]) == []
    assert run_stack(VISIBLE, [template, by_dependency]) == []


def test_template_from_a_cloudformation_stack_output_fails_closed() -> None:
    infra = R(CFN, "infra", {"name": "infra", "templateBody": U})
    attack = R(INSTANCE, "web", {"launchTemplate": {"id": U}}, deps={"launchTemplate": ["infra"]})
    [(name, message)] = run_stack(VISIBLE, [infra, attack])
    assert name == "web"
    assert "computed from aws:cloudformation/stack:Stack 'infra' (e.g. a CloudFormation stack output)" in message
    # an unknown with nothing behind it says nothing about where it comes from: pulumi up decides
    assert run_stack(VISIBLE, [R(INSTANCE, "web", {"launchTemplate": {"id": U}})]) == []
    # an unknown that comes from the stack's own template is fine
    inside = R(INSTANCE, "web", {"launchTemplate": {"id": U}}, deps={"launchTemplate": ["golden"]})
    assert run_stack(VISIBLE, [_lt(), inside]) == []


def test_mixed_instances_override_from_outside_fails_closed() -> None:
    override = {"launchTemplateSpecification": {"launchTemplateId": "lt-0ffffffffffffffff"}, "instanceType": "c5.large"}
    mixed = {
        "launchTemplate": {
            "launchTemplateSpecification": {"launchTemplateId": "lt-golden"},
            "overrides": [{"instanceType": "m5.large"}, override],
        }
    }
    attack = _asg({"mixedInstancesPolicy": mixed}, deps={"mixedInstancesPolicy": ["golden"]})
    [(_, message)] = run_stack(VISIBLE, [_lt(), attack])
    assert "launch template 'lt-0ffffffffffffffff', which is not in this stack" in message
    # the same override naming a second template of the stack passes, and that template is
    # now judged with the group (its own tags alone no longer decide)
    second = _lt("spot", {"Name": "spot"})
    override["launchTemplateSpecification"] = {"launchTemplateId": "lt-spot"}
    assert run_stack(VISIBLE, [_lt(), second, attack]) == []
    both = _asg({"mixedInstancesPolicy": mixed}, deps={"mixedInstancesPolicy": ["golden", "spot"]})
    assert run_stack(VISIBLE, [_lt(), second, both]) == []
    assert run_stack("launch-template-patch-tags", [_lt(), second, both]) == []


def test_instance_that_is_patchable_on_its_own_needs_no_template_view() -> None:
    bare = R(INSTANCE, "web", {"launchTemplate": {"name": "shared"}})
    assert len(run_stack(VISIBLE, [bare])) == 1
    tags_only = R(INSTANCE, "web", {"launchTemplate": {"name": "shared"}, "tags": {"environment": "Dev"}})
    assert len(run_stack(VISIBLE, [tags_only])) == 1  # the profile may still be missing
    own = R(
        INSTANCE,
        "web",
        {"launchTemplate": {"name": "shared"}, "tags": {"environment": "Dev"}, "iamInstanceProfile": "p"},
    )
    assert run_stack(VISIBLE, [own]) == []
    exempt = R(INSTANCE, "web", {"launchTemplate": {"name": "shared"}, "tags": {"install_patch": "no"}})
    assert run_stack(VISIBLE, [exempt]) == []
    # a marker tag on a plain instance buys nothing (issue 13 item 6)
    marked = R(INSTANCE, "web", {"launchTemplate": {"name": "shared"}, "tags": {"eks:cluster-name": "c"}})
    assert len(run_stack(VISIBLE, [marked])) == 1


def test_exempt_and_ecs_managed_groups_pass() -> None:
    outside = {"launchTemplate": {"id": "lt-0123456789abcdef0"}}
    exempt = _asg({**outside, "tags": [{"key": "install_patch", "value": "no", "propagateAtLaunch": True}]})
    assert run_stack(VISIBLE, [exempt]) == []
    group = _asg({**outside, "arn": "arn:aws:autoscaling:eu-west-1:1:autoScalingGroup:x:autoScalingGroupName/w"})
    ecs = R(
        "aws:ecs/capacityProvider:CapacityProvider",
        "cp",
        {"autoScalingGroupProvider": {"autoScalingGroupArn": group.props["arn"]}},
    )
    assert run_stack(VISIBLE, [group, ecs]) == []


# --- launch configurations -----------------------------------------------------------------------------


def test_launch_configurations() -> None:
    outside = _asg({"launchConfiguration": "legacy-lc"})
    [(_, message)] = run_stack(VISIBLE, [outside])
    assert "launch configuration 'legacy-lc', which is not in this stack" in message
    no_profile = R(LC, "legacy", {"name": "legacy-lc", "imageId": "ami-1", "instanceType": "t3.micro"})
    assert run_stack(VISIBLE, [no_profile, outside]) == []
    [(name, message)] = run_stack("launch-configuration-instance-profile", [no_profile, outside])
    assert name == "legacy" and "launch configuration 'legacy' has no IAM instance profile" in message
    with_profile = R(LC, "legacy", {**no_profile.props, "iamInstanceProfile": "InstanceProfileforPatching"})
    assert run_stack("launch-configuration-instance-profile", [with_profile, outside]) == []
    exempt = _asg(
        {
            "launchConfiguration": "legacy-lc",
            "tags": [{"key": "install_patch", "value": "no", "propagateAtLaunch": True}],
        }
    )
    assert run_stack("launch-configuration-instance-profile", [no_profile, exempt]) == []
    # the group's tags are still judged (a launch configuration has none)
    untagged = _asg({"launchConfiguration": "legacy-lc", "tags": []})
    assert len(run_stack("asg-patch-tags", [with_profile, untagged])) == 1


# --- spot fleets and EC2 fleets --------------------------------------------------------------------------


def test_spot_fleet_launch_specifications() -> None:
    bare = {"launchSpecifications": [{"ami": "ami-1", "instanceType": "m5.large"}], "tags": {"environment": "Prod"}}
    [message] = run_resource("spot-fleet-patch-tags", SPOT_FLEET, bare, resource_name="batch")
    assert "spot fleet request 'batch' launch specification 0 would not be patched" in message
    assert "missing tag 'Patch Group'" in message and "no IAM instance profile" in message
    good = {
        "launchSpecifications": [
            {"ami": "ami-1", "instanceType": "m5.large", "tags": {"environment": "Prod"}, "iamInstanceProfile": "p"}
        ]
    }
    assert run_resource("spot-fleet-patch-tags", SPOT_FLEET, good) == []
    exempt = {"launchSpecifications": [{"ami": "ami-1", "tags": {"install_patch": "no"}}]}
    assert run_resource("spot-fleet-patch-tags", SPOT_FLEET, exempt) == []
    native = {
        "spotFleetRequestConfigData": {
            "launchSpecifications": [
                {
                    "tagSpecifications": [
                        {"resourceType": "instance", "tags": [{"key": "environment", "value": "Dev"}]}
                    ],
                    "iamInstanceProfile": {"arn": "arn:aws:iam::1:instance-profile/p"},
                },
                {"imageId": "ami-1"},
            ]
        }
    }
    [message] = run_resource("spot-fleet-patch-tags", "aws-native:ec2:SpotFleet", native)
    assert "launch specification 1" in message


def test_fleets_from_templates_outside_the_stack_fail_closed() -> None:
    spot = R(
        SPOT_FLEET,
        "batch",
        {"launchTemplateConfigs": [{"launchTemplateSpecification": {"id": "lt-0aaa", "version": "1"}}]},
    )
    [(_, message)] = run_stack(VISIBLE, [spot])
    assert message.startswith("spot fleet request 'batch' launches from launch template 'lt-0aaa'")
    fleet = R(EC2_FLEET, "f", {"launchTemplateConfigs": [{"launchTemplateSpecification": {"launchTemplateName": "x"}}]})
    assert len(run_stack(VISIBLE, [fleet])) == 1
    inside = R(
        EC2_FLEET, "f", {"launchTemplateConfigs": [{"launchTemplateSpecification": {"launchTemplateName": "golden"}}]}
    )
    assert run_stack(VISIBLE, [_lt(), inside]) == []
    # a template only a fleet uses is judged on its own: it must carry the tags itself
    assert len(run_stack("launch-template-patch-tags", [_lt("golden", {"Name": "x"}), inside])) == 1


# --- CloudFormation ------------------------------------------------------------------------------------


def _template(resources: dict, **extra: object) -> str:
    return json.dumps({"Resources": resources, **extra})


INSTANCE_NO_TAGS = {"Web": {"Type": "AWS::EC2::Instance", "Properties": {"ImageId": "ami-1"}}}


def _cfn(body: object, **props: object) -> list[str]:
    return run_resource(
        "cloudformation-ec2-visible", CFN, {"name": "infra", "templateBody": body, **props}, resource_name="infra"
    )


def test_cloudformation_stack_holding_an_unpatchable_instance_fails_closed() -> None:
    [message] = _cfn(_template(INSTANCE_NO_TAGS))
    assert message.startswith(
        "CloudFormation stack 'infra' declares AWS::EC2::Instance 'Web' that would not be patched"
    )
    assert "no IamInstanceProfile" in message
    good = {
        "Web": {
            "Type": "AWS::EC2::Instance",
            "Properties": {"Tags": [{"Key": "environment", "Value": "Prod"}], "IamInstanceProfile": {"Ref": "Profile"}},
        }
    }
    assert _cfn(_template(good)) == []
    yaml_body = """
Resources:
  Web:
    Type: AWS::EC2::Instance
    Properties:
      IamInstanceProfile: !Ref Profile
      Tags:
        - Key: environment
          Value: Test
  Bucket:
    Type: AWS::S3::Bucket
"""
    assert _cfn(yaml_body) == []
    hidden = yaml_body.replace("Value: Test", "Value: !Ref Env")
    [message] = _cfn(hidden)
    assert "intrinsic functions" in message


def test_cloudformation_launch_template_and_opaque_types() -> None:
    template = {
        "Lt": {
            "Type": "AWS::EC2::LaunchTemplate",
            "Properties": {
                "LaunchTemplateData": {
                    "IamInstanceProfile": {"Name": "p"},
                    "TagSpecifications": [
                        {"ResourceType": "instance", "Tags": [{"Key": "install_patch", "Value": "no"}]}
                    ],
                }
            },
        }
    }
    assert _cfn(_template(template)) == []
    group = {"Asg": {"Type": "AWS::AutoScaling::AutoScalingGroup", "Properties": {}}}
    [message] = _cfn(_template(group))
    assert "declares AWS::AutoScaling::AutoScalingGroup 'Asg': the pack cannot judge" in message
    looped = {"Fn::ForEach::Hosts": ["H", ["a", "b"], {"Host${H}": INSTANCE_NO_TAGS["Web"]}]}
    assert len(_cfn(_template(looped, Transform="AWS::LanguageExtensions"))) == 1
    [message] = _cfn(_template({}, Transform=["MyMacro"]))
    assert "declares Transform 'MyMacro'" in message
    assert _cfn(_template({"Fn": {"Type": "AWS::Lambda::Function"}}, Transform="AWS::Serverless-2016-10-31")) == []


def test_cloudformation_unseen_bodies_and_the_allow_list() -> None:
    [message] = _cfn(None, templateUrl="https://bucket.s3.amazonaws.com/t.yaml")
    assert "takes its template from templateUrl" in message
    [message] = _cfn("Resources: [unclosed")
    assert "neither JSON nor YAML" in message
    assert _cfn(U) == []  # computed: pulumi up sees the text
    allow = {"allow": ["infra"]}
    assert (
        run_resource(
            "cloudformation-ec2-visible",
            CFN,
            {"name": "infra", "templateBody": _template(INSTANCE_NO_TAGS)},
            config=allow,
        )
        == []
    )
    stack_set = run_resource(
        "cloudformation-ec2-visible",
        "aws:cloudformation/stackSet:StackSet",
        {"name": "s", "templateBody": _template(INSTANCE_NO_TAGS)},
    )
    assert stack_set and stack_set[0].startswith("CloudFormation stack set")


# --- tags written on the side ----------------------------------------------------------------------------


def test_separate_tag_resources_cannot_write_managed_keys_or_exempt_others() -> None:
    managed = R(TAG, "pg", {"resourceId": "i-0123456789abcdef0", "key": "Patch Group", "value": "Prod"})
    [(name, message)] = run_stack("managed-tags-not-separate", [managed])
    assert name == "pg" and "writes the managed tag 'Patch Group' on i-0123456789abcdef0" in message
    window = R(
        ASG_TAG,
        "mw",
        {"autoscalingGroupName": "w", "tag": {"key": "maintenance_window", "value": "x", "propagateAtLaunch": True}},
    )
    assert len(run_stack("managed-tags-not-separate", [window])) == 1
    foreign = R(TAG, "ex", {"resourceId": "i-0123456789abcdef0", "key": "install_patch", "value": "no"})
    [(_, message)] = run_stack("managed-tags-not-separate", [foreign])
    assert "exempts i-0123456789abcdef0 that is not declared in this stack" in message
    own = R(INSTANCE, "web", {"tags": {"environment": "Prod"}})
    mine = R(TAG, "ex", {"resourceId": U, "key": "install_patch", "value": "no"}, deps={"resourceId": ["web"]})
    assert run_stack("managed-tags-not-separate", [own, mine]) == []
    environment = R(TAG, "env", {"resourceId": "i-0123456789abcdef0", "key": "environment", "value": "Prod"})
    assert run_stack("managed-tags-not-separate", [environment]) == []
    custom = {"patchGroupTag": "PatchGroup"}
    assert (
        len(
            run_stack(
                "managed-tags-not-separate", [R(TAG, "pg", {**managed.props, "key": "PatchGroup"})], config=custom
            )
        )
        == 1
    )
