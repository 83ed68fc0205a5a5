"""Where a function runs and what it reports: its account, and the Powertools metrics of an outcome.

The metrics are CloudWatch embedded metric format lines written by the handler's ``Metrics``
(``@metrics.log_metrics`` flushes them once per invocation): no ``PutMetricData`` permission and
no extra call.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Metrics
from aws_lambda_powertools.metrics import MetricUnit

#: CloudWatch namespace of every org-patching function's metrics (the service name is a dimension).
METRICS_NAMESPACE = "OrgPatching"


def function_account(context: Any) -> str | None:
    """The account this function runs in, from its ARN (no API call); ``None`` without a Lambda context."""
    parts = str(getattr(context, "invoked_function_arn", "") or "").split(":")
    return parts[4] if len(parts) > 4 and parts[4].isdigit() else None


def record_outcome(metrics: Metrics, tagged: int, skipped: int, failed: int) -> None:
    """Count the resources tagged, skipped (exempt, managed elsewhere, gone) and failed (in an error entry)."""
    metrics.add_metric(name="ResourcesTagged", unit=MetricUnit.Count, value=tagged)
    metrics.add_metric(name="ResourcesSkipped", unit=MetricUnit.Count, value=skipped)
    metrics.add_metric(name="ResourcesFailed", unit=MetricUnit.Count, value=failed)


def failed_resources(errors: list[dict[str, Any]]) -> int:
    """How many resources the error entries name (one failed call may cover up to 1,000 instances)."""
    return sum(len(error.get("resources", [])) for error in errors)
