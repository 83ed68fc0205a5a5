"""A deprecated pulumi-aws input fails the test suite (issue 12 item 15): the ones pulumi-aws warns about itself
and the ones only its documentation deprecates (``aws.iam.Role(inline_policies=...)``), which the offline
renders warn about (``patchctl/offline/deprecations.py``); ``pyproject.toml`` makes both errors."""

from __future__ import annotations

from typing import Any

import pulumi_aws as aws
import pytest

from patchctl.offline.deprecations import documented_deprecations
from patchctl.offline.mocks import AwsMocks
from patchctl.offline.render import render


def test_a_deprecated_input_pulumi_aws_flags_is_an_error_in_the_suite() -> None:
    with pytest.raises(DeprecationWarning, match=r"network_interface is deprecated"):
        aws.ec2.InstanceArgs(
            ami="ami-12345678", network_interfaces=[{"network_interface_id": "eni-1", "device_index": 0}]
        )


def test_the_roles_documented_deprecations_are_known() -> None:
    deprecated = documented_deprecations("aws:iam/role:Role")
    assert set(deprecated) == {"inlinePolicies", "managedPolicyArns"}
    assert "iam.RolePolicy" in deprecated["inlinePolicies"][0]
    assert deprecated["inlinePolicies"][1] == "pulumi_aws.iam.role"
    assert documented_deprecations("aws:iam/rolePolicy:RolePolicy") == {}
    assert documented_deprecations("org-patching:spoke:AccountBaseline") == {}


@pytest.mark.parametrize(
    "deprecated",
    [
        {"inline_policies": [aws.iam.RoleInlinePolicyArgs(name="p", policy='{"Version":"2012-10-17","Statement":[]}')]},
        {"managed_policy_arns": ["arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"]},
    ],
)
def test_a_role_with_a_documented_deprecated_input_fails_its_render(deprecated: dict[str, Any]) -> None:
    def build() -> None:
        aws.iam.Role("app", assume_role_policy='{"Version":"2012-10-17","Statement":[]}', **deprecated)

    with pytest.raises(Exception, match=f"{next(iter(deprecated))} is deprecated"):
        render(build, mocks=AwsMocks())


def test_the_same_role_with_its_policy_as_a_resource_renders() -> None:
    def build() -> None:
        role = aws.iam.Role("app", assume_role_policy='{"Version":"2012-10-17","Statement":[]}')
        aws.iam.RolePolicy("app", role=role.id, policy='{"Version":"2012-10-17","Statement":[]}')

    types = [r.type for r in render(build, mocks=AwsMocks()).resources if r.custom]
    assert "aws:iam/rolePolicy:RolePolicy" in types


def test_a_deprecated_resource_type_fails_its_render_though_its_import_warning_is_ignored() -> None:
    def build() -> None:
        aws.ec2.EncryptionControl("control", vpc_id="vpc-1", mode="monitor")

    with pytest.raises(Exception, match=r"the resource type is deprecated, use aws\.ec2/vpcencryptioncontrol"):
        render(build, mocks=AwsMocks())
