"""The resource budget: <= 22.0 resources per account-region (2 accounts x 4 regions, 6 OSes) for what
enrollment, the real-AWS fixes (each role's policy a RolePolicy) and the patch events deliver, so the notices'
(<= 0.75) and the gates' (<= 0.25) additions keep the total within the seed's 23."""

from __future__ import annotations

import json
from typing import Any

from components import naming

REGIONS = ["us-east-1", "eu-west-1", "eu-central-1", "ap-southeast-2"]
SIX_OS = ["AMAZON_LINUX_2", "AMAZON_LINUX_2023", "REDHAT_ENTERPRISE_LINUX", "UBUNTU", "WINDOWS", "SUSE"]
BUDGET = 22.0


def per_account_region(capture: Any, accounts: int, regions: int) -> float:
    aws = [r for r in capture.resources if r.custom and r.type.startswith("aws:")]
    return len(aws) / (accounts * regions)


#: Issue 16 items 1-2 (pre-patch notices, the child functions' alarm): at most 0.75 per account-region.
NOTICES_COMPONENTS = ("org-patching:spoke:NoticeReader", "org-patching:spoke:FunctionsAlarm")
NOTICES_BUDGET = 0.75


def notices_per_account_region(capture: Any, accounts: int, regions: int) -> float:
    """The share of the notices' reader role (and its policy) and the functions alarm
    (``components/spoke/notice_reader.py``, ``components/spoke/functions_alarm.py``)."""
    by_urn = capture.by_urn
    aws = [r for r in capture.resources if r.custom and r.type.startswith("aws:")]
    mine = [r for r in aws if by_urn[r.parent].type in NOTICES_COMPONENTS]
    return len(mine) / (accounts * regions)


def test_two_accounts_four_regions_six_os_within_budget(render_child: Any) -> None:
    capture = render_child(regions=REGIONS, patching={"operatingSystems": SIX_OS})
    notices = notices_per_account_region(capture, 2, len(REGIONS))
    assert notices == 0.75 <= NOTICES_BUDGET  # one reader role, its policy and one alarm per account
    assert per_account_region(capture, 2, len(REGIONS)) - notices <= BUDGET
    # ...and it is the full spoke, not a trimmed one: both runbooks' tasks in every region (the runbooks are the
    # hub's shared copies), every role with its policy.
    assert not capture.of_type("aws:ssm/document:Document")
    tasks = capture.of_type("aws:ssm/maintenanceWindowTask:MaintenanceWindowTask")
    assert len(tasks) == 2 * len(REGIONS) * 2
    assert {t.inputs["taskArn"].rsplit("/", 1)[1] for t in tasks} == {naming.RUNBOOK_STANDALONE, naming.RUNBOOK_ASG}
    roles, policies = capture.of_type("aws:iam/role:Role"), capture.of_type("aws:iam/rolePolicy:RolePolicy")
    assert len(roles) == len(policies) == 2 * 9  # with the notices' reader role
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
