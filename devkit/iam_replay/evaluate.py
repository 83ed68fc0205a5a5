"""Judge one recorded call against its role's policies, as IAM's evaluation logic would.

IAM User Guide, "Policy evaluation logic": an explicit Deny in any applicable policy wins; else
the identity policies must Allow (and a permissions boundary, when set, must Allow too); across
accounts the resource's policy must Allow as well. The replay applies that to the identity
policies of the role as the emulator holds them (deployed from the rendered program by the
applier), to S3 bucket policies (their Deny always, their Allow when the bucket is in another
account) and to KMS key policies for the key S3 uses on the caller's behalf. Statement matching
(wildcards, policy variables, condition operators) is :mod:`.policy_logic`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from devkit.iam_replay.context import context_for
from devkit.iam_replay.policy_logic import any_statement_matches
from devkit.iam_replay.resources import (
    NO_PERMISSION_NEEDED,
    Authorised,
    Unmapped,
    action_of,
    is_known_action,
    resources_of,
)


@dataclass(frozen=True)
class Denial:
    """A call the role would not be allowed to make in AWS."""

    role: str
    action: str
    resource: str
    reason: str

    def __str__(self) -> str:
        return f"{self.role} may not {self.action} on {self.resource} ({self.reason})"


@dataclass
class Verdict:
    """What the replay concluded about one call."""

    role: str
    action: str
    denials: list[Denial] = field(default_factory=list)
    unmapped: list[Unmapped] = field(default_factory=list)

    @property
    def allowed(self) -> bool:
        return not self.denials and not self.unmapped


def _documents(texts: Iterable[str | Mapping[str, Any]]) -> list[dict[str, Any]]:
    docs = []
    for text in texts:
        doc = json.loads(text) if isinstance(text, str) else dict(text)
        doc["Statement"] = doc["Statement"] if isinstance(doc["Statement"], list) else [doc["Statement"]]
        docs.append(doc)
    return docs


@dataclass(frozen=True)
class RolePolicies:
    """A role's identity policies and permissions boundary, read from the emulator's IAM.

    ``missing_boundary``: the ARN the role names as its boundary when the emulator holds no such policy. AWS keeps a
    policy in use as a boundary from being deleted (DeletePolicy: DeleteConflict while it is attached), so such a
    role means the account was not bootstrapped; the replay then allows it nothing rather than everything."""

    identity: list[dict[str, Any]]
    boundary: dict[str, Any] | None
    missing_boundary: str | None = None

    @classmethod
    def of(cls, role_arn: str) -> RolePolicies | None:
        from moto.iam.models import iam_backends

        account = role_arn.split(":")[4]
        name = role_arn.rsplit("/", 1)[-1]
        backend = iam_backends[account]["aws"]
        role = next((r for r in backend.roles.values() if r.name == name), None)
        if role is None:
            return None
        texts: list[str] = list(role.policies.values())
        for managed in role.managed_policies.values():
            texts += [v.document for v in managed.versions if v.is_default]
        boundary = None
        if role.permissions_boundary_arn:
            policy = backend.managed_policies.get(role.permissions_boundary_arn)
            if policy is None:
                return cls(_documents(texts), None, role.permissions_boundary_arn)
            boundary = _documents([v.document for v in policy.versions if v.is_default])[0]
        return cls(_documents(texts), boundary)


def identity_denial(policies: RolePolicies, action: str, resource: str, ctx: Mapping[str, Any]) -> str | None:
    """Why the role's identity policies and permissions boundary refuse ``action`` on ``resource``, or ``None``.

    IAM User Guide, "Policy evaluation logic" and "Permissions boundaries for IAM entities": an explicit Deny in
    either wins; else the identity policies must Allow and, when the role has a boundary, the boundary must Allow
    too (the effective permissions are the intersection)."""
    if policies.missing_boundary:
        return f"the role's permissions boundary {policies.missing_boundary} does not exist"
    if _matches(policies.identity, "Deny", action, resource, ctx):
        return "explicit Deny in the role's policies"
    if policies.boundary is not None and _matches([policies.boundary], "Deny", action, resource, ctx):
        return "explicit Deny in the role's permissions boundary"
    if not _matches(policies.identity, "Allow", action, resource, ctx):
        return "no statement of the role's policies allows it"
    if policies.boundary is not None and not _matches([policies.boundary], "Allow", action, resource, ctx):
        return "outside the role's permissions boundary"
    return None


def _matches(
    docs: Iterable[Mapping[str, Any]], effect: str, action: str, resource: str, ctx: Mapping[str, Any]
) -> bool:
    return any_statement_matches(docs, effect, action, resource, ctx)


def _principal_applies(statement: Mapping[str, Any], role_arn: str, account: str) -> bool:
    principal = statement.get("Principal")
    if principal == "*":
        return True
    if not isinstance(principal, Mapping):
        return False
    aws = principal.get("AWS", [])
    names = [aws] if isinstance(aws, str) else list(aws)
    return any(n in ("*", role_arn, account, f"arn:aws:iam::{account}:root") for n in names)


def _resource_statements(policy: Mapping[str, Any], role_arn: str, account: str) -> list[dict[str, Any]]:
    statements = policy["Statement"] if isinstance(policy["Statement"], list) else [policy["Statement"]]
    return [dict(s) for s in statements if _principal_applies(s, role_arn, account)]


def _bucket(name: str) -> Any:
    from moto.s3.models import s3_backends

    location = s3_backends.bucket_accounts.get(name)
    if location is None:
        return None
    partition, owner = location
    return s3_backends[owner][partition].buckets.get(name)


def _key_policy(key_arn: str) -> tuple[str, dict[str, Any]] | None:
    from moto.kms.models import kms_backends

    parts = key_arn.split(":")
    if len(parts) < 6:
        return None
    region, owner, key_id = parts[3], parts[4], parts[5].split("/", 1)[-1]
    backend = kms_backends[owner][region]
    key = backend.keys.get(key_id)
    if key is None:
        return None
    return owner, json.loads(key.policy)


class Judge:
    """Evaluates calls of one principal; see :func:`judge`."""

    def __init__(self, role_arn: str, account: str, region: str, policies: RolePolicies) -> None:
        self.role_arn = role_arn
        self.account = account
        self.region = region
        self.policies = policies

    def _identity_denial(self, action: str, target: Authorised, ctx: Mapping[str, Any]) -> str | None:
        return identity_denial(self.policies, action, target.arn, ctx)

    def _resource_denial(
        self, action: str, target: Authorised, policy: Mapping[str, Any] | None, owner: str, ctx: Mapping[str, Any]
    ) -> str | None:
        statements = _resource_statements(policy, self.role_arn, self.account) if policy else []
        wrapped = [{"Statement": statements}] if statements else []
        if wrapped and _matches(wrapped, "Deny", action, target.arn, ctx):
            return "explicit Deny in the resource's policy"
        if owner != self.account and not (wrapped and _matches(wrapped, "Allow", action, target.arn, ctx)):
            return f"the resource's policy (account {owner}) does not allow this account"
        return None

    def check(self, service: str, operation: str, params: Mapping[str, Any]) -> Verdict:
        action = action_of(service, operation)
        verdict = Verdict(self.role_arn, action)
        if (service, operation) in NO_PERMISSION_NEEDED:
            return verdict
        if not is_known_action(action):
            verdict.unmapped.append(Unmapped(action, "(no such IAM action)"))
            return verdict
        targets, verdict.unmapped = resources_of(action, params, self.account, self.region)
        for target in targets:
            ctx = context_for(
                principal_arn=self.role_arn,
                account=self.account,
                region=self.region,
                service=service,
                operation=operation,
                params=params,
                resource_arn=target.arn,
                resource_type=target.resource_type,
            )
            self._judge_one(verdict, action, target, ctx)
            if service == "s3" and target.resource_type in ("bucket", "object"):
                self._judge_s3(verdict, action, target, ctx)
        self._judge_passed_roles(verdict, service, operation, params)
        if service == "ec2" and params.get("TagSpecifications"):
            self._judge_tag_on_create(verdict, operation, params)
        if service == "autoscaling" and operation == "StartInstanceRefresh":
            self._judge_refresh_template(verdict, params)
        return verdict

    def _judge_refresh_template(self, verdict: Verdict, params: Mapping[str, Any]) -> None:
        """A refresh whose DesiredConfiguration names a launch template is authorised as
        ``ec2:RunInstances`` on the template and ``iam:PassRole`` of its profile's role (Amazon EC2
        Auto Scaling User Guide, "Permissions to use launch templates": the same checks as
        creating or updating a group with that template)."""
        spec = ((params.get("DesiredConfiguration") or {}).get("LaunchTemplate")) or {}
        template_id = spec.get("LaunchTemplateId")
        if not template_id:
            return
        arn = f"arn:aws:ec2:{self.region}:{self.account}:launch-template/{template_id}"
        target = Authorised(arn, "launch-template")
        ctx = context_for(
            principal_arn=self.role_arn,
            account=self.account,
            region=self.region,
            service="ec2",
            operation="RunInstances",
            params={},
            resource_arn=arn,
            resource_type="launch-template",
            extra={"ec2:LaunchTemplate": arn},
        )
        self._judge_one(verdict, "ec2:RunInstances", target, ctx)
        profile = _template_profile(self.account, self.region, template_id, spec.get("Version"))
        role = _profile_role(profile, self.account) if profile else None
        if role:
            reason = self._identity_denial(
                "iam:PassRole",
                Authorised(role, "role"),
                {"aws:PrincipalAccount": self.account, "iam:PassedToService": "ec2.amazonaws.com"},
            )
            if reason:
                verdict.denials.append(Denial(self.role_arn, "iam:PassRole", role, reason))

    def _judge_tag_on_create(self, verdict: Verdict, operation: str, params: Mapping[str, Any]) -> None:
        """Tags asked for at creation are authorised as ``ec2:CreateTags`` on the new resource, with
        ``ec2:CreateAction`` naming the call (EC2 User Guide, "Grant permission to tag Amazon EC2
        resources during creation")."""
        for spec in params["TagSpecifications"]:
            resource_type = spec.get("ResourceType", "")
            target = Authorised(f"arn:aws:ec2:{self.region}:{self.account}:{resource_type}/*", resource_type)
            if resource_type in ("image", "snapshot"):
                target = Authorised(f"arn:aws:ec2:{self.region}::{resource_type}/*", resource_type)
            ctx = context_for(
                principal_arn=self.role_arn,
                account=self.account,
                region=self.region,
                service="ec2",
                operation=operation,
                params={"TagSpecifications": [spec]},
                resource_arn=target.arn,
                resource_type=resource_type,
                extra={"ec2:CreateAction": operation},
            )
            self._judge_one(verdict, "ec2:CreateTags", target, ctx)

    def _judge_one(self, verdict: Verdict, action: str, target: Authorised, ctx: Mapping[str, Any]) -> None:
        reason = self._identity_denial(action, target, ctx)
        if reason:
            verdict.denials.append(Denial(self.role_arn, action, target.arn, reason))

    def _judge_s3(self, verdict: Verdict, action: str, target: Authorised, ctx: Mapping[str, Any]) -> None:
        name = target.arn.split(":::", 1)[-1].split("/", 1)[0]
        bucket = _bucket(name)
        if bucket is None:
            return
        policy = json.loads(bucket.policy) if bucket.policy else None
        reason = self._resource_denial(action, target, policy, bucket.account_id, ctx)
        if reason:
            verdict.denials.append(Denial(self.role_arn, action, target.arn, reason))
        # S3 uses the bucket's default KMS key with the caller's permissions (S3 User Guide,
        # "Using server-side encryption with AWS KMS keys": the requester needs kms:GenerateDataKey
        # to upload and kms:Decrypt to download).
        kms_action = {"s3:PutObject": "kms:GenerateDataKey", "s3:GetObject": "kms:Decrypt"}.get(action)
        rule = ((bucket.encryption or {}).get("Rule") or {}).get("ApplyServerSideEncryptionByDefault") or {}
        key_arn = rule.get("KMSMasterKeyID")
        if action == "s3:PutObject" and ctx.get("s3:x-amz-server-side-encryption-aws-kms-key-id"):
            # A key named in the request replaces the bucket's default (S3 API reference, PutObject SSEKMSKeyId).
            rule, key_arn = {"SSEAlgorithm": "aws:kms"}, str(ctx["s3:x-amz-server-side-encryption-aws-kms-key-id"])
        if kms_action and rule.get("SSEAlgorithm") == "aws:kms" and key_arn:
            located = _key_policy(key_arn)
            if located is None:
                return
            owner, key_policy = located
            kms_ctx = {
                **ctx,
                "kms:ViaService": f"s3.{key_arn.split(':')[3]}.amazonaws.com",
                "kms:CallerAccount": self.account,
                "kms:EncryptionContext:aws:s3:arn": f"arn:aws:s3:::{name}",
            }
            key_target = Authorised(key_arn, "key")
            reason = self._identity_denial(kms_action, key_target, kms_ctx) if owner != self.account else None
            reason = reason or self._key_denial(kms_action, key_target, key_policy, owner, kms_ctx)
            if reason:
                verdict.denials.append(Denial(self.role_arn, kms_action, key_arn, reason))

    def _key_denial(
        self, action: str, target: Authorised, policy: Mapping[str, Any], owner: str, ctx: Mapping[str, Any]
    ) -> str | None:
        """A key policy must allow the caller (its own account's root delegates to IAM policies)."""
        statements = _resource_statements(policy, self.role_arn, self.account)
        wrapped = [{"Statement": statements}] if statements else []
        if wrapped and _matches(wrapped, "Deny", action, target.arn, ctx):
            return "explicit Deny in the key policy"
        if not (wrapped and _matches(wrapped, "Allow", action, target.arn, ctx)):
            return f"the key policy (account {owner}) does not allow this principal"
        if owner == self.account:
            return self._identity_denial(action, target, ctx)
        return None

    def _judge_passed_roles(self, verdict: Verdict, service: str, operation: str, params: Mapping[str, Any]) -> None:
        for role_arn, passed_to in passed_roles(service, operation, params, self.account):
            target = Authorised(role_arn, "role")
            ctx = {
                "aws:PrincipalAccount": self.account,
                "aws:PrincipalArn": self.role_arn,
                "iam:PassedToService": passed_to,
            }
            reason = self._identity_denial("iam:PassRole", target, ctx)
            if reason:
                verdict.denials.append(Denial(self.role_arn, "iam:PassRole", role_arn, reason))


def passed_roles(service: str, operation: str, params: Mapping[str, Any], account: str) -> list[tuple[str, str]]:
    """Roles a call hands to a service, which AWS authorises as ``iam:PassRole`` (IAM User Guide,
    "Granting a user permissions to pass a role to an AWS service")."""
    found: list[tuple[str, str]] = []
    if service == "ssm" and operation == "StartAutomationExecution":
        for value in (params.get("Parameters") or {}).get("AutomationAssumeRole", []):
            found.append((value, "ssm.amazonaws.com"))
    if (
        service == "ssm"
        and operation in ("SendCommand", "RegisterTaskWithMaintenanceWindow")
        and params.get("ServiceRoleArn")
    ):
        found.append((params["ServiceRoleArn"], "ssm.amazonaws.com"))
    # AssociateIamInstanceProfile passes the profile's role to EC2 as RunInstances does (Amazon EC2 User Guide,
    # "Permissions to attach an IAM role to an instance": ec2:AssociateIamInstanceProfile and iam:PassRole).
    if service == "ec2" and operation in ("RunInstances", "AssociateIamInstanceProfile"):
        profile = (params.get("IamInstanceProfile") or {}).get("Arn") or (params.get("IamInstanceProfile") or {}).get(
            "Name"
        )
        if profile:
            role = _profile_role(profile, account)
            if role:
                found.append((role, "ec2.amazonaws.com"))
    return found


def _template_profile(account: str, region: str, template_id: str, version: Any) -> str | None:
    """The instance profile (name or ARN) a launch template version names, from the emulator."""
    from moto.ec2.models import ec2_backends

    template = ec2_backends[account][region].launch_templates.get(template_id)
    if template is None:
        return None
    chosen = template.default_version() if version in (None, "$Default") else template.get_version(version)
    profile = (chosen.data or {}).get("IamInstanceProfile") or {}
    return str(profile.get("Arn") or profile.get("Name") or "") or None


def _profile_role(profile: str, account: str) -> str | None:
    from moto.iam.models import iam_backends

    name = profile.rsplit("/", 1)[-1]
    owner = profile.split(":")[4] if profile.startswith("arn:") else account
    backend = iam_backends[owner]["aws"]
    found = next((p for p in backend.instance_profiles.values() if p.name == name), None)
    return found.roles[0].arn if found and found.roles else None


class RoleNotDeployed(LookupError):
    """The runtime acted as a role the emulator's IAM does not hold (the program never deployed it)."""


def judge(role_arn: str, account: str, region: str, service: str, operation: str, params: Mapping[str, Any]) -> Verdict:
    """The verdict on one call of ``role_arn``; ``allowed`` when no policy would refuse it.

    A role the emulator does not hold yields an empty verdict with ``role`` only: the caller
    decides whether that is an error (see :class:`devkit.iam_replay.recorder.Recorder`).
    """
    policies = RolePolicies.of(role_arn)
    if policies is None:
        raise RoleNotDeployed(f"role {role_arn} is not in the emulator's IAM")
    return Judge(role_arn, account, region, policies).check(service, operation, params)
