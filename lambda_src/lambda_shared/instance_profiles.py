"""The sweep's profile check: instances SSM does not manage, why, and the repair the config allows (issue 15.4).

An instance the tag contract patches is useless to Patch Manager until SSM manages it; without an instance
profile (and without Default Host Management) or with a profile whose role lacks the agent's permissions, it
never reaches inventory, so no window patches it and no report sees it. The daily tag sweep already
describes every instance of the account-region, so the check runs there: no resource per account-region.

* Deciding is pure (:func:`decide`): per instance, nothing (SSM manages it), a repair, or a report line.
* Doing (:class:`ProfileDoctor`) reads SSM's managed instances and each app profile's role once per run,
  then makes the repairs the environment allows. Each failure is one ``errors`` entry (account, region,
  action, resource), never the end of the run.

What the repairs may touch, and why an app team cannot turn them into an escalation:

* ``attach``: ``AssociateIamInstanceProfile`` with the patching profile only (the function role may pass
  the patching instance role and nothing else), and only on an instance with NO profile, never replacing one;
* ``attachPolicy``: ``AttachRolePolicy`` of ``AmazonSSMManagedInstanceCore`` only (the role's
  ``iam:PolicyARN`` condition), and only to the role of a profile that an unmanaged, contract-patched instance
  already uses, whose trust policy lets EC2 assume it, and that is not one of org-patching's own roles (an
  explicit Deny in the function role as well). The agent's permissions are all it can add.

Environment variables (set by the program from ``patching.instanceProfiles``):

``PROFILE_CHECK``
    ``true`` (default) to run the check in every sweep; ``false`` to skip it.
``PATCHING_INSTANCE_PROFILE``
    the profile attached to unmanaged instances without one; empty: report them only.
``APP_PROFILES``
    ``report`` (default) or ``attachPolicy``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import unquote

from .clients import client
from .tagging import AWS_CALL_ERRORS, error_entry, tag_map

#: The AWS managed policy the SSM Agent needs (AWS Systems Manager User Guide, "Configure instance permissions
#: required for Systems Manager"); the only policy ``attachPolicy`` may attach.
SSM_CORE_POLICY = "AmazonSSMManagedInstanceCore"
#: org-patching's own roles are never changed by the check (the function role denies it too).
OWN_ROLE_PREFIX = "org-patching-"
#: AssociateIamInstanceProfile accepts a running or stopped instance (EC2 API reference).
ASSOCIABLE_STATES = ("running", "stopped")

AppProfiles = Literal["report", "attachPolicy"]


@dataclass(frozen=True)
class Settings:
    """What the environment allows this run to do."""

    check: bool = True
    patching_profile: str = ""
    app_profiles: AppProfiles = "report"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        values = os.environ if env is None else env
        app = values.get("APP_PROFILES", "report").strip()
        return cls(
            check=values.get("PROFILE_CHECK", "true").strip().lower() not in ("0", "false", "no"),
            patching_profile=values.get("PATCHING_INSTANCE_PROFILE", "").strip(),
            app_profiles="attachPolicy" if app == "attachPolicy" else "report",
        )


@dataclass(frozen=True)
class RoleFacts:
    """What the check needs to know about an app profile's role."""

    name: str
    has_core_policy: bool
    trusts_ec2: bool

    @property
    def ours(self) -> bool:
        return self.name.startswith(OWN_ROLE_PREFIX)


@dataclass(frozen=True)
class Verdict:
    """One unmanaged instance: why, and the repair to make (``None``: report only)."""

    instance_id: str
    reason: str
    repair: Literal["attach", "attachPolicy"] | None = None
    role: str | None = None


def profile_name(instance: Mapping[str, Any]) -> str | None:
    """The name of the instance's profile (from its ARN, which DescribeInstances returns), or ``None``."""
    arn = (instance.get("IamInstanceProfile") or {}).get("Arn")
    return str(arn).rsplit("/", 1)[-1] if arn else None


def decide(
    instance: Mapping[str, Any],
    managed: frozenset[str],
    settings: Settings,
    role: RoleFacts | None,
) -> Verdict | None:
    """Nothing for a managed instance; otherwise why it is not managed and the repair the settings allow."""
    instance_id = str(instance["InstanceId"])
    if instance_id in managed:
        return None
    profile = profile_name(instance)
    state = (instance.get("State") or {}).get("Name")
    if profile is None:
        if settings.patching_profile and state in ASSOCIABLE_STATES:
            return Verdict(instance_id, f"no instance profile ({settings.patching_profile} attached)", "attach")
        return Verdict(instance_id, "no instance profile")
    if profile == settings.patching_profile:
        return Verdict(instance_id, f"{profile} attached, SSM Agent not reporting (agent missing or no route to SSM)")
    if role is None:
        return Verdict(instance_id, f"instance profile {profile} has no role")
    if role.has_core_policy:
        return Verdict(instance_id, f"instance profile {profile} has {SSM_CORE_POLICY}, SSM Agent not reporting")
    lacks = f"instance profile {profile} (role {role.name}) lacks {SSM_CORE_POLICY}"
    if settings.app_profiles != "attachPolicy":
        return Verdict(instance_id, lacks)
    if role.ours or not role.trusts_ec2:
        why = "an org-patching role" if role.ours else "its trust policy does not let EC2 assume it"
        return Verdict(instance_id, f"{lacks}; not changed: {why}")
    return Verdict(instance_id, f"{lacks} ({SSM_CORE_POLICY} attached)", "attachPolicy", role.name)


