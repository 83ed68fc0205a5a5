"""Fuzz the emergency request: the validation Lambda's handler with any JSON, and its request model (``plan``)
with near-valid requests whose fields are each valid, slightly wrong, or anything.

Invariants: only ``InvalidEmergencyInput`` escapes (Step Functions names the error after it) with a one-line
message; a request the model accepts is well-formed: every value it hands to SSM has the exact (ASCII) form SSM
takes, since nothing after this function checks it again.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from components.config import CentralConfig
from components.hub.emergency_patching import validate_environment
from tests.fuzz import invariants, mutations, strategies
from tests.fuzz.emulator import context as fuzz_context
from tests.fuzz.emulator import lambda_module

HANDLER_TARGET = "lambda emergency_validate"
MODEL_TARGET = "emergency request model (plan)"
app = lambda_module("emergency_validate")
CFG = CentralConfig.model_validate(
    {
        "stack": "central",
        "org_id": "o-abcdefghij",
        "central_account_id": "123456789012",
        "home_region": "eu-west-1",
        "regions": ["eu-west-1", "eu-central-1"],
        "accounts": ["111111111111"],
        "bootstrap": {"enabled": False},  # only the emergency hub is exercised here
    }
)
ENVIRONMENT = validate_environment(
    CFG, "arn:aws:iam::123456789012:role/org-patching-automation-administration", "org-patching-patch-logs"
)
SETTINGS = app.Settings.from_env(ENVIRONMENT)

# What SSM's StartAutomationExecution takes, written independently of the model's own patterns.
ACCOUNT = re.compile(r"[0-9]{12}")
OU = re.compile(r"ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}|r-[0-9a-z]{4,32}")
REGION = re.compile(r"[a-z]{2}(-[a-z]+)+-[0-9]")
RATE = re.compile(r"[0-9]+%?")


@pytest.fixture(scope="module", autouse=True)
def lambda_environment() -> Iterator[None]:
    mp = pytest.MonkeyPatch()
    for key, value in ENVIRONMENT.items():
        mp.setenv(key, value)
    yield
    mp.undo()


ous = strategies.mutated(st.sampled_from(("ou-ab12-abcdefgh", "r-ab12")))
requests = strategies.with_extra(
    strategies.maybe_missing(
        {
            "patching_operation": strategies.mutated(st.sampled_from(("Scan", "Install"))),
            "operation_post_patching": strategies.mutated(st.sampled_from(("RebootIfNeeded", "NoReboot"))),
            "include_asg": st.one_of(st.booleans(), strategies.mutated(st.sampled_from(("Yes", "No")))),
            "retain_healthy_percentage": st.one_of(
                st.integers(-5, 105), strategies.mutated(st.sampled_from(("90", "0", "100"))), st.just("²")
            ),
            "refresh_asg_instances": strategies.mutated(st.just("Yes")),
            "run_patch_baseline_install_override_list": strategies.mutated(
                st.sampled_from(("", "https://lists.example.com/prod.yaml", "s3://lists/prod.yaml"))
            ),
            "targets": st.one_of(
                strategies.with_extra(
                    strategies.maybe_missing(
                        {
                            "accounts": st.lists(strategies.account_ids, max_size=3),
                            "organizational_units": st.lists(ous, max_size=2),
                            "regions": st.lists(strategies.regions, max_size=3),
                        }
                    )
                ),
                strategies.json_values,
            ),
            "waves": st.one_of(st.lists(strategies.environments, max_size=4), strategies.json_values),
            "env": strategies.environments,
            "approval": st.one_of(
                st.fixed_dictionaries({"required_before": st.lists(strategies.environments, max_size=2)}),
                strategies.json_values,
            ),
            "max_concurrency": strategies.mutated(st.sampled_from(("10%", "5", "100%"))),
            "max_errors": strategies.mutated(st.sampled_from(("5%", "0", "1"))),
            "target_location_max_concurrency": strategies.mutated(st.sampled_from(("10", "50%"))),
            "target_location_max_errors": strategies.mutated(st.sampled_from(("1", "0%"))),
            "poll_seconds": st.one_of(st.integers(-10, 4000), strategies.json_scalars),
        }
    )
)


#: The documented request (the module docstring of lambda_src/emergency_validate/app.py), mutated by the cases.
DOCUMENTED = {
    "patching_operation": "Install",
    "operation_post_patching": "RebootIfNeeded",
    "include_asg": "No",
    "retain_healthy_percentage": "90",
    "refresh_asg_instances": "Yes",
    "run_patch_baseline_install_override_list": "",
    "targets": {"accounts": ["111122223333"], "organizational_units": ["ou-ab12-abcdefgh"], "regions": ["eu-west-1"]},
    "waves": ["Dev", "Test", "Prod"],
    "approval": {"required_before": ["Prod"]},
    "max_concurrency": "10%",
    "max_errors": "5%",
    "target_location_max_concurrency": "10",
    "target_location_max_errors": "1",
    "poll_seconds": 60,
}


def well_formed(result: dict[str, Any]) -> bool:
    request = result["request"]
    rates = [request[k] for k in ("max_concurrency", "max_errors")]
    rates += [request[k] for k in ("target_location_max_concurrency", "target_location_max_errors")]
    entries = request["targets"]["accounts_and_ous"]
    healthy = request["retain_healthy_percentage"]
    return (
        all(ACCOUNT.fullmatch(e) or OU.fullmatch(e) for e in entries)
        and all(REGION.fullmatch(r) for r in request["targets"]["regions"])
        and all(RATE.fullmatch(r) for r in rates)
        and isinstance(healthy, int)
        and 0 <= healthy <= 100
        and all(len(location["Accounts"]) <= app.ACCOUNTS_PER_LOCATION for location in result["target_locations"])
        and set(result["wave_names"]) <= set(app.ENVIRONMENTS)
    )


@invariants.fuzz_settings(quick_examples=60)
@given(request=st.one_of(mutations.mutate(DOCUMENTED), requests))
@example(request={"patching_operation": "Install", "targets": {"accounts": ["111111111111\n"]}})
@example(request={"patching_operation": "Install", "targets": {"accounts": ["١١١١١١١١١١١١"]}})
@example(request={"patching_operation": "Scan", "targets": {"accounts": ["111111111111"]}, "max_errors": "5\n"})
@example(request={"patching_operation": "Scan", "targets": {"accounts": ["1" * 12]}, "retain_healthy_percentage": "²"})
def test_emergency_request_model(request: dict[str, Any]) -> None:
    case = invariants.case(MODEL_TARGET)
    try:
        result = app.plan(request, SETTINGS)
    except app.InvalidEmergencyInput as error:
        case.check(invariants.NO_ESCAPE, True)
        case.check(invariants.ONE_LINE, invariants.one_line(str(error)), str(error))
        return
    except Exception as error:
        case.check(invariants.NO_ESCAPE, False, f"{type(error).__name__}: {error}")
        raise
    case.check(invariants.NO_ESCAPE, True)
    case.check(invariants.WELL_FORMED, well_formed(result), result["request"])


@invariants.fuzz_settings(quick_examples=60)
@given(event=st.one_of(strategies.json_values, requests))
def test_emergency_validate_handler(event: Any) -> None:
    case = invariants.case(HANDLER_TARGET)
    try:
        result = app.handler(event, fuzz_context("org-patching-emergency"))
    except app.InvalidEmergencyInput as error:
        case.check(invariants.NO_ESCAPE, True)
        case.check(invariants.ONE_LINE, invariants.one_line(str(error)), str(error))
        return
    except Exception as error:
        case.check(invariants.NO_ESCAPE, False, f"{type(error).__name__}: {error}")
        raise
    case.check(invariants.NO_ESCAPE, isinstance(result, dict) and result["wave_count"] >= 1)
