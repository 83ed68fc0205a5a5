"""``settings``: the tag policies' config, and its translation to and from the contract's vocabulary."""

from __future__ import annotations

import tag_contract as contract
from settings import PROFILE_SCHEMA, TAG_SCHEMA, TagSettings

CUSTOM = TagSettings.from_config(
    {
        "environmentTag": "Env",
        "patchGroupTag": "PG",
        "maintenanceWindowTag": "MW",
        "environments": ["Dev", "Prod"],
        "exemptionTags": ["skip"],
    }
)


def test_defaults_are_the_contract() -> None:
    assert TagSettings.from_config({}) == TagSettings()
    assert TagSettings().keys == (contract.ENVIRONMENT_TAG, contract.PATCH_GROUP_TAG, contract.MAINTENANCE_WINDOW_TAG)
    assert {key: value["default"] for key, value in TAG_SCHEMA.items()} == {
        "environmentTag": contract.ENVIRONMENT_TAG,
        "patchGroupTag": contract.PATCH_GROUP_TAG,
        "maintenanceWindowTag": contract.MAINTENANCE_WINDOW_TAG,
        "environments": list(contract.ENVIRONMENTS),
        "exemptionTags": list(contract.EXEMPTION_TAGS),
    }
    assert PROFILE_SCHEMA["instanceProfiles"]["default"] == []


def test_malformed_config_falls_back_to_the_contract() -> None:
    settings = TagSettings.from_config({"environmentTag": "", "environments": "Prod", "exemptionTags": [1]})
    assert settings == TagSettings()


def test_to_contract_renames_configured_keys_and_exemptions() -> None:
    assert CUSTOM.to_contract({"Env": "Prod", "PG": "Prod", "Name": "x"}) == {
        contract.ENVIRONMENT_TAG: "Prod",
        contract.PATCH_GROUP_TAG: "Prod",
        "Name": "x",
    }
    # the contract's own keys mean nothing when others are configured
    assert CUSTOM.to_contract({contract.ENVIRONMENT_TAG: "Prod", "install_patch": "no"}) == {}
    assert CUSTOM.to_contract({"skip": " NO "}) == {contract.EXEMPTION_TAGS[0]: " NO "}
    # an environment the organization does not allow is dropped, so the contract asks for the managed tags
    assert CUSTOM.to_contract({"Env": "Test"}) == {}
    assert CUSTOM.disallowed_environment({"Env": "test"}) == "test"
    assert CUSTOM.disallowed_environment({"Env": "prod"}) is None


def test_from_contract_and_messages_use_the_configured_keys() -> None:
    fixed = {contract.ENVIRONMENT_TAG: "Dev", contract.PATCH_GROUP_TAG: "Dev", contract.MAINTENANCE_WINDOW_TAG: "w"}
    assert CUSTOM.from_contract(fixed, {"Env": "Dev", "MW": "mine"}) == {"Env": "Dev", "MW": "mine", "PG": "Dev"}
    assert CUSTOM.say("missing tag 'Patch Group'; tag 'environment'='x'") == "missing tag 'PG'; tag 'Env'='x'"
    assert CUSTOM.exemption_hint() == "exempt it with the tag skip=no"
    assert TagSettings(exemption_tags=()).exemption_hint() == "exemptions are disabled in this organization"
