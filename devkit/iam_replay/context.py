"""The request context a policy's conditions read, taken from the emulator's state at call time.

AWS evaluates conditions on keys it fills per request (IAM User Guide, "AWS global condition
context keys"; each service's "condition keys" table in the Service Authorization Reference).
The replay fills the ones the program's policies use: the principal (account, ARN, organization),
the resource's tags as they are *before* the call (``aws:ResourceTag/*`` and the service-prefixed
forms EC2, Auto Scaling and SSM define), the tags a call asks for (``aws:RequestTag/*``,
``aws:TagKeys``), the region, TLS, and ``iam:PassedToService``. A key the replay does not fill is
absent, so a condition on it fails closed (``StringEquals`` on a missing key does not match), as
it would in AWS when the key is not present.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

#: Service-specific spellings of "the resource's tag" (Service Authorization Reference).
_RESOURCE_TAG_KEYS: Mapping[str, tuple[str, ...]] = {
    "ec2": ("aws:ResourceTag/{}", "ec2:ResourceTag/{}"),
    "autoscaling": ("aws:ResourceTag/{}", "autoscaling:ResourceTag/{}"),
    "ssm": ("aws:ResourceTag/{}", "ssm:resourceTag/{}"),
}


def organization_of(account: str) -> str | None:
    """The organization id moto's Organizations keeps for ``account`` (management or member)."""
    from moto.organizations.models import organizations_backends

    management = organizations_backends.master_accounts.get(account, (account, "aws"))[0]
    backend = organizations_backends[management]["aws"]
    return backend.org.id if backend.org else None


def _ec2_tags(account: str, region: str, resource_id: str) -> dict[str, str]:
    from moto.ec2.models import ec2_backends

    return dict(ec2_backends[account][region].tags.get(resource_id, {}))


def _group_tags(account: str, region: str, name: str) -> dict[str, str]:
    from moto.autoscaling.models import autoscaling_backends

    group = autoscaling_backends[account][region].autoscaling_groups.get(name)
    return {tag["Key"]: tag.get("Value", "") for tag in (group.tags if group else [])}


def _ssm_tags(account: str, region: str, kind: str, resource_id: str) -> dict[str, str]:
    from moto.ssm.models import ssm_backends

    by_kind: dict[str, dict[str, str]] = ssm_backends[account][region]._resource_tags.get(kind, {})
    return dict(by_kind.get(resource_id, {}))


def resource_tags(arn: str, resource_type: str) -> dict[str, str]:
    """The tags the emulator holds for the resource at ``arn`` (empty when it has none or is new)."""
    if arn == "*" or arn.endswith("/*"):
        return {}
    parts = arn.split(":", 5)
    region, account, rest = parts[3], parts[4], parts[5]
    identifier = rest.split("/", 1)[-1]
    if resource_type in ("instance", "launch-template", "image", "snapshot", "volume") and parts[2] == "ec2":
        return _ec2_tags(account, region, identifier)
    if resource_type == "autoScalingGroup":
        return _group_tags(account, region, rest.split("autoScalingGroupName/", 1)[-1])
    if resource_type == "document":
        return _ssm_tags(account, region, "Document", identifier)
    if resource_type == "maintenancewindow":
        return _ssm_tags(account, region, "MaintenanceWindow", identifier)
    return {}


def request_tags(service: str, operation: str, params: Mapping[str, Any], resource_type: str) -> dict[str, str]:
    """The tags a call asks to put on the resource of ``resource_type`` it names or creates."""
    tags: dict[str, str] = {}
    for spec in params.get("TagSpecifications") or []:
        if spec.get("ResourceType") in (resource_type, None):
            tags.update({t["Key"]: t.get("Value", "") for t in spec.get("Tags", [])})
    if operation in ("CreateTags", "AddTagsToResource", "StartAutomationExecution", "CreateOrUpdateTags"):
        tags.update({t["Key"]: t.get("Value", "") for t in params.get("Tags") or [] if "Key" in t})
    if operation == "DeleteTags" and service == "ec2":
        tags.update({t["Key"]: t.get("Value", "") for t in params.get("Tags") or [] if "Key" in t})
    return tags


