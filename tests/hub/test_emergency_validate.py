"""The emergency request validator/planner as a pure function (the state machine tests run the
same code through the interpreter; here the cases that need no emulator)."""

from __future__ import annotations

import importlib.util
import re
import sys
from typing import Any

import pytest
import tag_contract

from components import naming
from components.config import CentralConfig
from components.hub.emergency_patching import VALIDATE_SOURCE, validate_environment

_spec = importlib.util.spec_from_file_location("emergency_validate_app_pure", VALIDATE_SOURCE)
assert _spec and _spec.loader
app = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = app
_spec.loader.exec_module(app)

CFG = CentralConfig.model_validate(
    {
        "stack": "central",
        "org_id": "o-abcdefghij",
        "central_account_id": "123456789012",
        "home_region": "eu-west-1",
        "regions": ["eu-west-1", "eu-central-1"],
        "accounts": ["111111111111"],
        "bootstrap": {"enabled": False},  # tested in test_deploy_role_bootstrap.py
    }
)
ADMIN = "arn:aws:iam::123456789012:role/org-patching-automation-administration"
SETTINGS = app.Settings.from_env(validate_environment(CFG, ADMIN))


def plan(**request: Any) -> dict[str, Any]:
    return app.plan({"patching_operation": "Install", "targets": {"accounts": ["111111111111"]}, **request}, SETTINGS)


def test_defaults_come_from_the_stack_config() -> None:
    result = plan()
    assert result["wave_names"] == ["Dev", "Test", "Prod"]
    assert [w["approval"] for w in result["waves"]] == [False, False, True]
    [location] = result["target_locations"]
    assert location == {
        "Accounts": ["111111111111"],
        "Regions": ["eu-west-1", "eu-central-1"],
        "TargetLocationMaxConcurrency": "10",
        "TargetLocationMaxErrors": "1",
        "ExecutionRoleName": naming.AUTOMATION_EXECUTION_ROLE,
    }
    assert result["poll_seconds"] == 60
    assert result["approval_timeout_seconds"] == 24 * 3600


def test_each_wave_runs_its_patch_group_with_the_requested_options() -> None:
    result = plan(include_asg=True, operation_post_patching="NoReboot", retain_healthy_percentage="75", max_errors="2")
    test_wave = result["waves"][1]
    standalone, asg = test_wave["runbooks"]
    assert standalone == {
        "DocumentName": naming.RUNBOOK_STANDALONE,
        "Parameters": {
            "AutomationAssumeRole": [ADMIN],
            "PatchGroup": ["Test"],
            "Operation": ["Install"],
            "RebootOption": ["NoReboot"],
            "MaxConcurrency": ["10%"],
            "MaxErrors": ["2"],
        },
    }
    assert asg["DocumentName"] == naming.RUNBOOK_ASG
    assert asg["Parameters"]["MinHealthyPercentage"] == ["75"]
    assert asg["Parameters"]["PatchGroup"] == ["Test"] and "MaintenanceWindow" not in asg["Parameters"]
    # SSM rejects empty parameter values: an absent override list is left out, not sent as ""
    with_list = plan(run_patch_baseline_install_override_list="s3://lists/prod.yaml")["waves"][0]["runbooks"][0]
    assert with_list["Parameters"]["InstallOverrideList"] == ["s3://lists/prod.yaml"]


def test_wave_names_are_the_patch_groups_of_the_tag_contract() -> None:
    assert set(app.ENVIRONMENTS) == set(tag_contract.PATCH_GROUPS)
    result = plan(waves=["Default", "Prod"], include_asg="Yes")
    for wave in result["waves"]:
        for runbook in wave["runbooks"]:
            assert runbook["Parameters"]["PatchGroup"] == [wave["name"]]


def test_large_target_lists_are_split_into_locations_of_50() -> None:
    accounts = [f"{100000000000 + i}" for i in range(120)]
    result = plan(
        targets={"accounts": accounts, "organizational_units": ["ou-ab12-abcdefgh"], "regions": ["eu-west-1"]}
    )
    sizes = [len(location["Accounts"]) for location in result["target_locations"]]
    assert sizes == [50, 50, 21]
    assert result["target_locations"][-1]["Accounts"][-1] == "ou-ab12-abcdefgh"
    with pytest.raises(app.InvalidEmergencyInput, match=r"^targets: 5001 accounts and OUs"):
        plan(targets={"accounts": [f"{100000000000 + i}" for i in range(5001)]})


def test_configured_approvals_cannot_be_removed() -> None:
    result = plan(approval={"required_before": []})
    assert [w["approval"] for w in result["waves"]] == [False, False, True]


@pytest.mark.parametrize(
    ("request_", "message"),
    [
        ([], r"^input: \[\] is not a JSON object"),
        ({"targets": {"accounts": ["111111111111"]}}, r"^patching_operation: is required"),
        ({"patching_operation": "Install", "targets": {"accounts": ["111111111111", "111111111111"]}}, r"twice"),
        ({"patching_operation": "Install", "targets": {"accounts": ["1"]}, "waves": []}, r"^waves: \[\] is empty"),
        ({"patching_operation": "Install", "targets": {"accounts": ["111111111111"], "ous": []}}, r"^targets.ous"),
        ({"patching_operation": "Install", "targets": {"accounts": ["111111111111"]}, "poll_seconds": True}, r"poll"),
    ],
)
def test_bad_requests_name_the_field(request_: Any, message: str) -> None:
    with pytest.raises(app.InvalidEmergencyInput, match=message):
        app.plan(request_, SETTINGS)


def test_runbook_parameters_are_declared_by_the_spoke_runbooks() -> None:
    """Every parameter a wave passes exists in the spoke's runbook, with an allowed value."""
    runbooks = pytest.importorskip("components.spoke.runbooks", reason="the spoke runbooks are not in this tree yet")
    import yaml

    for wave in plan(include_asg="Yes", waves=list(app.ENVIRONMENTS))["waves"]:
        for runbook in wave["runbooks"]:
            declared = yaml.safe_load(runbooks.render_runbook(runbook["DocumentName"]))["parameters"]
            for name, values in runbook["Parameters"].items():
                assert name in declared, f"{name} is not a parameter of {runbook['DocumentName']}"
                for value in values:
                    if "allowedValues" in declared[name]:
                        assert value in declared[name]["allowedValues"], (name, value)
                    if "allowedPattern" in declared[name]:
                        assert re.search(declared[name]["allowedPattern"], value), (name, value)
