"""The organization's baselines as one BaselineOverride file in the hub (components/spoke/baseline_override.py)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from components.config import PatchingConfig
from components.runbooks import baseline_choice
from components.spoke import baseline_override, patch_rules


def test_the_file_is_written_in_the_hub_encrypted_and_every_runbook_copy_defaults_to_it(
    child_capture: Any, central_capture: Any
) -> None:
    compliance = central_capture.outputs["compliance"]
    (written,) = child_capture.of_type("aws:s3/bucketObjectv2:BucketObjectv2")
    assert child_capture.account_of(written) == "111111111111"  # the central account, no role assumed
    assert written.inputs["bucket"] == compliance["patchListBucket"]
    assert written.inputs["key"] == "baseline-overrides/child.json"
    assert written.inputs["region"] == central_capture.outputs["homeRegion"]
    assert (written.inputs["serverSideEncryption"], written.inputs["kmsKeyId"]) == ("aws:kms", compliance["keyArn"])
    uri = f"s3://{compliance['patchListBucket']}/baseline-overrides/child.json"
    # every default window passes it to the hub's shared runbooks (they carry no shard's default)
    tasks = child_capture.of_type("aws:ssm/maintenanceWindowTask:MaintenanceWindowTask")
    assert tasks
    for task in tasks:
        parameters = task.inputs["taskInvocationParameters"]["automationParameters"]["parameters"]
        assert {p["name"]: p["values"][0] for p in parameters}["BaselineOverride"] == uri
    for entry in child_capture.outputs["accounts"].values():
        for regional in entry["regions"].values():
            assert {uri} == {value for by_os in regional["patchGroups"].values() for value in by_os.values()}


def test_the_file_holds_the_account_baselines_rules_and_botocore_accepts_them(child_capture: Any) -> None:
    (written,) = child_capture.of_type("aws:s3/bucketObjectv2:BucketObjectv2")
    entries = json.loads(written.inputs["content"])
    patching = PatchingConfig()
    assert [e["OperatingSystem"] for e in entries] == patching.operating_systems
    baseline_override.check_against_botocore(entries)
    for entry in entries:
        (rule,) = entry["ApprovalRules"]["PatchRules"]
        filters = {f["Key"]: tuple(f["Values"]) for f in rule["PatchFilterGroup"]["PatchFilters"]}
        assert filters == dict(patch_rules.APPROVAL_FILTERS[entry["OperatingSystem"]])
        assert rule["ComplianceLevel"] == entry["ApprovedPatchesComplianceLevel"] == "CRITICAL"
        if entry["OperatingSystem"] in patch_rules.APPROVED_WHEN_PUBLISHED:
            assert "ApproveAfterDays" not in rule  # SSM refuses a delay for Ubuntu/Debian
        else:
            assert rule["ApproveAfterDays"] == 7


def test_botocore_refuses_a_broken_entry() -> None:
    entry = baseline_override.baseline_entry("WINDOWS", PatchingConfig())
    entry["ApprovalRules"]["PatchRules"][0]["ApproveAfterDays"] = "seven"
    with pytest.raises(baseline_override.BaselineOverrideError, match="WINDOWS"):
        baseline_override.check_against_botocore([entry])


@pytest.mark.parametrize("stack", ["child$x", "a'b", "", "x" * 101])
def test_a_stack_name_aws_refuses_in_a_file_name_is_one_clear_error(stack: str) -> None:
    with pytest.raises(baseline_override.BaselineOverrideError, match="cannot name a BaselineOverride file"):
        baseline_override.override_key(stack)


def test_staged_approval_keeps_the_baselines_in_the_accounts(render_child: Any) -> None:
    capture = render_child(patching={"stagedApproval": True, "operatingSystems": ["WINDOWS"]})
    assert not capture.of_type("aws:s3/bucketObjectv2:BucketObjectv2")
    assert capture.of_type("aws:ssm/patchBaseline:PatchBaseline")
    # the windows pass no BaselineOverride (the hub's shared runbooks default to none)
    tasks = capture.of_type("aws:ssm/maintenanceWindowTask:MaintenanceWindowTask")
    assert tasks
    for task in tasks:
        parameters = task.inputs["taskInvocationParameters"]["automationParameters"]["parameters"]
        assert "BaselineOverride" not in {p["name"] for p in parameters}


def test_an_install_override_list_drops_the_baseline_override() -> None:
    choose = baseline_choice.choose_baseline_override
    assert choose({"BaselineOverride": "s3://b/k.json", "InstallOverrideList": ""}, None) == {
        "baselineOverride": "s3://b/k.json"
    }
    assert choose({"BaselineOverride": "s3://b/k.json", "InstallOverrideList": "s3://b/l.yaml"}, None) == {
        "baselineOverride": ""
    }
