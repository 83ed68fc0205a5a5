"""Service-managed StackSets in the emulator: targets reach nested OUs, and only a stack set with
auto-deployment follows an account that joins a target OU later (CloudFormation User Guide)."""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from tests import aws

TEMPLATE = """
Resources:
  Marker:
    Type: AWS::IAM::Role
    Properties:
      RoleName: !Sub "${Name}"
      AssumeRolePolicyDocument:
        Version: "2012-10-17"
        Statement: [{Effect: Allow, Principal: {Service: ec2.amazonaws.com}, Action: sts:AssumeRole}]
Parameters:
  Name: {Type: String}
"""


def has_role(account: str, name: str) -> bool:
    iam = aws.session(account, "us-east-1").client("iam")
    return any(r["RoleName"] == name for r in iam.list_roles()["Roles"])


@pytest.fixture
def org(moto_aws: None) -> dict[str, Any]:
    client = boto3.client("organizations", region_name="us-east-1")
    client.create_organization(FeatureSet="ALL")
    root = client.list_roots()["Roots"][0]["Id"]
    top = client.create_organizational_unit(ParentId=root, Name="top")["OrganizationalUnit"]["Id"]
    nested = client.create_organizational_unit(ParentId=top, Name="nested")["OrganizationalUnit"]["Id"]
    return {"client": client, "root": root, "top": top, "nested": nested}


def join(org: dict[str, Any], name: str, parent: str) -> str:
    status = org["client"].create_account(AccountName=name, Email=f"{name}@example.com")["CreateAccountStatus"]
    org["client"].move_account(AccountId=status["AccountId"], SourceParentId=org["root"], DestinationParentId=parent)
    return str(status["AccountId"])


@pytest.mark.parametrize("auto", [True, False])
def test_nested_ous_now_and_joiners_only_with_auto_deployment(org: dict[str, Any], auto: bool) -> None:
    deep = join(org, "deep", org["nested"])
    cloudformation = boto3.client("cloudformation", region_name="us-east-1")
    cloudformation.create_stack_set(
        StackSetName="marker",
        TemplateBody=TEMPLATE,
        PermissionModel="SERVICE_MANAGED",
        AutoDeployment={"Enabled": auto, "RetainStacksOnAccountRemoval": False},
        Parameters=[{"ParameterKey": "Name", "ParameterValue": "marker-role"}],
        Capabilities=["CAPABILITY_NAMED_IAM"],
    )
    cloudformation.create_stack_instances(
        StackSetName="marker", DeploymentTargets={"OrganizationalUnitIds": [org["top"]]}, Regions=["us-east-1"]
    )
    assert has_role(deep, "marker-role")  # two levels below the target
    later = join(org, "later", org["nested"])
    outside = join(org, "outside", org["root"])
    assert has_role(later, "marker-role") is auto
    assert not has_role(outside, "marker-role")
