"""Central discovery on the emulator's Organizations: the central stack finds its accounts as a child stack does,
config stays the override, and bad input is one line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from components.config import CentralConfig, load_stack_file, parse_config
from components.errors import ConfigError, DiscoveryError
from components.stacks.central_accounts import resolve_central
from components.stacks.shards import hash_shard
from patchctl.report.accounts import parse_account_names
from tests.stacks.test_accounts import organization  # noqa: F401  (the emulator's organization fixture)

REPO = Path(__file__).resolve().parents[2]


def central_cfg(management: str, **keys: Any) -> CentralConfig:
    """The example central config, with its account list replaced by ``keys``."""
    base = load_stack_file(REPO / "Pulumi.central.yaml")
    assert isinstance(base, CentralConfig)
    raw = {f"org-patching:{k}": v for k, v in base.model_dump(by_alias=True, exclude_none=True).items()}
    for key in ("accounts", "childStacks", "accountNames"):
        raw.pop(f"org-patching:{key}", None)
    raw["org-patching:centralAccountId"] = management
    raw.update({f"org-patching:{k}": v for k, v in keys.items()})
    cfg = parse_config(raw)
    assert isinstance(cfg, CentralConfig)
    return cfg


def test_the_central_stack_discovers_accounts_and_names_them(organization: dict[str, Any]) -> None:  # noqa: F811
    ids, management = organization["ids"], organization["org"]["MasterAccountId"]
    cfg = central_cfg(management, discover={"ous": [organization["prod"]]})
    resolved = resolve_central(cfg, organization["client"])
    assert resolved.accounts == sorted([ids["prod1"], ids["prodeu"]])
    assert resolved.account_names == {ids["prod1"]: "prod1", ids["prodeu"]: "prodeu"}
    # a new member of the discovered OU is covered at the next run, with nothing edited
    status = organization["client"].create_account(AccountName="newcomer", Email="new@example.com")
    newcomer = str(status["CreateAccountStatus"]["AccountId"])
    organization["client"].move_account(
        AccountId=newcomer, SourceParentId=organization["root"], DestinationParentId=organization["prod"]
    )
    again = resolve_central(cfg, organization["client"])
    assert newcomer in again.accounts and again.account_names[newcomer] == "newcomer"


def test_config_overrides_names_and_pins_shards(organization: dict[str, Any]) -> None:  # noqa: F811
    ids, management = organization["ids"], organization["org"]["MasterAccountId"]
    cfg = central_cfg(
        management,
        discover={"ous": [organization["workloads"]], "exclude": [ids["many0"]]},
        accountNames={ids["dev1"]: "payments-dev"},
        childStacks={"child-a": [ids["prod1"]], "child-b": [ids["dev1"]]},
    )
    resolved = resolve_central(cfg, organization["client"])
    assert ids["many0"] not in resolved.accounts and ids["closed"] not in resolved.accounts
    assert resolved.account_names[ids["dev1"]] == "payments-dev"  # the config's name wins
    stacks = resolved.account_stacks()
    assert set(stacks) == set(resolved.accounts)
    assert stacks[ids["prod1"]] == "child-a" and stacks[ids["dev1"]] == "child-b"  # pinned placements kept
    assert stacks[ids["many1"]] == hash_shard(ids["many1"], ["child-a", "child-b"])  # new ones by the stable rule


def test_listed_accounts_win_and_discovery_is_not_called() -> None:
    class Unreachable:
        def get_paginator(self, name: str) -> Any:
            raise AssertionError("a listed account list must not call Organizations")

    cfg = central_cfg("111111111111", accounts=["222222222222"], accountNames={"222222222222": "payments"})
    assert resolve_central(cfg, Unreachable()) is cfg


@pytest.mark.parametrize(
    ("keys", "key", "says"),
    [
        ({"accounts": ["2222"]}, "org-patching:accounts[0]", "12-digit"),
        ({"discover": {"ous": ["ou-abcd-12345678"], "exclude": ["22222222222x"]}}, "discover.exclude[0]", "12-digit"),
        ({"accounts": ["222222222222"], "accountNames": {"33333333333": "x"}}, "accountNames", "12-digit"),
        ({"accounts": ["222222222222"], "accountNames": {"333333333333": "x"}}, "accountNames", "not in"),
        ({"accounts": ["111111111111"]}, "org-patching:accounts[0]", "central account"),
        ({}, "org-patching:accounts", "or set org-patching:discover"),
        ({"accounts": ["222222222222"], "discover": {"ous": ["ou-abcd-12345678"]}}, "discover", "not both"),
    ],
)
def test_a_bad_account_in_config_is_one_line(keys: dict[str, Any], key: str, says: str) -> None:
    with pytest.raises(ConfigError) as error:
        central_cfg("111111111111", **keys)
    message = str(error.value)
    assert "\n" not in message and key in message and says in message, message


def test_a_name_for_an_account_discovery_did_not_find_is_one_line(organization: dict[str, Any]) -> None:  # noqa: F811
    management = organization["org"]["MasterAccountId"]
    cfg = central_cfg(management, discover={"ous": [organization["prod"]]}, accountNames={"999999999999": "ghost"})
    with pytest.raises(DiscoveryError) as error:
        resolve_central(cfg, organization["client"])
    assert "\n" not in str(error.value) and "999999999999" in str(error.value)


def test_the_central_program_covers_discovered_accounts_and_the_report_reads_their_names(
    organization: dict[str, Any],  # noqa: F811
) -> None:
    """Through the program (the offline render): Athena's projection, the outputs, the report's names."""
    from patchctl.stack_render import render_stack

    ids, management = organization["ids"], organization["org"]["MasterAccountId"]
    cfg = central_cfg(management, discover={"ous": [organization["prod"]]})
    capture = render_stack(cfg)
    expected = sorted([ids["prod1"], ids["prodeu"]])
    assert capture.outputs["accountNames"] == {ids["prod1"]: "prod1", ids["prodeu"]: "prodeu"}
    assert sorted(capture.outputs["accountStacks"]) == expected
    tables = [r for r in capture.resources if r.type == "aws:glue/catalogTable:CatalogTable"]
    assert tables
    for table in tables:
        assert table.inputs["parameters"]["projection.accountid.values"] == ",".join(expected)
    # the report names accounts from the central stack's outputs (pulumi stack output --json -s central)
    assert parse_account_names(capture.outputs, "central outputs") == capture.outputs["accountNames"]
