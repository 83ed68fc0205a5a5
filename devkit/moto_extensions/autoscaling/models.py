"""EC2 Auto Scaling instance refreshes for moto: Start/Describe/Cancel/RollbackInstanceRefresh.

moto 5.2 raises NotImplementedError for all four. The ASG runbook starts a refresh after the AMI
rebake and waits for it, so the emulator needs the lifecycle and the rules the API reference documents:

* ``StartInstanceRefresh`` creates a refresh in ``Pending``; a second one while one is active
  fails with ``InstanceRefreshInProgress``; ``MinHealthyPercentage`` must be 0-100 and
  ``MaxHealthyPercentage`` 100-200 (``ValidationError``); an unknown group is a ``ValidationError``.
* ``AutoRollback=true`` is refused (``ValidationError``) without a ``DesiredConfiguration``, when the
  group uses its template's ``$Latest``/``$Default`` version, and when the template's ImageId is an
  SSM parameter. Source: botocore's autoscaling model, documentation of ``RefreshPreferences.AutoRollback``
  ("A rollback is not supported in the following situations").
* **Virtual time** (:mod:`devkit.virtual_clock`): a refresh replaces ``InstancesToUpdate`` instances in
  batches of ``max(1, N * (MaxHealthyPercentage - MinHealthyPercentage) / 100)`` (MaxHealthyPercentage
  defaults to 100: capacity may drop to MinHealthyPercentage, never below), each batch taking
  ``LAUNCH_SECONDS`` plus the warm-up (``InstanceWarmup``, default 300 s as the group's default warm-up).
  The first describe moves ``Pending`` to ``InProgress``; later describes show ``PercentageComplete`` from
  the clock, then ``Baking`` for ``BakeTime`` seconds when set, then ``Successful``. On success the group
  takes the ``DesiredConfiguration`` (source: botocore, ``StartInstanceRefresh.DesiredConfiguration``:
  "Once the instance refresh succeeds, Amazon EC2 Auto Scaling updates the settings of the Auto Scaling
  group") and its instances are replaced from it, so the new AMI is really in service afterwards.
  Refreshes are listed newest first and paged (``MaxRecords`` <= 100).
* ``CancelInstanceRefresh`` moves an active refresh to ``Cancelling`` then ``Cancelled``;
  ``RollbackInstanceRefresh`` to ``RollbackInProgress`` then ``RollbackSuccessful`` (the group keeps its
  previous configuration). Without an active refresh both fail with ``ActiveInstanceRefreshNotFound``.

* **Alarms** (``Preferences.AlarmSpecification.Alarms``): while a refresh is active, each describe reads the
  named alarms from the emulated CloudWatch of the same account+region; one in ``ALARM`` fails the refresh, and
  with ``AutoRollback`` it rolls back (``RollbackInProgress`` then ``RollbackSuccessful``, the group keeps its
  previous configuration). Source: botocore's autoscaling model, ``RefreshPreferences.AlarmSpecification`` ("fail
  the operation if an alarm threshold is met") and ``RefreshPreferences.AutoRollback`` ("roll back ... if the
  instance refresh fails or a CloudWatch alarm threshold is met").

Tests and the demo force failures with :func:`fail_refresh`. State lives on moto's Auto Scaling
backend of the account+region, so moto's reset clears it.
"""

from __future__ import annotations

import datetime
import uuid
from dataclasses import dataclass, field
from typing import Any

from moto.autoscaling.models import AutoScalingBackend, autoscaling_backends
from moto.utilities.paginator import paginate

from devkit.moto_extensions.autoscaling.exceptions import (
    ActiveInstanceRefreshNotFound,
    InstanceRefreshInProgress,
    ValidationError,
)
from devkit.moto_extensions.core import attached
from devkit.virtual_clock import CLOCK

