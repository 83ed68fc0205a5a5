"""What the spoke's tag-compliance rules say, as plain data from the tag contract.

The REQUIRED_TAGS Config rule's input, the EventBridge pattern of its NON_COMPLIANT changes and
the scheduled event of each region's daily sweep. Kept apart from the resources so tests can
check them against the contract and the Lambda's event handling directly.
"""

from __future__ import annotations

from typing import Any

from .. import naming
from ..contract import MAINTENANCE_WINDOW_TAG, PATCH_GROUP_TAG, PATCH_GROUPS


def required_tags_parameters() -> dict[str, str]:
    """REQUIRED_TAGS input: the two managed keys, and every value the contract allows for the patch group.

    The window key carries no value list: team windows (``<Env>_<team>_maintenance_window``, docs/teams.md)
    are named by the teams, and REQUIRED_TAGS takes only a fixed list; the tag-remediation sweep checks the
    window value against the contract and the windows that exist.
    """
    return {
        "tag1Key": MAINTENANCE_WINDOW_TAG,
        "tag2Key": PATCH_GROUP_TAG,
        "tag2Value": ",".join(PATCH_GROUPS),
    }


def compliance_event_pattern() -> dict[str, Any]:
    """Only transitions TO non-compliant of our rule (the seed reacted to every change, also to
    COMPLIANT and deleted resources)."""
    return {
        "source": ["aws.config"],
        "detail-type": ["Config Rules Compliance Change"],
        "detail": {
            "configRuleName": [naming.CONFIG_RULE],
            "messageType": ["ComplianceChangeNotification"],
            "newEvaluationResult": {"complianceType": ["NON_COMPLIANT"]},
        },
    }


def sweep_event(account: str, region: str) -> dict[str, Any]:
    """The scheduled event one sweep target sends: a Scheduled Event naming the region to sweep."""
    return {
        "version": "0",
        "id": f"org-patching-sweep-{region}",
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": account,
        "region": region,
        "resources": [],
        "detail": {},
    }
