"""SSM's view of patching in one account+region: managed instances, patch states and patches.

moto 5.2 has no notion of a managed instance or of patch states. Added here, with the shapes,
filters, limits and error codes of the SSM API reference:

* ``DescribeInstanceInformation``: the managed instances are the *running* EC2 instances of the
  account+region whose instance profile has a role that EC2 may assume (trust policy: service
  ``ec2.amazonaws.com``, ``sts:AssumeRole``) and that allows ``ssm:UpdateInstanceInformation``,
  the call the SSM agent registers with (SSM User Guide, "Configure instance permissions for
  Systems Manager": AmazonSSMManagedInstanceCore or equivalent). Default Host Management
  Configuration (a service setting moto does not keep) is not emulated. ``PingStatus`` is
  ``Online``. Filters (``InstanceInformationFilterList`` and ``Filters``, incl.
  ``tag:<key>``), ``MaxResults`` 5-50.
* ``DescribeInstancePatchStates`` (``InstanceIds`` <= 50, ``MaxResults`` 10-100),
  ``DescribeInstancePatchStatesForPatchGroup`` (count filters with
  ``Equal|NotEqual|LessThan|GreaterThan``), ``DescribeInstancePatches`` (filters
  ``Classification|KBId|Severity|State``; an instance that is not managed gives
  ``InvalidInstanceId``). Only instances a patch run has reported on have a state, as on AWS.

Compliance items are :class:`~.compliance.ComplianceBackend`'s; what a patch run reports is
written by :mod:`.patch_runs`.
"""

from __future__ import annotations

import datetime
import fnmatch
import json
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote

from moto.ec2.models import ec2_backends
from moto.ssm.models import ssm_backends
from moto.utilities.paginator import paginate

from devkit.moto_extensions.core import attached
from devkit.moto_extensions.ssm.exceptions import (
    InvalidFilter,
    InvalidFilterKey,
    InvalidInstanceId,
    InvalidInstanceInformationFilterValue,
    ValidationException,
)
from devkit.moto_extensions.ssm.models.compliance import SEVERITIES, ComplianceBackend
from devkit.moto_extensions.ssm.utils import PAGINATION_MODEL, check_max_results

__all__ = ["COUNT_KEYS", "PATCH_STATES", "SEVERITIES", "PatchingBackend", "managed_instances", "patch_data"]

PATCH_STATES = (
    "INSTALLED",
    "INSTALLED_OTHER",
    "INSTALLED_PENDING_REBOOT",
    "INSTALLED_REJECTED",
    "MISSING",
    "NOT_APPLICABLE",
    "FAILED",
    "AVAILABLE_SECURITY_UPDATE",
)
COUNT_KEYS = {
    "InstalledCount": "Installed",
    "InstalledOtherCount": "InstalledOther",
    "InstalledPendingRebootCount": "InstalledPendingReboot",
    "InstalledRejectedCount": "InstalledRejected",
    "MissingCount": "Missing",
    "FailedCount": "Failed",
    "UnreportedNotApplicableCount": "UnreportedNotApplicable",
    "NotApplicableCount": "NotApplicable",
}
_INFO_FILTER_KEYS = {
    "InstanceIds": "InstanceId",
    "AgentVersion": "AgentVersion",
    "PingStatus": "PingStatus",
    "PlatformTypes": "PlatformType",
    "ResourceType": "ResourceType",
    "IamRole": "IamRole",
    "AssociationStatus": "AssociationStatus",
    "ActivationIds": "ActivationId",
}
_OPS: dict[str, Callable[[int, int], bool]] = {
    "Equal": lambda a, b: a == b,
    "NotEqual": lambda a, b: a != b,
    "LessThan": lambda a, b: a < b,
    "GreaterThan": lambda a, b: a > b,
}
_PATCH_FILTERS = {"Classification": "Classification", "KBId": "KBId", "Severity": "Severity", "State": "State"}


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


