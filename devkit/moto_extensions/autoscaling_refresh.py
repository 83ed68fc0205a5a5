"""EC2 Auto Scaling instance refreshes for moto: Start/Describe/Cancel/RollbackInstanceRefresh.

moto 5.2 raises NotImplementedError for all four. The ASG runbook starts a refresh after the AMI rebake and waits
for it, so the emulator needs the lifecycle the API reference documents:

* ``StartInstanceRefresh`` creates a refresh in ``Pending``; a second one while one is active fails with
  ``InstanceRefreshInProgress``; ``MinHealthyPercentage`` must be 0-100 and ``MaxHealthyPercentage`` 100-200
  (``ValidationError``); an unknown group is a ``ValidationError``.
* Each ``DescribeInstanceRefreshes`` advances every active refresh of the group by one step, so a waiter that polls
  sees a real progression: ``Pending`` -> ``InProgress`` (50%) -> ``Baking`` (only with ``BakeTime`` > 0) ->
  ``Successful`` (100%). On success the group's instances are replaced from its current launch template version,
  so the new AMI is really in service afterwards. Refreshes are listed newest first and paged (``MaxRecords`` <= 100).
* ``CancelInstanceRefresh`` moves an active refresh to ``Cancelling`` then ``Cancelled``;
  ``RollbackInstanceRefresh`` to ``RollbackInProgress`` then ``RollbackSuccessful``. Without an active refresh both
  fail with ``ActiveInstanceRefreshNotFound``.

Tests and the demo force failures with :func:`fail_refresh`.
"""

from __future__ import annotations

import datetime
import uuid
from dataclasses import dataclass, field
from typing import Any

from moto.autoscaling.exceptions import AutoscalingClientError, ValidationError
from moto.autoscaling.models import AutoScalingBackend, autoscaling_backends
from moto.autoscaling.responses import AutoScalingResponse
from moto.core.responses import ActionResult

ACTIVE = ("Pending", "InProgress", "Baking", "Cancelling", "RollbackInProgress")
#: The next status of an active refresh on each describe.
_NEXT = {
    "Cancelling": "Cancelled",
    "RollbackInProgress": "RollbackSuccessful",
}


class InstanceRefreshInProgress(AutoscalingClientError):
    """Error code AWS returns when a refresh is already active for the group."""

    code = "InstanceRefreshInProgress"


class ActiveInstanceRefreshNotFound(AutoscalingClientError):
    """Error code AWS returns for cancel/rollback without an active refresh."""

    code = "ActiveInstanceRefreshNotFound"


@dataclass
class Refresh:
    """One instance refresh as DescribeInstanceRefreshes returns it."""

    group: str
    preferences: dict[str, Any]
    strategy: str
    desired_configuration: dict[str, Any] | None
    instances_to_update: int
    refresh_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    status: str = "Pending"
    reason: str | None = None
    percentage: int = 0
    start: datetime.datetime = field(default_factory=lambda: datetime.datetime.now(datetime.UTC))
    end: datetime.datetime | None = None
    rolled_back: bool = False

    def to_dict(self) -> dict[str, Any]:
        item: dict[str, Any] = {
            "InstanceRefreshId": self.refresh_id,
            "AutoScalingGroupName": self.group,
            "Status": self.status,
            "StartTime": self.start,
            "PercentageComplete": self.percentage,
            "InstancesToUpdate": 0 if self.status == "Successful" else self.instances_to_update,
            "Preferences": self.preferences,
            "Strategy": self.strategy,
        }
        if self.reason:
            item["StatusReason"] = self.reason
        if self.end:
            item["EndTime"] = self.end
        if self.desired_configuration:
            item["DesiredConfiguration"] = self.desired_configuration
        if self.rolled_back:
            item["RollbackDetails"] = {
                "RollbackReason": self.reason or "rollback requested",
                "RollbackStartTime": self.start,
            }
        return item


def _refreshes(backend: AutoScalingBackend) -> list[Refresh]:
    """The refreshes of one account+region, stored on the backend so moto's reset clears them."""
    store = backend.__dict__.setdefault("_org_patching_refreshes", [])
    return store  # type: ignore[no-any-return]


def _finish(backend: AutoScalingBackend, refresh: Refresh, status: str) -> None:
    refresh.status = status
    refresh.end = datetime.datetime.now(datetime.UTC)
    if status == "Successful":
        refresh.percentage = 100
        group = backend.autoscaling_groups.get(refresh.group)
        if group is not None:
            # Replace every instance (SkipMatching is not modelled): they are relaunched from the group's current
            # launch template version, so the new AMI is what runs afterwards.
            desired = group.desired_capacity
            backend.set_desired_capacity(refresh.group, 0)
            backend.set_desired_capacity(refresh.group, desired)


def advance(backend: AutoScalingBackend, refresh: Refresh) -> None:
    """One step of the documented lifecycle (what a describe observes)."""
    if refresh.status == "Pending":
        refresh.status = "InProgress"
        refresh.percentage = 50
    elif refresh.status == "InProgress":
        if int(refresh.preferences.get("BakeTime") or 0) > 0:
            refresh.status = "Baking"
            refresh.percentage = 100
        else:
            _finish(backend, refresh, "Successful")
    elif refresh.status == "Baking":
        _finish(backend, refresh, "Successful")
    elif refresh.status in _NEXT:
        _finish(backend, refresh, _NEXT[refresh.status])


