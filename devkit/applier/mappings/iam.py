"""IAM (global): roles with their inline policies, role policies, attachments, instance profiles."""

from __future__ import annotations

import hashlib
from typing import Any

import boto3

from ..errors import ServiceRuleViolation
from ..registry import Created, Target, mapping, missing_is_none
from ..rules import role_boundary_must_exist


def _read_role(session: boto3.session.Session, name: str, _: dict[str, Any]) -> Any:
    return missing_is_none(lambda: session.client("iam").get_role(RoleName=name)["Role"])


@mapping("aws:iam/role:Role", _read_role, is_global=True)
def role(target: Target) -> Created:
    name = target.autoname()
    iam = target.client("iam")
    extra: dict[str, Any] = {}
    for source, dest in (
        ("description", "Description"),
        ("path", "Path"),
        ("permissionsBoundary", "PermissionsBoundary"),
    ):
        if target.inputs.get(source):
            extra[dest] = target.inputs[source]
    if extra.get("PermissionsBoundary"):
        boundary = str(extra["PermissionsBoundary"])
        exists = missing_is_none(lambda: iam.get_policy(PolicyArn=boundary)) is not None
        refused = role_boundary_must_exist(boundary, exists)
        if refused:
            raise ServiceRuleViolation(target.type, target.urn, refused)
    if target.inputs.get("maxSessionDuration"):
        extra["MaxSessionDuration"] = int(target.inputs["maxSessionDuration"])
    if target.tags:
        extra["Tags"] = target.tag_list()
    created = iam.create_role(RoleName=name, AssumeRolePolicyDocument=str(target.inputs["assumeRolePolicy"]), **extra)
    # pulumi-aws puts each inline policy and attaches each managed policy after CreateRole.
    for inline in target.inputs.get("inlinePolicies") or []:
        if inline.get("name") and inline.get("policy"):
            iam.put_role_policy(RoleName=name, PolicyName=inline["name"], PolicyDocument=inline["policy"])
    for policy_arn in target.inputs.get("managedPolicyArns") or []:
        iam.attach_role_policy(RoleName=name, PolicyArn=policy_arn)
    info = created["Role"]
    return Created(name, {"name": name, "arn": info["Arn"], "uniqueId": info["RoleId"]})


def _read_role_policy(session: boto3.session.Session, physical_id: str, _: dict[str, Any]) -> Any:
    role_name, _sep, policy_name = physical_id.partition(":")
    client = session.client("iam")
    return missing_is_none(lambda: client.get_role_policy(RoleName=role_name, PolicyName=policy_name))


@mapping("aws:iam/rolePolicy:RolePolicy", _read_role_policy, is_global=True)
def role_policy(target: Target) -> Created:
    role_name = str(target.inputs["role"])
    name = target.autoname()
    target.client("iam").put_role_policy(
        RoleName=role_name, PolicyName=name, PolicyDocument=str(target.inputs["policy"])
    )
    return Created(f"{role_name}:{name}", {"name": name})


def _read_attachment(session: boto3.session.Session, _: str, outputs: dict[str, Any]) -> Any:
    client = session.client("iam")
    found = missing_is_none(lambda: client.list_attached_role_policies(RoleName=str(outputs["role"])))
    arns = [p["PolicyArn"] for p in (found or {}).get("AttachedPolicies", [])]
    return outputs["policyArn"] if outputs["policyArn"] in arns else None


@mapping("aws:iam/rolePolicyAttachment:RolePolicyAttachment", _read_attachment, is_global=True)
def role_policy_attachment(target: Target) -> Created:
    role_name, policy_arn = str(target.inputs["role"]), str(target.inputs["policyArn"])
    target.client("iam").attach_role_policy(RoleName=role_name, PolicyArn=policy_arn)
    # pulumi-aws's id: the role name and a unique suffix (the attachment has no AWS id).
    return Created(f"{role_name}-{hashlib.sha256(target.urn.encode()).hexdigest()[:26]}")


def _read_profile(session: boto3.session.Session, name: str, _: dict[str, Any]) -> Any:
    client = session.client("iam")
    return missing_is_none(lambda: client.get_instance_profile(InstanceProfileName=name)["InstanceProfile"])


@mapping("aws:iam/instanceProfile:InstanceProfile", _read_profile, is_global=True)
def instance_profile(target: Target) -> Created:
    name = target.autoname()
    iam = target.client("iam")
    extra: dict[str, Any] = {"Path": target.inputs["path"]} if target.inputs.get("path") else {}
    if target.tags:
        extra["Tags"] = target.tag_list()
    created = iam.create_instance_profile(InstanceProfileName=name, **extra)["InstanceProfile"]
    if target.inputs.get("role"):
        iam.add_role_to_instance_profile(InstanceProfileName=name, RoleName=str(target.inputs["role"]))
    return Created(name, {"name": name, "arn": created["Arn"], "uniqueId": created["InstanceProfileId"]})
