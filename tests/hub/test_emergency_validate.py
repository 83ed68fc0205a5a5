"""The emergency request validator/planner as a pure function (the state machine tests run the
same code through the interpreter; here the cases that need no emulator)."""

from __future__ import annotations

import importlib
import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import tag_contract

from components import naming
from components.config import CentralConfig
from components.hub.emergency_patching import validate_environment
from components.runbooks import render_runbook

app = importlib.import_module("lambda_src.emergency_validate.app")

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
PATCH_LOGS = "org-patching-patch-logs-123456789012"
SETTINGS = app.Settings.from_env(validate_environment(CFG, ADMIN, PATCH_LOGS))


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
        # OU targets include their nested OUs (SSM's default is the OU's own accounts only)
        "IncludeChildOrganizationUnits": True,
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
            "OutputS3BucketName": [PATCH_LOGS],
        },
        "TargetLocations": result["target_locations"],  # each start names its locations
    }
    assert asg["DocumentName"] == naming.RUNBOOK_ASG and asg["TargetLocations"] == result["target_locations"]
    assert asg["Parameters"]["MinHealthyPercentage"] == ["75"]
    assert asg["Parameters"]["PatchGroup"] == ["Test"] and "MaintenanceWindow" not in asg["Parameters"]
    # SSM rejects empty parameter values: an absent override list is left out, not sent as ""
    with_list = plan(run_patch_baseline_install_override_list="s3://lists/prod.yaml")["waves"][0]["runbooks"][0]
    assert with_list["Parameters"]["InstallOverrideList"] == ["s3://lists/prod.yaml"]


INSTANCE = "arn:aws:ec2:{region}:{account}:instance/{id}"


def test_an_instance_list_starts_one_automation_per_account_and_region_with_exactly_those_instances() -> None:
    instances = [
        INSTANCE.format(region="eu-west-1", account="111111111111", id="i-0123456789abcdef0"),
        INSTANCE.format(region="eu-west-1", account="111111111111", id="i-0123456789abcdef1"),
        INSTANCE.format(region="us-east-1", account="222222222222", id="i-0fedcba9876543210"),
    ]
    finding = "arn:aws:inspector2:eu-west-1:111111111111:finding/0123456789abcdef0123456789abcdef"
    result = app.plan(
        {
            "patching_operation": "Install",
            "env": "Prod",
            "targets": {"instances": instances},
            "findings": [finding],
            "vulnerabilities": ["CVE-2024-6387"],
        },
        SETTINGS,
    )
    [wave] = result["waves"]
    assert (wave["name"], wave["approval"]) == ("Prod", True)  # the configured approval still applies
    assert [(r["TargetLocations"][0]["Accounts"], r["TargetLocations"][0]["Regions"]) for r in wave["runbooks"]] == [
        (["111111111111"], ["eu-west-1"]),
        (["222222222222"], ["us-east-1"]),
    ]
    assert [r["Parameters"]["InstanceIds"] for r in wave["runbooks"]] == [
        ["i-0123456789abcdef0", "i-0123456789abcdef1"],
        ["i-0fedcba9876543210"],
    ]
    assert {r["DocumentName"] for r in wave["runbooks"]} == {naming.RUNBOOK_STANDALONE}
    assert wave["runbooks"][0]["TargetLocations"][0]["ExecutionRoleName"] == naming.AUTOMATION_EXECUTION_ROLE
    assert result["request"]["findings"] == [finding] and result["request"]["vulnerabilities"] == ["CVE-2024-6387"]
    assert result["request"]["instances"] == instances


