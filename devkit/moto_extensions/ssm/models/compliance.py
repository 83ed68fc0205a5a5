"""SSM compliance in one account+region: ``PutComplianceItems`` and the three list operations.

``COMPLETE`` replaces the resource's items of that compliance type, ``PARTIAL`` upserts.
``ListComplianceSummaries`` counts *resources* (a non-compliant one under its highest
severity); ``ListResourceComplianceSummaries`` counts *items* per resource and type. Patch runs
(:mod:`.patching`) write their ``Patch`` items through the same method as the API.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from moto.utilities.paginator import paginate

from devkit.moto_extensions.ssm.exceptions import (
    InvalidFilter,
    InvalidItemContentException,
    InvalidResourceType,
    ItemSizeLimitExceededException,
    ValidationException,
)
from devkit.moto_extensions.ssm.utils import PAGINATION_MODEL, check_max_results

SEVERITIES = ("CRITICAL", "HIGH", "MEDIUM", "LOW", "INFORMATIONAL", "UNSPECIFIED")
COMPLIANCE_TYPE_PATTERN = re.compile(r"^([A-Za-z0-9_\-]\w+|Custom:[a-zA-Z0-9_\-]\w+)$")

_COMPLIANCE_FILTER_KEYS = {
    "ComplianceType": "ComplianceType",
    "Status": "Status",
    "Severity": "Severity",
    "Id": "Id",
    "Title": "Title",
    "ResourceId": "ResourceId",
    "ResourceType": "ResourceType",
}


class ComplianceBackend:
    """Compliance items of one account+region."""

    def __init__(self) -> None:
        #: (resource type, resource id, compliance type) -> {"items": {id: item}, "summary": ExecutionSummary}
        self.compliance: dict[tuple[str, str, str], dict[str, Any]] = {}

    def put_compliance_items(
        self,
        resource_id: str,
        resource_type: str,
        compliance_type: str,
        items: Iterable[dict[str, Any]],
        summary: dict[str, Any],
        upload_type: str = "COMPLETE",
    ) -> None:
        """PutComplianceItems semantics, shared by the API and the simulated patch runs."""
        if resource_type != "ManagedInstance":
            raise InvalidResourceType(f"ResourceType {resource_type} is not supported; use ManagedInstance")
        if not COMPLIANCE_TYPE_PATTERN.match(compliance_type or ""):
            raise ValidationException(f"ComplianceType {compliance_type!r} does not match the required pattern")
        if upload_type not in ("COMPLETE", "PARTIAL"):
            raise ValidationException(f"UploadType {upload_type} is not COMPLETE or PARTIAL")
        items = list(items)
        if len(items) > 10000:
            raise ItemSizeLimitExceededException("Items can contain at most 10000 entries")
        for item in items:
            if item.get("Severity") not in SEVERITIES:
                raise InvalidItemContentException(
                    f"Severity {item.get('Severity')!r} is not one of {', '.join(SEVERITIES)}"
                )
            if item.get("Status") not in ("COMPLIANT", "NON_COMPLIANT"):
                raise InvalidItemContentException(f"Status {item.get('Status')!r} is not COMPLIANT or NON_COMPLIANT")
        if "ExecutionTime" not in summary:
            raise ValidationException("ExecutionSummary.ExecutionTime is required")
        key = (resource_type, resource_id, compliance_type)
        entry = self.compliance.get(key)
        if entry is None or upload_type == "COMPLETE":
            entry = {"items": {}}
            self.compliance[key] = entry
        entry["summary"] = summary
        for n, item in enumerate(items):
            item_id = item.get("Id") or f"{compliance_type}-{n}"
            entry["items"][item_id] = {**item, "Id": item_id}

    def compliance_items(self) -> list[dict[str, Any]]:
        """Every ComplianceItem of the account+region, in the API's shape."""
        out = []
        for (resource_type, resource_id, compliance_type), entry in sorted(self.compliance.items()):
            for item in entry["items"].values():
                out.append(
                    {
                        "ComplianceType": compliance_type,
                        "ResourceType": resource_type,
                        "ResourceId": resource_id,
                        "Id": item["Id"],
                        "Title": item.get("Title", ""),
                        "Status": item["Status"],
                        "Severity": item["Severity"],
                        "ExecutionSummary": entry["summary"],
                        "Details": item.get("Details", {}),
                    }
                )
        return out

    @paginate(pagination_model=PAGINATION_MODEL)
    def list_compliance_items(
        self,
        resource_ids: list[str],
        resource_types: list[str],
        filters: list[dict[str, Any]],
        max_results: int | None = None,
    ) -> list[dict[str, Any]]:
        check_max_results(max_results, 1, 50)
        rows = self.compliance_items()
        if resource_ids:
            rows = [r for r in rows if r["ResourceId"] in resource_ids]
        if resource_types:
            rows = [r for r in rows if r["ResourceType"] in resource_types]
        return _filter_compliance(rows, filters)

    def resource_summaries(self) -> list[dict[str, Any]]:
        """ResourceComplianceSummaryItems: per resource and compliance type, item counts by severity."""
        out = []
        for (resource_type, resource_id, compliance_type), entry in sorted(self.compliance.items()):
            items = list(entry["items"].values())
            bad = [i["Severity"] for i in items if i["Status"] == "NON_COMPLIANT"]
            good = [i["Severity"] for i in items if i["Status"] == "COMPLIANT"]
            out.append(
                {
                    "ComplianceType": compliance_type,
                    "ResourceType": resource_type,
                    "ResourceId": resource_id,
                    "Status": "NON_COMPLIANT" if bad else "COMPLIANT",
                    "OverallSeverity": highest_severity(bad),
                    "ExecutionSummary": entry["summary"],
                    "CompliantSummary": {"CompliantCount": len(good), "SeveritySummary": _severity_summary(good)},
                    "NonCompliantSummary": {
                        "NonCompliantCount": len(bad),
                        "SeveritySummary": _severity_summary(bad),
                    },
                }
            )
        return out

    @paginate(pagination_model=PAGINATION_MODEL)
    def list_resource_compliance_summaries(
        self, filters: list[dict[str, Any]], max_results: int | None = None
    ) -> list[dict[str, Any]]:
        check_max_results(max_results, 1, 50)
        return _filter_compliance(self.resource_summaries(), filters)

    @paginate(pagination_model=PAGINATION_MODEL)
    def list_compliance_summaries(
        self, filters: list[dict[str, Any]], max_results: int | None = None
    ) -> list[dict[str, Any]]:
        """Per compliance type, counts of RESOURCES; a non-compliant resource counts under its highest severity."""
        check_max_results(max_results, 1, 50)
        by_type: dict[str, list[dict[str, Any]]] = {}
        for row in _filter_compliance(self.resource_summaries(), filters):
            by_type.setdefault(row["ComplianceType"], []).append(row)
        summaries = []
        for compliance_type, resources in sorted(by_type.items()):
            good = [r for r in resources if r["Status"] == "COMPLIANT"]
            bad = [r for r in resources if r["Status"] == "NON_COMPLIANT"]
            summaries.append(
                {
                    "ComplianceType": compliance_type,
                    "CompliantSummary": {
                        "CompliantCount": len(good),
                        "SeveritySummary": _severity_summary(r["OverallSeverity"] for r in good),
                    },
                    "NonCompliantSummary": {
                        "NonCompliantCount": len(bad),
                        "SeveritySummary": _severity_summary(r["OverallSeverity"] for r in bad),
                    },
                }
            )
        return summaries


