"""Errors of the instance refresh operations, with the codes the Auto Scaling API reference gives them."""

from __future__ import annotations

from moto.autoscaling.exceptions import AutoscalingClientError, ValidationError

__all__ = ["ActiveInstanceRefreshNotFound", "InstanceRefreshInProgress", "ValidationError"]


class InstanceRefreshInProgress(AutoscalingClientError):
    """Error code AWS returns when a refresh is already active for the group."""

    code = "InstanceRefreshInProgress"


class ActiveInstanceRefreshNotFound(AutoscalingClientError):
    """Error code AWS returns for cancel/rollback without an active refresh."""

    code = "ActiveInstanceRefreshNotFound"