@pytest.mark.parametrize(
    ("request_", "message"),
    [
        ({"targets": {"instances": ["i-0123456789abcdef0"]}, "env": "Dev"}, "is not an EC2 instance ARN"),
        (
            {"targets": {"instances": [INSTANCE.format(region="eu-west-1", account="1" * 12, id="i-01234567")]}},
            "^waves: with targets.instances give exactly one wave",
        ),
        (
            {
                "targets": {
                    "instances": [INSTANCE.format(region="eu-west-1", account="1" * 12, id="i-01234567")],
                    "accounts": ["111111111111"],
                },
                "env": "Dev",
            },
            "^targets: give instances",
        ),
        (
            {
                "targets": {"instances": [INSTANCE.format(region="eu-west-1", account="1" * 12, id="i-01234567")]},
                "env": "Dev",
                "include_asg": "Yes",
            },
            "^include_asg: is not supported with targets.instances",
        ),
        ({"targets": {"accounts": ["111111111111"]}, "vulnerabilities": ["CVE 2024"]}, "is not a vulnerability id"),
    ],
)
def test_a_bad_instance_request_is_one_line(request_: dict[str, Any], message: str) -> None:
    with pytest.raises(app.InvalidEmergencyInput, match=message) as refused:
        app.plan({"patching_operation": "Install", **request_}, SETTINGS)
    assert len(str(refused.value).splitlines()) == 1


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


def test_runbook_parameters_are_declared_by_the_runbooks() -> None:
    """Every parameter a wave passes exists in the spoke's runbook, with an allowed value."""
    import yaml

    for wave in plan(include_asg="Yes", waves=list(app.ENVIRONMENTS))["waves"]:
        for runbook in wave["runbooks"]:
            declared = yaml.safe_load(render_runbook(runbook["DocumentName"]))["parameters"]
            for name, values in runbook["Parameters"].items():
                assert name in declared, f"{name} is not a parameter of {runbook['DocumentName']}"
                for value in values:
                    if "allowedValues" in declared[name]:
                        assert value in declared[name]["allowedValues"], (name, value)
                    if "allowedPattern" in declared[name]:
                        assert re.search(declared[name]["allowedPattern"], value), (name, value)


SCHEMA_FILE = Path(__file__).resolve().parents[2] / "schemas" / "emergency-request.schema.json"
VALID: list[dict[str, Any]] = [
    {"patching_operation": "Scan", "targets": {"accounts": ["111111111111"]}},
    {
        "env": "Test",
        "include_asg": "Yes",
        "retain_healthy_percentage": "90",
        "refresh_asg_instances": "Yes",
        "patching_operation": "Install",
        "operation_post_patching": "RebootIfNeeded",
        "run_patch_baseline_install_override_list": "",
        "targets": {"accounts": ["111111111111"]},
        "poll_seconds": 0,
    },
    {
        "patching_operation": "Install",
        "include_asg": True,
        "targets": {"organizational_units": ["ou-ab12-abcdefgh", "r-ab12"], "regions": ["eu-west-1"]},
        "waves": ["Dev", "Test", "Prod", "Default"],
        "approval": {"required_before": ["Test"]},
        "max_concurrency": 10,
        "max_errors": "0",
        "target_location_max_concurrency": "10%",
        "target_location_max_errors": "1",
    },
]
#: Invalid in shape: the model and the schema both refuse them.
INVALID_SHAPES: list[dict[str, Any]] = [
    {"patching_operation": "Patch", "targets": {"accounts": ["111111111111"]}},
    {"targets": {"accounts": ["111111111111"]}},
    {"patching_operation": "Scan"},
    {"patching_operation": "Scan", "targets": {"accounts": ["12345"]}},
    {"patching_operation": "Scan", "targets": {"accounts": ["111111111111", "111111111111"]}},
    {"patching_operation": "Scan", "targets": {"accounts": ["111111111111"], "ous": []}},
    {"patching_operation": "Scan", "targets": {"accounts": ["111111111111"]}, "waves": []},
    {"patching_operation": "Scan", "targets": {"accounts": ["111111111111"]}, "waves": ["Staging"]},
    {"patching_operation": "Scan", "targets": {"accounts": ["111111111111"]}, "env": None},
    {"patching_operation": "Scan", "targets": {"accounts": ["111111111111"]}, "max_errors": "200%"},
    {"patching_operation": "Scan", "targets": {"accounts": ["111111111111"]}, "poll_seconds": -1},
    {"patching_operation": "Scan", "targets": {"accounts": ["111111111111"]}, "include_asg": "maybe"},
    {"patching_operation": "Scan", "targets": {"accounts": ["111111111111"]}, "pach_operation": "Install"},
]