def highest_severity(severities: Iterable[str]) -> str:
    """The most severe of ``severities`` (``UNSPECIFIED`` when there is none)."""
    present = set(severities)
    return next((s for s in SEVERITIES if s in present), "UNSPECIFIED")


def _filter_compliance(rows: list[dict[str, Any]], filters: list[dict[str, Any]]) -> list[dict[str, Any]]:
    for f in filters:
        key, values, op = f.get("Key"), f.get("Values") or [], f.get("Type") or "EQUAL"
        if key not in _COMPLIANCE_FILTER_KEYS:
            raise InvalidFilter(f"The filter key {key} is not valid.")
        field_name = _COMPLIANCE_FILTER_KEYS[key]
        if op == "EQUAL":
            rows = [r for r in rows if str(r.get(field_name)) in values]
        elif op == "NOT_EQUAL":
            rows = [r for r in rows if str(r.get(field_name)) not in values]
        elif op == "BEGIN_WITH":
            rows = [r for r in rows if any(str(r.get(field_name, "")).startswith(v) for v in values)]
        else:
            raise InvalidFilter(f"Filter type {op} is not supported for {key}")
    return rows


def _severity_summary(severities: Iterable[str]) -> dict[str, int]:
    counts = dict.fromkeys(("Critical", "High", "Medium", "Low", "Informational", "Unspecified"), 0)
    for severity in severities:
        counts[severity.capitalize()] += 1
    return {f"{k}Count": v for k, v in counts.items()}
