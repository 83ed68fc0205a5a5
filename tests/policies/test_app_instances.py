"""``app_instances``: ec2-instance-patch-tags and ec2-instance-profile for each instance type,
compliant/non-compliant, unknowns, config and remediation."""

from __future__ import annotations

import json

import pytest
from policy_testing import U, provider, remediate, run_resource

INSTANCE = "aws:ec2/instance:Instance"
SPOT = "aws:ec2/spotInstanceRequest:SpotInstanceRequest"
NATIVE = "aws-native:ec2:Instance"
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
        {"aws:eks:cluster-name": "c"},
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