def fail_refresh(account: str, region: str, group: str, reason: str = "injected failure") -> str:
    """Make the group's active refresh fail (rolled back if AutoRollback was set), as AWS does on failed health
    checks. Returns the new status."""
    backend = autoscaling_backends[account][region]
    refresh = _active(backend, group)
    if refresh is None:
        raise ValueError(f"no active instance refresh for {group} in {account}/{region}")
    refresh.reason = reason
    if refresh.preferences.get("AutoRollback"):
        refresh.status = "RollbackInProgress"
        refresh.rolled_back = True
    else:
        _finish(backend, refresh, "Failed")
    return refresh.status


def _active(backend: AutoScalingBackend, group: str) -> Refresh | None:
    return next((r for r in _refreshes(backend) if r.group == group and r.status in ACTIVE), None)


def _check_percentages(preferences: dict[str, Any]) -> None:
    low = preferences.get("MinHealthyPercentage")
    high = preferences.get("MaxHealthyPercentage")
    if low is not None and not 0 <= int(low) <= 100:
        raise ValidationError(f"MinHealthyPercentage must be between 0 and 100, got {low}")
    if high is not None and not 100 <= int(high) <= 200:
        raise ValidationError(f"MaxHealthyPercentage must be between 100 and 200, got {high}")
    if low is not None and high is not None and int(high) - int(low) > 100:
        raise ValidationError("The difference between MaxHealthyPercentage and MinHealthyPercentage cannot exceed 100")


def start_instance_refresh(self: AutoScalingResponse) -> ActionResult:
    name = self._get_param("AutoScalingGroupName")
    backend = self.autoscaling_backend
    group = backend.autoscaling_groups.get(name)
    if group is None:
        raise ValidationError(f"An Auto Scaling group with the name {name} does not exist.")
    strategy = self._get_param("Strategy") or "Rolling"
    if strategy not in ("Rolling", "ReplaceRootVolume"):
        raise ValidationError(f"Strategy {strategy} is not valid; valid values are Rolling, ReplaceRootVolume")
    preferences = dict(self._get_param("Preferences") or {})
    _check_percentages(preferences)
    preferences.setdefault("MinHealthyPercentage", 90)
    preferences.setdefault("SkipMatching", False)
    preferences.setdefault("AutoRollback", False)
    for key in ("MinHealthyPercentage", "MaxHealthyPercentage", "InstanceWarmup", "CheckpointDelay", "BakeTime"):
        if key in preferences and preferences[key] is not None:
            preferences[key] = int(preferences[key])
    for key in ("SkipMatching", "AutoRollback"):
        value = preferences.get(key)
        if isinstance(value, str):
            preferences[key] = value.lower() == "true"
    desired = self._get_param("DesiredConfiguration")
    if preferences["AutoRollback"] and getattr(group, "launch_config", None) is not None and not desired:
        raise ValidationError("AutoRollback is not supported for Auto Scaling groups that use a launch configuration")
    if _active(backend, name) is not None:
        raise InstanceRefreshInProgress(
            "An Instance Refresh is already in progress and blocks the execution of this Instance Refresh."
        )
    refresh = Refresh(
        group=name,
        preferences=preferences,
        strategy=strategy,
        desired_configuration=desired,
        instances_to_update=len(group.instance_states),
    )
    _refreshes(backend).insert(0, refresh)
    return ActionResult({"InstanceRefreshId": refresh.refresh_id})


def describe_instance_refreshes(self: AutoScalingResponse) -> ActionResult:
    name = self._get_param("AutoScalingGroupName")
    ids = self._get_param("InstanceRefreshIds") or []
    max_records = int(self._get_param("MaxRecords") or 50)
    if not 1 <= max_records <= 100:
        raise ValidationError(f"MaxRecords must be between 1 and 100, got {max_records}")
    token = self._get_param("NextToken")
    backend = self.autoscaling_backend
    matching = [r for r in _refreshes(backend) if r.group == name and (not ids or r.refresh_id in ids)]
    for refresh in matching:
        if refresh.status in ACTIVE:
            advance(backend, refresh)
    start = int(token) if token else 0
    page = matching[start : start + max_records]
    result: dict[str, Any] = {"InstanceRefreshes": [r.to_dict() for r in page]}
    if start + max_records < len(matching):
        result["NextToken"] = str(start + max_records)
    return ActionResult(result)


def cancel_instance_refresh(self: AutoScalingResponse) -> ActionResult:
    name = self._get_param("AutoScalingGroupName")
    refresh = _active(self.autoscaling_backend, name)
    if refresh is None or refresh.status in ("Cancelling", "RollbackInProgress"):
        raise ActiveInstanceRefreshNotFound(f"No in progress or pending Instance Refresh found for group {name}")
    refresh.status = "Cancelling"
    return ActionResult({"InstanceRefreshId": refresh.refresh_id})


def rollback_instance_refresh(self: AutoScalingResponse) -> ActionResult:
    name = self._get_param("AutoScalingGroupName")
    refresh = _active(self.autoscaling_backend, name)
    if refresh is None or refresh.status in ("Cancelling", "RollbackInProgress"):
        raise ActiveInstanceRefreshNotFound(f"No in progress or pending Instance Refresh found for group {name}")
    refresh.status = "RollbackInProgress"
    refresh.rolled_back = True
    refresh.reason = "rollback requested by RollbackInstanceRefresh"
    return ActionResult({"InstanceRefreshId": refresh.refresh_id})


def install() -> None:
    """Add the four operations to moto's Auto Scaling responses (idempotent)."""
    AutoScalingResponse.start_instance_refresh = start_instance_refresh  # type: ignore[attr-defined]
    AutoScalingResponse.describe_instance_refreshes = describe_instance_refreshes  # type: ignore[attr-defined]
    AutoScalingResponse.cancel_instance_refresh = cancel_instance_refresh  # type: ignore[attr-defined]
    AutoScalingResponse.rollback_instance_refresh = rollback_instance_refresh  # type: ignore[attr-defined]