#: IAM role actions whose iam:PermissionsBoundary is the boundary the request sets, and those whose key is the
#: boundary the role already carries (Service Authorization Reference, IAM: "Filters access if the specified policy
#: is set as the permissions boundary on the IAM entity"; the actions listing the key, as parliament ships it).
_BOUNDARY_IN_REQUEST = frozenset({"CreateRole", "PutRolePermissionsBoundary"})
_BOUNDARY_ON_ROLE = frozenset(
    {"PutRolePolicy", "AttachRolePolicy", "DeleteRolePolicy", "DetachRolePolicy", "DeleteRolePermissionsBoundary"}
)


def permissions_boundary(account: str, operation: str, params: Mapping[str, Any]) -> str | None:
    """``iam:PermissionsBoundary`` of an IAM role call: the request's boundary, or the named role's as the emulator
    holds it; ``None`` when the key is absent (no boundary, or an action that does not support it)."""
    if operation in _BOUNDARY_IN_REQUEST:
        return str(params["PermissionsBoundary"]) if params.get("PermissionsBoundary") else None
    if operation not in _BOUNDARY_ON_ROLE or not params.get("RoleName"):
        return None
    from moto.iam.models import iam_backends

    backend = iam_backends[account]["aws"]
    role = next((r for r in backend.roles.values() if r.name == params["RoleName"]), None)
    return str(role.permissions_boundary_arn) if role is not None and role.permissions_boundary_arn else None


def context_for(
    *,
    principal_arn: str,
    account: str,
    region: str,
    service: str,
    operation: str,
    params: Mapping[str, Any],
    resource_arn: str,
    resource_type: str,
    extra: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """All condition keys the replay knows for one (call, resource) pair."""
    keys: dict[str, Any] = {
        "aws:PrincipalAccount": account,
        "aws:PrincipalArn": principal_arn,
        "aws:RequestedRegion": region,
        "aws:SecureTransport": "true",
        "aws:PrincipalType": "AssumedRole",
    }
    org = organization_of(account)
    if org:
        keys["aws:PrincipalOrgID"] = org
    for key, value in resource_tags(resource_arn, resource_type).items():
        for form in _RESOURCE_TAG_KEYS.get(service, ("aws:ResourceTag/{}",)):
            keys[form.format(key)] = value
    asked = request_tags(service, operation, params, resource_type)
    for key, value in asked.items():
        keys[f"aws:RequestTag/{key}"] = value
    if asked:
        keys["aws:TagKeys"] = list(asked)
    profile = params.get("IamInstanceProfile") or {}
    if service == "ec2" and (profile.get("Arn") or profile.get("Name")):
        # ec2:InstanceProfile is the profile's ARN (Service Authorization Reference, EC2 condition keys).
        profile_arn = profile.get("Arn") or f"arn:aws:iam::{account}:instance-profile/{profile['Name']}"
        if operation == "AssociateIamInstanceProfile":
            # "the ARN of the instance profile being attached" (same reference, ec2:NewInstanceProfile); the
            # instance has no profile yet, so ec2:InstanceProfile is absent
            keys["ec2:NewInstanceProfile"] = profile_arn
        else:
            keys["ec2:InstanceProfile"] = profile_arn
    boundary = permissions_boundary(account, operation, params) if service == "iam" else None
    if boundary:
        keys["iam:PermissionsBoundary"] = boundary
    if service == "iam" and params.get("PolicyArn"):
        # iam:PolicyARN: "the ARN of an IAM policy" being attached or detached (Service Authorization Reference, IAM).
        keys["iam:PolicyARN"] = str(params["PolicyArn"])
    if service == "s3" and operation in ("PutObject", "CopyObject", "CreateMultipartUpload"):
        # The SSE request headers as S3's condition keys (Service Authorization Reference, Amazon S3 condition
        # keys: s3:x-amz-server-side-encryption, s3:x-amz-server-side-encryption-aws-kms-key-id); absent when the
        # request relies on the bucket's default encryption, as on AWS.
        for param, key in (
            ("ServerSideEncryption", "s3:x-amz-server-side-encryption"),
            ("SSEKMSKeyId", "s3:x-amz-server-side-encryption-aws-kms-key-id"),
        ):
            if params.get(param):
                keys[key] = str(params[param])
    template = params.get("LaunchTemplate") or {}
    if service == "ec2" and template.get("LaunchTemplateId"):
        keys["ec2:LaunchTemplate"] = f"arn:aws:ec2:{region}:{account}:launch-template/{template['LaunchTemplateId']}"
    keys.update(extra or {})
    return keys
