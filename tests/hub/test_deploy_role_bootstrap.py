"""``DeployRoleBootstrap`` rendered under Pulumi's mocks: a service-managed StackSet with auto-deployment
and the configured caller, one instance set over the configured OUs or root, and the central stack
wiring (present when enabled, absent when not, the role name among the outputs)."""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_aws as aws
import pytest

from components import naming
from components.config import BootstrapConfig, CentralConfig
from components.hub.deploy_role_bootstrap import TEMPLATE_FILE, DeployRoleBootstrap, DeployRoleBootstrapArgs
from patchctl.offline.render import Capture, render
from patchctl.stack_render import render_stack

HUB = "999999999999"
ORG = "o-exampleorg01"
PRINCIPAL = f"arn:aws:iam::{HUB}:role/org-patching-github-deploy"
STACK_SET = "aws:cloudformation/stackSet:StackSet"
INSTANCES = "aws:cloudformation/stackSetInstance:StackSetInstance"


def build(**bootstrap: Any) -> Capture:
    cfg = BootstrapConfig.model_validate({"deployPrincipalArn": PRINCIPAL, "targets": ["r-ab12"], **bootstrap})

    def program() -> DeployRoleBootstrap:
        hub = aws.Provider(HUB, region="eu-west-1", allowed_account_ids=[HUB])
        return DeployRoleBootstrap(
            "bootstrap",
            DeployRoleBootstrapArgs(config=cfg, org_id=ORG, region="eu-west-1"),
            opts=pulumi.ResourceOptions(providers=[hub]),
        )

    return render(program)


@pytest.fixture(scope="module")
def capture() -> Capture:
    return build()


def test_the_stack_set_is_service_managed_with_auto_deployment(capture: Capture) -> None:
    stack_set = capture.one(STACK_SET).inputs
    assert stack_set["name"] == naming.DEPLOY_ROLE_STACK_SET
    assert stack_set["permissionModel"] == "SERVICE_MANAGED"
    assert stack_set["autoDeployment"] == {"enabled": True, "retainStacksOnAccountRemoval": False}
    assert stack_set["callAs"] == "DELEGATED_ADMIN"
    assert stack_set["capabilities"] == ["CAPABILITY_NAMED_IAM"]
    assert stack_set["templateBody"] == TEMPLATE_FILE.read_text()
    assert stack_set["parameters"] == {"DeployPrincipalArn": PRINCIPAL, "OrganizationId": ORG}
    # service-managed: StackSets creates its own roles; naming one is an API error
    assert "administrationRoleArn" not in stack_set and "executionRoleName" not in stack_set


def test_operations_scale_by_percentage_and_run_regions_in_parallel(capture: Capture) -> None:
    for preferences in (
        capture.one(STACK_SET).inputs["operationPreferences"],
        capture.one(INSTANCES).inputs["operationPreferences"],
    ):
        assert preferences["regionConcurrencyType"] == "PARALLEL"
        assert 0 < preferences["failureTolerancePercentage"] < preferences["maxConcurrentPercentage"] <= 100
        assert "maxConcurrentCount" not in preferences and "failureToleranceCount" not in preferences
    assert capture.one(INSTANCES).inputs["operationPreferences"]["concurrencyMode"] == "SOFT_FAILURE_TOLERANCE"


def test_one_instance_set_over_the_targets_in_the_home_region(capture: Capture) -> None:
    instances = capture.one(INSTANCES).inputs
    assert instances["stackSetName"] == naming.DEPLOY_ROLE_STACK_SET
    assert instances["deploymentTargets"] == {"organizationalUnitIds": ["r-ab12"]}
    assert instances["stackSetInstanceRegion"] == "eu-west-1" and "region" not in instances
    assert instances["callAs"] == "DELEGATED_ADMIN"
    assert "accountId" not in instances


def test_the_management_account_calls_as_self() -> None:
    capture = build(callAs="SELF", targets=["ou-ab12-abcdefgh", "ou-ab12-ijklmnop"])
    assert capture.one(STACK_SET).inputs["callAs"] == "SELF"
    instances = capture.one(INSTANCES).inputs
    assert instances["callAs"] == "SELF"
    assert instances["deploymentTargets"]["organizationalUnitIds"] == ["ou-ab12-abcdefgh", "ou-ab12-ijklmnop"]


def test_the_central_stack_deploys_it_and_exports_the_role_name(central_capture: Any) -> None:
    component = central_capture.one("org-patching:hub:DeployRoleBootstrap")
    assert component.parent == central_capture.one("org-patching:hub:PatchingHub").urn
    assert central_capture.one(STACK_SET).inputs["parameters"]["OrganizationId"] == "o-exampleorg01"
    assert central_capture.outputs["bootstrap"] == {"deployRoleName": naming.CHILD_DEPLOY_ROLE}


def test_disabled_it_is_absent(central_config: CentralConfig) -> None:
    cfg = central_config.model_copy(update={"bootstrap": BootstrapConfig(enabled=False)})
    capture = render_stack(cfg)
    assert capture.of_type(STACK_SET) == [] and capture.of_type("org-patching:hub:DeployRoleBootstrap") == []
    assert "bootstrap" not in capture.outputs
