"""Account discovery: the pure selection, and the boto3 adapter against moto's Organizations."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from components.config import parse_config
from components.errors import DiscoveryError
from components.stacks.accounts import OrgAccount, child_accounts, discover_accounts, select_accounts

CENTRAL = "111111111111"


def test_select_keeps_active_children_once_sorted() -> None:
    found = [
        OrgAccount("333333333333", "b", "ACTIVE"),
        OrgAccount(CENTRAL, "central", "ACTIVE"),
        OrgAccount("222222222222", "a", "ACTIVE"),
        OrgAccount("444444444444", "gone", "SUSPENDED"),
        OrgAccount("555555555555", "closing", "PENDING_CLOSURE"),
        OrgAccount("666666666666", "excluded", "ACTIVE"),
        OrgAccount("222222222222", "a", "ACTIVE"),
    ]
    chosen = select_accounts(found, CENTRAL, ["666666666666"])
    assert [a.id for a in chosen] == ["222222222222", "333333333333"]


def child_cfg(ous: list[str], exclude: list[str] | None = None, central: str = CENTRAL) -> Any:
    return parse_config(
        {
            "org-patching:stack": "child",
            "org-patching:orgId": "o-exampleorg01",
            "org-patching:centralAccountId": central,
            "org-patching:homeRegion": "us-east-1",
            "org-patching:hubStack": "org/org-patching/central",
            "org-patching:regions": ["us-east-1"],
            "org-patching:discover": {"ous": ous, "exclude": exclude or []},
        }
    )


@pytest.fixture
def organization(moto_aws: None) -> dict[str, Any]:
    """An organization: root > workloads > (dev, prod > nested); accounts in each, one closed."""
    client = boto3.client("organizations", region_name="us-east-1")
    org = client.create_organization(FeatureSet="ALL")["Organization"]
    root = client.list_roots()["Roots"][0]["Id"]
    workloads = client.create_organizational_unit(ParentId=root, Name="workloads")["OrganizationalUnit"]["Id"]
    dev = client.create_organizational_unit(ParentId=workloads, Name="dev")["OrganizationalUnit"]["Id"]
    prod = client.create_organizational_unit(ParentId=workloads, Name="prod")["OrganizationalUnit"]["Id"]
    nested = client.create_organizational_unit(ParentId=prod, Name="prod-eu")["OrganizationalUnit"]["Id"]

    def account(name: str, parent: str) -> str:
        status = client.create_account(AccountName=name, Email=f"{name}@example.com")["CreateAccountStatus"]
        account_id = str(status["AccountId"])
        client.move_account(AccountId=account_id, SourceParentId=root, DestinationParentId=parent)
        return account_id

    ids = {
        "dev1": account("dev1", dev),
        "prod1": account("prod1", prod),
        "prodeu": account("prodeu", nested),
        "closed": account("closed", dev),
    }
    ids.update({f"many{i}": account(f"many{i}", workloads) for i in range(25)})  # more than one page
    client.close_account(AccountId=ids["closed"])
    return {"client": client, "root": root, "workloads": workloads, "dev": dev, "prod": prod, "ids": ids, "org": org}


def test_discovery_walks_nested_ous_and_pages(organization: dict[str, Any]) -> None:
    ids = organization["ids"]
    management = organization["org"]["MasterAccountId"]
    cfg = child_cfg([organization["workloads"]], exclude=[ids["many0"]], central=management)
    accounts = discover_accounts(cfg, organization["client"])
    found = {a.id for a in accounts}
    expected = {v for k, v in ids.items() if k not in ("closed", "many0")}
    assert found == expected
    assert [a.id for a in accounts] == sorted(found)
    assert all(1 <= len(a.name) <= 50 for a in accounts)


def test_discovery_from_the_root_never_includes_the_central_account(organization: dict[str, Any]) -> None:
    management = organization["org"]["MasterAccountId"]
    cfg = child_cfg([organization["root"]], central=management)
    found = {a.id for a in child_accounts(cfg, organization["client"])}
    assert management not in found
    assert organization["ids"]["prodeu"] in found


def test_discovery_errors_are_one_line(organization: dict[str, Any]) -> None:
    cfg = child_cfg(["ou-abcd-zzzzzzzz"])
    with pytest.raises(DiscoveryError) as error:
        discover_accounts(cfg, organization["client"])
    message = str(error.value)
    assert "\n" not in message
    assert "ou-abcd-zzzzzzzz" in message


def test_discovery_with_nothing_left_is_an_error(organization: dict[str, Any]) -> None:
    ids = organization["ids"]
    management = organization["org"]["MasterAccountId"]
    cfg = child_cfg([organization["dev"]], exclude=[ids["dev1"]], central=management)
    with pytest.raises(DiscoveryError, match="no ACTIVE child account"):
        discover_accounts(cfg, organization["client"])


def test_access_denied_names_the_ou() -> None:
    class Denied:
        def get_paginator(self, name: str) -> Any:
            raise ClientError({"Error": {"Code": "AccessDeniedException", "Message": "not allowed"}}, name)

    with pytest.raises(DiscoveryError, match=r"ou-abcd-12345678: AccessDeniedException: not allowed"):
        discover_accounts(child_cfg(["ou-abcd-12345678"]), Denied())


def test_the_child_stack_deploys_into_discovered_accounts(organization: dict[str, Any], central_capture: Any) -> None:
    """Discovery at preview time, through the program: one provider and spoke per found account."""
    from patchctl.stack_render import render_stack

    management = organization["org"]["MasterAccountId"]
    cfg = child_cfg([organization["prod"]], central=management)
    capture = render_stack(cfg, central_capture.outputs)
    expected = {organization["ids"]["prod1"], organization["ids"]["prodeu"]}
    providers = {r.name for r in capture.resources if r.type == "pulumi:providers:aws"}
    # ...and the central account's, which writes the shard's baseline override file in the hub
    assert providers == {*expected, management}
    assert set(capture.outputs["accounts"]) == expected