def test_the_schema_file_is_the_request_model() -> None:
    """schemas/emergency-request.schema.json documents the request: it is the model's own JSON Schema."""
    expected = json.dumps(app.EmergencyRequest.model_json_schema(), indent=2) + "\n"
    assert SCHEMA_FILE.read_text() == expected, (
        'regenerate: .venv/bin/python -c "import json, importlib; m = importlib.import_module('
        "'lambda_src.emergency_validate.app').EmergencyRequest; print(json.dumps(m.model_json_schema(), indent=2))\""
        " > schemas/emergency-request.schema.json"
    )


@pytest.mark.parametrize("request_", VALID)
def test_valid_requests_pass_the_schema_and_the_model(request_: dict[str, Any]) -> None:
    jsonschema.Draft202012Validator(json.loads(SCHEMA_FILE.read_text())).validate(request_)
    assert plan(**request_)["waves"]


@pytest.mark.parametrize("request_", INVALID_SHAPES)
def test_requests_of_the_wrong_shape_fail_the_schema_and_the_model(request_: dict[str, Any]) -> None:
    validator = jsonschema.Draft202012Validator(json.loads(SCHEMA_FILE.read_text()))
    assert not validator.is_valid(request_)
    with pytest.raises(app.InvalidEmergencyInput):
        app.plan(request_, SETTINGS)


@pytest.mark.parametrize(
    ("request_", "message"),
    [
        ({"patching_operation": None}, "patching_operation: is required (one of Scan, Install)"),
        ({"env": "Dev", "waves": ["Dev"], "poll_seconds": "x"}, "waves: give either 'env'"),
        ({"patching_operation": "Scan", "typo": 1, "waves": []}, "typo: 1 is not a known field"),
        ({"targets": "x"}, "targets: 'x' is required: {"),
        ({"targets": {"accounts": ["111111111111"], "regions": ["moon-1"]}}, r"targets.regions[0]: 'moon-1' is not a"),
        ({"approval": []}, "approval: [] is not an object like"),
        ({"approval": {"required_before": ["Prod"], "by": "me"}}, "approval.by: 'me' is not a known field (only"),
        ({"targets": {"accounts": [1]}}, "targets.accounts: [1] is not a list of strings"),
        ({"max_concurrency": True}, "max_concurrency: True is not a count or 1%-100%"),
        ({"retain_healthy_percentage": 100.0}, "retain_healthy_percentage: 100.0 is not a whole number 0-100"),
        ({"refresh_asg_instances": "no"}, "refresh_asg_instances: 'no' is not supported: ASGs are always refreshed"),
        ({"targets": {"regions": ["eu-west-1"]}}, "targets: name at least one account or organizational unit"),
        ({"targets": {"accounts": ["111111111111"], "regions": []}}, "targets.regions: no Regions given"),
    ],
)
def test_each_problem_is_one_line_naming_the_field_and_the_value(request_: dict[str, Any], message: str) -> None:
    with pytest.raises(app.InvalidEmergencyInput) as raised:
        plan(**request_)
    assert str(raised.value).startswith(message), str(raised.value)


@pytest.mark.parametrize("bucket", ["", "ab", "Bad_Bucket", "-starts-with-dash"])
def test_an_empty_or_invalid_patch_log_bucket_is_a_configuration_error(bucket: str) -> None:
    # SendCommand refuses an OutputS3BucketName shorter than 3 characters: never plan a wave with one.
    environment = {**validate_environment(CFG, ADMIN, PATCH_LOGS), "PATCH_LOG_BUCKET": bucket}
    with pytest.raises(ValueError, match="PATCH_LOG_BUCKET"):
        app.Settings.from_env(environment)
    with pytest.raises(ValueError, match="patch-log bucket is required"):
        validate_environment(CFG, ADMIN, "")