def _trusts_ec2(document: Any) -> bool:
    parsed = json.loads(unquote(document)) if isinstance(document, str) else document
    statements = (parsed or {}).get("Statement", [])
    for statement in [statements] if isinstance(statements, dict) else statements:
        services = (statement.get("Principal") or {}).get("Service", [])
        services = [services] if isinstance(services, str) else services
        if statement.get("Effect") == "Allow" and "ec2.amazonaws.com" in services:
            return True
    return False


@dataclass
class Findings:
    """The check's outcome for one account-region."""

    #: One object per unmanaged instance, in ``patchctl report --unmanaged`` format.
    unmanaged: list[dict[str, Any]] = field(default_factory=list)
    #: instance id -> profile attached; role name -> instance ids whose profile got the policy.
    attached: dict[str, str] = field(default_factory=dict)
    policy_attached: dict[str, list[str]] = field(default_factory=dict)
    errors: list[dict[str, Any]] = field(default_factory=list)


class ProfileDoctor:
    """Reads what :func:`decide` needs and makes the repairs, in one account-region."""

    def __init__(self, ec2: Any, ssm: Any, account: str, region: str, settings: Settings) -> None:
        self.ec2, self.ssm = ec2, ssm
        self.iam = client("iam", region)
        self.account, self.region, self.settings = account, region, settings
        self._roles: dict[str, RoleFacts | None] = {}

    def managed(self) -> frozenset[str]:
        """The EC2 instances SSM manages here (DescribeInstanceInformation, paged)."""
        found: set[str] = set()
        for page in self.ssm.get_paginator("describe_instance_information").paginate():
            found.update(str(item["InstanceId"]) for item in page.get("InstanceInformationList", []))
        return frozenset(found)

    def role_of(self, profile: str) -> RoleFacts | None:
        """The first role of an instance profile (a profile holds at most one), read once per run."""
        if profile not in self._roles:
            roles = self.iam.get_instance_profile(InstanceProfileName=profile)["InstanceProfile"].get("Roles", [])
            facts = None
            if roles:
                name = str(roles[0]["RoleName"])
                attached: set[str] = set()
                for page in self.iam.get_paginator("list_attached_role_policies").paginate(RoleName=name):
                    attached.update(str(p["PolicyName"]) for p in page.get("AttachedPolicies", []))
                facts = RoleFacts(
                    name, SSM_CORE_POLICY in attached, _trusts_ec2(roles[0].get("AssumeRolePolicyDocument"))
                )
            self._roles[profile] = facts
        return self._roles[profile]

    def examine(self, instances: Iterable[Mapping[str, Any]], dry_run: bool = False) -> Findings:
        """Check ``instances`` (the ones the tag contract patches) and make the allowed repairs."""
        findings = Findings()
        try:
            managed = self.managed()
        except AWS_CALL_ERRORS as error:
            findings.errors.append(error_entry(self.account, self.region, "ssm:DescribeInstanceInformation", [], error))
            return findings
        for instance in instances:
            profile = profile_name(instance)
            role = None
            if str(instance["InstanceId"]) not in managed and profile and profile != self.settings.patching_profile:
                try:
                    role = self.role_of(profile)
                except AWS_CALL_ERRORS as error:
                    findings.errors.append(
                        error_entry(
                            self.account, self.region, "iam:GetInstanceProfile", [instance["InstanceId"]], error
                        )
                    )
                    continue
            verdict = decide(instance, managed, self.settings, role)
            if verdict is None:
                continue
            if verdict.repair and not dry_run:
                self._repair(verdict, findings)
            elif verdict.repair:
                self._record(verdict, findings)
            findings.unmanaged.append(
                {
                    "accountid": self.account,
                    "region": self.region,
                    "resourceid": verdict.instance_id,
                    "reason": verdict.reason,
                    "tags": tag_map(instance.get("Tags")),
                }
            )
        return findings

    def _record(self, verdict: Verdict, findings: Findings) -> None:
        if verdict.repair == "attach":
            findings.attached[verdict.instance_id] = self.settings.patching_profile
        elif verdict.role:
            findings.policy_attached.setdefault(verdict.role, []).append(verdict.instance_id)

    def _repair(self, verdict: Verdict, findings: Findings) -> None:
        try:
            if verdict.repair == "attach":
                self.ec2.associate_iam_instance_profile(
                    IamInstanceProfile={"Name": self.settings.patching_profile}, InstanceId=verdict.instance_id
                )
            elif verdict.role and verdict.role not in findings.policy_attached:
                partition = self.iam.meta.partition
                self.iam.attach_role_policy(
                    RoleName=verdict.role, PolicyArn=f"arn:{partition}:iam::aws:policy/{SSM_CORE_POLICY}"
                )
        except AWS_CALL_ERRORS as error:
            action = "ec2:AssociateIamInstanceProfile" if verdict.repair == "attach" else "iam:AttachRolePolicy"
            findings.errors.append(error_entry(self.account, self.region, action, [verdict.instance_id], error))
            return
        self._record(verdict, findings)
