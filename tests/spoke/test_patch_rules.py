"""Every value a baseline uses is one SSM accepts: keys and OSes from botocore's model, values
from the documented per-OS table, checked on what the program actually renders."""

from __future__ import annotations

from typing import Any

import pytest

from components import ssm_model
from components.config import PatchingConfig
from components.spoke import patch_rules


def test_the_table_knows_only_real_operating_systems_and_keys() -> None:
    assert set(patch_rules.VALID_FILTER_VALUES) <= ssm_model.operating_systems()
    for keys in patch_rules.VALID_FILTER_VALUES.values():
        assert set(keys) <= ssm_model.patch_filter_keys()
    assert set(patch_rules.APPROVAL_FILTERS) == set(patch_rules.VALID_FILTER_VALUES) == set(patch_rules.SHORT_NAMES)


def test_every_default_operating_system_has_rules() -> None:
    required = {"AMAZON_LINUX_2", "AMAZON_LINUX_2023", "REDHAT_ENTERPRISE_LINUX", "UBUNTU", "WINDOWS"}
    defaults = set(PatchingConfig().operating_systems)
    assert required <= defaults
    assert defaults & {"SUSE", "DEBIAN", "ROCKY_LINUX"}
    assert patch_rules.unsupported(sorted(defaults)) == []


@pytest.mark.parametrize("os_name", sorted(patch_rules.APPROVAL_FILTERS))
def test_rules_use_valid_values(os_name: str) -> None:
    for key, values in patch_rules.APPROVAL_FILTERS[os_name].items():
        assert values, f"{os_name} {key}: empty filter"
        assert set(values) <= patch_rules.VALID_FILTER_VALUES[os_name][key], f"{os_name} {key}"


STAGEABLE = ["AMAZON_LINUX_2", "AMAZON_LINUX_2023", "REDHAT_ENTERPRISE_LINUX", "WINDOWS", "SUSE"]


@pytest.mark.parametrize("staged", [True, False])
def test_rendered_baselines_are_valid(render_child: Any, staged: bool) -> None:
    """Account baselines (staged approval; unstaged, the hub's override file carries them instead:
    tests/stacks/test_baseline_override.py) use only values SSM accepts."""
    systems = STAGEABLE if staged else [*STAGEABLE, "UBUNTU"]
    # unstaged account baselines no longer exist: the override file replaces them (nothing to check)
    child_capture = render_child(patching={"stagedApproval": staged, "operatingSystems": systems})
    levels = ssm_model.compliance_levels()
    baselines = [
        b
        for b in child_capture.of_type("aws:ssm/patchBaseline:PatchBaseline")
        if b.inputs["description"].endswith("(default baseline: every unregistered patch group)")
    ]
    assert {b.inputs["operatingSystem"] for b in baselines} == (set(systems) if staged else set())
    for baseline in baselines:
        os_name = baseline.inputs["operatingSystem"]
        assert os_name in ssm_model.operating_systems()
        assert baseline.inputs["approvedPatchesComplianceLevel"] in levels
        for rule in baseline.inputs["approvalRules"]:
            assert rule["complianceLevel"] in levels
            if os_name in patch_rules.APPROVED_WHEN_PUBLISHED:
                # SSM PatchRule: ApproveAfterDays/ApproveUntilDate not supported for Ubuntu/Debian Server
                assert rule.get("approveAfterDays") is None and rule.get("approveUntilDate") is None
                assert "approved when published" in baseline.inputs["description"]
            else:
                assert rule["approveAfterDays"] == 7  # the seed's default
            for patch_filter in rule["patchFilters"]:
                assert patch_filter["key"] in ssm_model.patch_filter_keys()
                assert set(patch_filter["values"]) <= patch_rules.VALID_FILTER_VALUES[os_name][patch_filter["key"]]


def test_seed_defaults_security_critical_important() -> None:
    for os_name in ("AMAZON_LINUX_2", "REDHAT_ENTERPRISE_LINUX"):
        assert patch_rules.APPROVAL_FILTERS[os_name]["SEVERITY"] == ("Critical", "Important")
        assert "Security" in patch_rules.APPROVAL_FILTERS[os_name]["CLASSIFICATION"]
    assert patch_rules.APPROVAL_FILTERS["WINDOWS"]["MSRC_SEVERITY"] == ("Critical", "Important")


def test_stages() -> None:
    days = {"dev": 0, "test": 3, "prod": 7, "default": 7}
    assert [(s.name, s.approve_after_days, s.patch_groups) for s in patch_rules.stages(days, False, "WINDOWS")] == [
        ("default", 7, ())
    ]
    staged = patch_rules.stages(days, True, "AMAZON_LINUX_2023")
    assert [(s.name, s.approve_after_days, s.patch_groups) for s in staged] == [
        ("default", 7, ()),
        ("dev", 0, ("Dev",)),
        ("test", 3, ("Test",)),
    ]


@pytest.mark.parametrize("os_name", ["UBUNTU", "DEBIAN"])
def test_ubuntu_and_debian_get_one_baseline_without_a_delay(os_name: str) -> None:
    days = {"dev": 0, "test": 3, "prod": 7, "default": 7}
    for staged in (False, True):
        assert patch_rules.stages(days, staged, os_name) == [patch_rules.Stage("default", None, ())]


def test_the_no_delay_operating_systems_are_the_ones_botocore_documents() -> None:
    shape = ssm_model._shapes().shape_for("PatchRule")
    for member in ("ApproveAfterDays", "ApproveUntilDate"):
        assert "Not supported for Debian Server or Ubuntu Server." in shape.members[member].documentation
    assert {"UBUNTU", "DEBIAN"} == patch_rules.APPROVED_WHEN_PUBLISHED


def test_staged_approval_with_ubuntu_or_debian_is_refused_with_the_reason() -> None:
    for os_name in ("UBUNTU", "DEBIAN"):
        with pytest.raises(ValueError, match=f"stagedApproval cannot stage {os_name}.*approved when published"):
            PatchingConfig.model_validate({"stagedApproval": True, "operatingSystems": ["WINDOWS", os_name]})
    assert PatchingConfig.model_validate({"stagedApproval": True, "operatingSystems": ["WINDOWS"]}).staged_approval
    assert "UBUNTU" in PatchingConfig.model_validate({"stagedApproval": False}).operating_systems