class PatchingBackend(ComplianceBackend):
    """What SSM knows about patching in one account+region."""

    def __init__(self, account_id: str, region_name: str) -> None:
        super().__init__()
        self.account_id = account_id
        self.region_name = region_name
        #: instance id -> InstancePatchState (dict in the API's shape)
        self.states: dict[str, dict[str, Any]] = {}
        #: instance id -> list of PatchComplianceData dicts
        self.patches: dict[str, list[dict[str, Any]]] = {}
        #: instance id -> patch catalog seeded by tests/demo (absent: a deterministic default)
        self.catalog: dict[str, list[dict[str, Any]]] = {}

    def managed_instances(self) -> list[dict[str, Any]]:
        """InstanceInformation items (``_tags`` is internal: for tag filters, window runs and the inventory sync)."""
        return managed_instances(self.account_id, self.region_name)

    @paginate(pagination_model=PAGINATION_MODEL)
    def describe_instance_information(
        self,
        information_filters: list[dict[str, Any]],
        filters: list[dict[str, Any]],
        max_results: int | None = None,
    ) -> list[dict[str, Any]]:
        check_max_results(max_results, 5, 50)
        items = self.managed_instances()
        for f in information_filters:
            key, values = f.get("key"), f.get("valueSet") or []
            if key not in _INFO_FILTER_KEYS:
                raise InvalidFilterKey(f"The filter key {key} is not valid.")
            if not values:
                raise InvalidInstanceInformationFilterValue(f"The filter value set for {key} must not be empty.")
            items = [i for i in items if _info_matches(i, key, values)]
        for f in filters:
            key, values = f.get("Key", ""), f.get("Values") or []
            if not (key in _INFO_FILTER_KEYS or key.startswith("tag:") or key == "tag-key"):
                raise InvalidFilterKey(f"The filter key {key} is not valid.")
            items = [i for i in items if _info_matches(i, key, values)]
        return items

    @paginate(pagination_model=PAGINATION_MODEL)
    def describe_instance_patch_states(
        self, instance_ids: list[str], max_results: int | None = None
    ) -> list[dict[str, Any]]:
        if not instance_ids:
            raise ValidationException(
                "1 validation error detected: Value null at 'instanceIds' failed to satisfy constraint"
            )
        if len(instance_ids) > 50:
            raise ValidationException(
                "1 validation error detected: Value at 'instanceIds' failed to satisfy constraint: "
                "Member must have length less than or equal to 50"
            )
        check_max_results(max_results, 10, 100)
        return [self.states[i] for i in instance_ids if i in self.states]

    @paginate(pagination_model=PAGINATION_MODEL)
    def describe_instance_patch_states_for_patch_group(
        self, patch_group: str, filters: list[dict[str, Any]], max_results: int | None = None
    ) -> list[dict[str, Any]]:
        if not patch_group:
            raise ValidationException(
                "1 validation error detected: Value null at 'patchGroup' failed to satisfy constraint"
            )
        states = [s for s in self.states.values() if s.get("PatchGroup") == patch_group]
        for f in filters:
            key, values, op = f.get("Key"), f.get("Values") or [], f.get("Type")
            if key not in COUNT_KEYS or op not in _OPS or len(values) != 1:
                raise InvalidFilter(f"Filter {key} {op} {values} is not valid.")
            try:
                wanted = int(values[0])
            except ValueError:
                raise InvalidFilter(f"Filter value {values[0]} for {key} is not a number.") from None
            states = [s for s in states if _OPS[op](int(s.get(key, 0)), wanted)]
        check_max_results(max_results, 10, 100)
        return states

    @paginate(pagination_model=PAGINATION_MODEL)
    def describe_instance_patches(
        self, instance_id: str, filters: list[dict[str, Any]], max_results: int | None = None
    ) -> list[dict[str, Any]]:
        managed = {i["InstanceId"] for i in self.managed_instances()}
        if instance_id not in self.patches and instance_id not in managed:
            raise InvalidInstanceId("The following supplied instance ids are not valid: " + str(instance_id))
        patches = list(self.patches.get(instance_id, []))
        for f in filters:
            key, values = f.get("Key"), f.get("Values") or []
            if key not in _PATCH_FILTERS:
                raise InvalidFilter(f"The filter key {key} is not valid; valid keys: {', '.join(_PATCH_FILTERS)}")
            patches = [p for p in patches if str(p.get(_PATCH_FILTERS[key])) in values]
        check_max_results(max_results, 10, 100)
        return patches


