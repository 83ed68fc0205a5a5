"""The resource budget: <= 20.75 resources per account-region (2 accounts x 4 regions, 6 OSes) for what
enrollment delivers, so the events' additions (<= 2.25) keep the total within the seed's 23."""

from __future__ import annotations

import json
from typing import Any

from components import naming

REGIONS = ["us-east-1", "eu-west-1", "eu-central-1", "ap-southeast-2"]
SIX_OS = ["AMAZON_LINUX_2", "AMAZON_LINUX_2023", "REDHAT_ENTERPRISE_LINUX", "UBUNTU", "WINDOWS", "SUSE"]
BUDGET = 20.75


def per_account_region(capture: Any, accounts: int, regions: int) -> float:
    aws = [r for r in capture.resources if r.custom and r.type.startswith("aws:")]
    return len(aws) / (accounts * regions)


def forwarding_per_account_region(capture: Any, accounts: int, regions: int) -> float:
    """The share of the patch-event forwarding (``components/spoke/event_forwarding.py``)."""
    by_urn = capture.by_urn
    aws = [r for r in capture.resources if r.custom and r.type.startswith("aws:")]
    mine = [r for r in aws if by_urn[r.parent].type == "org-patching:spoke:PatchEventForwarding"]
    return len(mine) / (accounts * regions)


def test_two_accounts_four_regions_six_os_within_budget(render_child: Any) -> None:
    capture = render_child(regions=REGIONS, patching={"operatingSystems": SIX_OS})
    # issue 16's patch-event forwarding has its own allowance (tests/spoke/test_event_forwarding.py)
    forwarding = forwarding_per_account_region(capture, 2, len(REGIONS))
    assert per_account_region(capture, 2, len(REGIONS)) - forwarding <= BUDGET
    # ...and it is the full spoke, not a trimmed one: both runbooks and tasks in every region.
    documents = capture.of_type("aws:ssm/document:Document")
    assert len(documents) == 2 * len(REGIONS) * 2
    assert {d.inputs["name"] for d in documents} == {naming.RUNBOOK_STANDALONE, naming.RUNBOOK_ASG}
    assert len(capture.of_type("aws:ssm/maintenanceWindowTask:MaintenanceWindowTask")) == 2 * len(REGIONS) * 2
    # The six baselines are one BaselineOverride file in the hub, not 12 resources per account-region.
    assert not capture.of_type("aws:ssm/patchBaseline:PatchBaseline")
    (override,) = capture.of_type("aws:s3/bucketObjectv2:BucketObjectv2")
    assert [entry["OperatingSystem"] for entry in json.loads(override.inputs["content"])] == SIX_OS


def test_a_region_costs_a_constant_share(render_child: Any) -> None:
    """Account-level resources are counted once: adding a region adds only regional resources."""
    two = render_child(regions=REGIONS[:2], patching={"operatingSystems": SIX_OS})
    four = render_child(regions=REGIONS, patching={"operatingSystems": SIX_OS})
    iam_two = [r for r in two.resources if r.type.startswith("aws:iam/")]
    iam_four = [r for r in four.resources if r.type.startswith("aws:iam/")]
    assert len(iam_two) == len(iam_four)
    assert per_account_region(four, 2, 4) < per_account_region(two, 2, 2)
