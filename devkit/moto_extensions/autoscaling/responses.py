"""The instance refresh operations as moto's response layer has them: read the request, call the
model of the caller's account+region, shape the answer (see :mod:`.models` for the behaviour).

:class:`AutoScalingExtensionResponse` is never routed to itself: :func:`.install` copies its
methods onto moto's ``AutoScalingResponse``.
"""

from __future__ import annotations

from typing import Any

from moto.autoscaling.responses import AutoScalingResponse
from moto.core.responses import ActionResult

from devkit.moto_extensions.autoscaling.models import RefreshBackend, refresh_backend


class AutoScalingExtensionResponse(AutoScalingResponse):
    """Request parsing for Start/Describe/Cancel/RollbackInstanceRefresh."""

    @property
    def refreshes(self) -> RefreshBackend:
        return refresh_backend(self.current_account, self.region)

    def start_instance_refresh(self) -> ActionResult:
        refresh_id = self.refreshes.start_instance_refresh(
            self._get_param("AutoScalingGroupName"),
            self._get_param("Strategy"),
            self._get_param("Preferences"),
            self._get_param("DesiredConfiguration"),
        )
        return ActionResult({"InstanceRefreshId": refresh_id})

    def describe_instance_refreshes(self) -> ActionResult:
        refreshes, token = self.refreshes.describe_instance_refreshes(
            name=self._get_param("AutoScalingGroupName"),
            refresh_ids=self._get_param("InstanceRefreshIds") or [],
            max_records=self._get_int_param("MaxRecords"),
            next_token=self._get_param("NextToken"),
        )
        result: dict[str, Any] = {"InstanceRefreshes": [r.to_dict() for r in refreshes]}
        if token:
            result["NextToken"] = token
        return ActionResult(result)

    def cancel_instance_refresh(self) -> ActionResult:
        refresh_id = self.refreshes.cancel_instance_refresh(self._get_param("AutoScalingGroupName"))
        return ActionResult({"InstanceRefreshId": refresh_id})

    def rollback_instance_refresh(self) -> ActionResult:
        refresh_id = self.refreshes.rollback_instance_refresh(self._get_param("AutoScalingGroupName"))
        return ActionResult({"InstanceRefreshId": refresh_id})