def patch_data(account: str, region: str) -> PatchingBackend:
    """The patching state of one account+region (kept on moto's SSM backend, so moto's reset clears it)."""
    return attached(ssm_backends[account][region], "patching", lambda: PatchingBackend(account, region))


def managed_instances(account: str, region: str) -> list[dict[str, Any]]:
    """InstanceInformation items: running EC2 instances with an instance profile, as the SSM agent reports them."""
    ec2 = ec2_backends[account][region]
    associations = ec2.iam_instance_profile_associations
    items = []
    for reservation in ec2.reservations.values():
        # moto associates the profile with the FIRST instance of a RunInstances call only; AWS gives it to all.
        shared = next((associations[i.id] for i in reservation.instances if i.id in associations), None)
        for instance in reservation.instances:
            if instance.state != "running":
                continue
            association = associations.get(instance.id, shared)
            if association is None or not agent_may_register(association.iam_instance_profile):
                continue
            items.append(_instance_information(instance, association))
    return items


def _statements(document: Any) -> list[dict[str, Any]]:
    parsed = json.loads(unquote(document)) if isinstance(document, str) else document
    found = (parsed or {}).get("Statement", [])
    return [found] if isinstance(found, dict) else list(found)


def _listed(value: Any) -> list[str]:
    return [value] if isinstance(value, str) else list(value or [])


def agent_may_register(profile: Any) -> bool:
    """Whether the SSM agent of an instance with this profile can register: its role trusts EC2
    and allows ``ssm:UpdateInstanceInformation`` (inline or attached, an explicit Deny wins)."""
    for role in getattr(profile, "roles", []) or []:
        trusted = any(
            s.get("Effect") == "Allow"
            and "ec2.amazonaws.com" in _listed((s.get("Principal") or {}).get("Service"))
            and any(fnmatch.fnmatchcase("sts:AssumeRole", a) for a in _listed(s.get("Action")))
            for s in _statements(role.assume_role_policy_document)
        )
        documents = [*role.policies.values()]
        documents += [  # moto's managed policies keep their versions; the default one applies
            v.document
            for p in role.managed_policies.values()
            for v in p.versions
            if v.version_id == p.default_version_id
        ]
        verdicts = [
            s.get("Effect")
            for d in documents
            for s in _statements(d)
            if any(fnmatch.fnmatchcase("ssm:updateinstanceinformation", a.lower()) for a in _listed(s.get("Action")))
        ]
        if trusted and "Allow" in verdicts and "Deny" not in verdicts:
            return True
    return False


def _instance_information(instance: Any, association: Any) -> dict[str, Any]:
    """One InstanceInformation item (``_tags`` is internal, for tag filters and the inventory sync)."""
    profile = association.iam_instance_profile
    roles = getattr(profile, "roles", []) or []
    windows = (instance.platform or "").lower() == "windows"
    tags = {t["key"]: t["value"] for t in instance.get_tags()}
    return {
        "InstanceId": instance.id,
        "PingStatus": "Online",
        "LastPingDateTime": _now(),
        "AgentVersion": "3.3.1142.0",
        "IsLatestVersion": True,
        "PlatformType": "Windows" if windows else "Linux",
        "PlatformName": "Microsoft Windows Server 2022 Datacenter" if windows else "Amazon Linux",
        "PlatformVersion": "10.0.20348" if windows else "2023",
        "ResourceType": "EC2Instance",
        "IamRole": roles[0].name if roles else profile.name,
        "IPAddress": instance.private_ip,
        "ComputerName": f"ip-{(instance.private_ip or '0.0.0.0').replace('.', '-')}.ec2.internal",
        "AssociationStatus": "Success",
        "SourceId": instance.id,
        "SourceType": "AWS::EC2::Instance",
        "_tags": tags,
    }


def _info_matches(item: dict[str, Any], key: str, values: list[str]) -> bool:
    if key.startswith("tag:"):
        return item["_tags"].get(key[4:]) in values
    if key == "tag-key":
        return any(v in item["_tags"] for v in values)
    return str(item.get(_INFO_FILTER_KEYS[key], "")) in values