ACTIVE = ("Pending", "InProgress", "Baking", "Cancelling", "RollbackInProgress")
#: Seconds the emulator gives one batch to launch before its warm-up starts.
LAUNCH_SECONDS = 60
DEFAULT_WARMUP_SECONDS = 300
#: The next status of an active refresh on each describe.
_NEXT = {
    "Cancelling": "Cancelled",
    "RollbackInProgress": "RollbackSuccessful",
}
PAGINATION_MODEL = {
    "describe_instance_refreshes": {
        "input_token": "next_token",
        "limit_key": "max_records",
        "limit_default": 50,
        "unique_attribute": "refresh_id",
    },
}


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
    started_at: float = field(default_factory=CLOCK.now)

    def seconds_needed(self) -> float:
        """Virtual seconds the replacement takes (batches x (launch + warm-up)), without BakeTime."""
        if self.instances_to_update == 0:
            return 0.0
        low = int(self.preferences.get("MinHealthyPercentage", 90))
        high = int(self.preferences.get("MaxHealthyPercentage") or 100)
        batch = max(1, self.instances_to_update * (high - low) // 100)
        batches = -(-self.instances_to_update // batch)
        warmup = self.preferences.get("InstanceWarmup")
        return float(batches * (LAUNCH_SECONDS + (DEFAULT_WARMUP_SECONDS if warmup is None else int(warmup))))

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


class RefreshBackend:
    """The instance refreshes of one account+region, newest first."""

    def __init__(self, backend: AutoScalingBackend) -> None:
        self.autoscaling = backend
        self.refreshes: list[Refresh] = []

    def start_instance_refresh(
        self,
        name: str,
        strategy: str | None,
        preferences: dict[str, Any] | None,
        desired_configuration: dict[str, Any] | None,
    ) -> str:
        group = self.autoscaling.autoscaling_groups.get(name)
        if group is None:
            raise ValidationError(f"An Auto Scaling group with the name {name} does not exist.")
        strategy = strategy or "Rolling"
        if strategy not in ("Rolling", "ReplaceRootVolume"):
            raise ValidationError(f"Strategy {strategy} is not valid; valid values are Rolling, ReplaceRootVolume")
        preferences = dict(preferences or {})
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
        if preferences["AutoRollback"]:
            _check_rollback(group, desired_configuration)
        if desired_configuration:
            _check_desired(self.autoscaling, desired_configuration)
        if self.active(name) is not None:
            raise InstanceRefreshInProgress(
                "An Instance Refresh is already in progress and blocks the execution of this Instance Refresh."
            )
        refresh = Refresh(
            group=name,
            preferences=preferences,
            strategy=strategy,
            desired_configuration=desired_configuration,
            instances_to_update=len(group.instance_states),
        )
        self.refreshes.insert(0, refresh)
        return refresh.refresh_id

    @paginate(pagination_model=PAGINATION_MODEL)
    def describe_instance_refreshes(
        self, name: str, refresh_ids: list[str], max_records: int | None = None
    ) -> list[Refresh]:
        if max_records is not None and not 1 <= max_records <= 100:
            raise ValidationError(f"MaxRecords must be between 1 and 100, got {max_records}")
        matching = [r for r in self.refreshes if r.group == name and (not refresh_ids or r.refresh_id in refresh_ids)]
        for refresh in matching:
            if refresh.status in ACTIVE:
                advance(self.autoscaling, refresh)
        return matching

    def cancel_instance_refresh(self, name: str) -> str:
        refresh = self._cancellable(name)
        refresh.status = "Cancelling"
        return refresh.refresh_id

    def rollback_instance_refresh(self, name: str) -> str:
        refresh = self._cancellable(name)
        refresh.status = "RollbackInProgress"
        refresh.rolled_back = True
        refresh.reason = "rollback requested by RollbackInstanceRefresh"
        return refresh.refresh_id

    def active(self, group: str) -> Refresh | None:
        return next((r for r in self.refreshes if r.group == group and r.status in ACTIVE), None)

    def _cancellable(self, name: str) -> Refresh:
        refresh = self.active(name)
        if refresh is None or refresh.status in ("Cancelling", "RollbackInProgress"):
            raise ActiveInstanceRefreshNotFound(f"No in progress or pending Instance Refresh found for group {name}")
        return refresh


def refresh_backend(account: str, region: str) -> RefreshBackend:
    backend = autoscaling_backends[account][region]
    return attached(backend, "refreshes", lambda: RefreshBackend(backend))


def _check_rollback(group: Any, desired: dict[str, Any] | None) -> None:
    """AWS's situations where a rollback is not supported (botocore, RefreshPreferences.AutoRollback)."""
    if not desired:
        raise ValidationError("AutoRollback requires a DesiredConfiguration (rollback is not supported without one)")
    if getattr(group, "launch_config", None) is not None and getattr(group, "ec2_launch_template", None) is None:
        raise ValidationError("AutoRollback is not supported for Auto Scaling groups that use a launch configuration")
    version = str(getattr(group, "launch_template_version", "") or "")
    if version in ("$Latest", "$Default"):
        raise ValidationError(
            f"AutoRollback is not supported: the Auto Scaling group uses the launch template's {version} version"
        )
    template = getattr(group, "ec2_launch_template", None)
    if template is not None and version:
        image = str(template.get_version(version).data.get("ImageId", ""))
        if image.startswith("resolve:ssm:"):
            raise ValidationError(
                "AutoRollback is not supported: the launch template uses an AWS Systems Manager parameter as ImageId"
            )


def _spec_of(desired: dict[str, Any]) -> dict[str, Any]:
    spec = desired.get("LaunchTemplate") or (
        (desired.get("MixedInstancesPolicy") or {}).get("LaunchTemplate", {}).get("LaunchTemplateSpecification")
    )
    return dict(spec or {})


def _check_desired(backend: AutoScalingBackend, desired: dict[str, Any]) -> None:
    """The desired configuration's template and version exist (EC2's own errors otherwise)."""
    spec = _spec_of(desired)
    if not spec:
        return
    ec2 = backend.ec2_backend
    template = (
        ec2.get_launch_template(spec["LaunchTemplateId"])
        if spec.get("LaunchTemplateId")
        else ec2.get_launch_template_by_name(str(spec.get("LaunchTemplateName")))
    )
    template.get_version(spec.get("Version") or "$Default")


def _apply_desired(backend: AutoScalingBackend, group: Any, desired: dict[str, Any]) -> None:
    """The group takes the desired configuration once the refresh succeeded."""
    spec = _spec_of(desired)
    if not spec:
        return
    if desired.get("MixedInstancesPolicy"):
        policy = dict(group.mixed_instances_policy or {})
        policy.setdefault("LaunchTemplate", {})["LaunchTemplateSpecification"] = spec
        group._set_launch_configuration(None, {}, policy)
        group.mixed_instances_policy = policy
    else:
        group._set_launch_configuration(None, spec, None)


def _finish(backend: AutoScalingBackend, refresh: Refresh, status: str) -> None:
    refresh.status = status
    refresh.end = datetime.datetime.now(datetime.UTC)
    if status == "Successful":
        refresh.percentage = 100
        group = backend.autoscaling_groups.get(refresh.group)
        if group is not None:
            if refresh.desired_configuration:
                _apply_desired(backend, group, refresh.desired_configuration)
            # Replace every instance (SkipMatching is not modelled): they are relaunched from the group's current
            # launch template version, so the new AMI is what runs afterwards.
            desired = group.desired_capacity
            backend.set_desired_capacity(refresh.group, 0)
            backend.set_desired_capacity(refresh.group, desired)


def firing_alarms(backend: AutoScalingBackend, refresh: Refresh) -> list[str]:
    """The refresh's alarms (``AlarmSpecification``) now in ``ALARM`` in the group's account+region."""
    from moto.cloudwatch.models import cloudwatch_backends

    names = list((refresh.preferences.get("AlarmSpecification") or {}).get("Alarms") or [])
    if not names:
        return []
    alarms = cloudwatch_backends[backend.account_id][backend.region_name].alarms
    return [name for name in names if name in alarms and alarms[name].state_value == "ALARM"]


def advance(backend: AutoScalingBackend, refresh: Refresh) -> None:
    """One step of the documented lifecycle (what a describe observes)."""
    if refresh.status in ("Pending", "InProgress", "Baking"):
        firing = firing_alarms(backend, refresh)
        if firing:
            refresh.reason = f"CloudWatch alarm in ALARM: {', '.join(firing)}"
            if refresh.preferences.get("AutoRollback"):
                refresh.status, refresh.rolled_back = "RollbackInProgress", True
            else:
                _finish(backend, refresh, "Failed")
            return
    elapsed = CLOCK.now() - refresh.started_at
    needed = refresh.seconds_needed()
    bake = int(refresh.preferences.get("BakeTime") or 0)
    if refresh.status == "Pending":
        refresh.status = "InProgress"
    elif refresh.status == "InProgress":
        if elapsed < needed:
            refresh.percentage = min(99, int(100 * elapsed / needed))
        elif bake > 0 and elapsed < needed + bake:
            refresh.status = "Baking"
            refresh.percentage = 100
        else:
            _finish(backend, refresh, "Successful")
    elif refresh.status == "Baking":
        if elapsed >= needed + bake:
            _finish(backend, refresh, "Successful")
    elif refresh.status in _NEXT:
        _finish(backend, refresh, _NEXT[refresh.status])


def fail_refresh(account: str, region: str, group: str, reason: str = "injected failure") -> str:
    """Make the group's active refresh fail (rolled back if AutoRollback was set), as AWS does on failed health
    checks. Returns the new status."""
    backend = refresh_backend(account, region)
    refresh = backend.active(group)
    if refresh is None:
        raise ValueError(f"no active instance refresh for {group} in {account}/{region}")
    refresh.reason = reason
    if refresh.preferences.get("AutoRollback"):
        refresh.status = "RollbackInProgress"
        refresh.rolled_back = True
    else:
        _finish(backend.autoscaling, refresh, "Failed")
    return refresh.status


def _check_percentages(preferences: dict[str, Any]) -> None:
    low = preferences.get("MinHealthyPercentage")
    high = preferences.get("MaxHealthyPercentage")
    if low is not None and not 0 <= int(low) <= 100:
        raise ValidationError(f"MinHealthyPercentage must be between 0 and 100, got {low}")
    if high is not None and not 100 <= int(high) <= 200:
        raise ValidationError(f"MaxHealthyPercentage must be between 100 and 200, got {high}")
    if low is not None and high is not None and int(high) - int(low) > 100:
        raise ValidationError("The difference between MaxHealthyPercentage and MinHealthyPercentage cannot exceed 100")
