"""The child stack under mocks: providers, accounts, regions, tags and the outputs contract."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from components import naming
from components.stacks.providers import MANAGED_BY_TAGS

SCHEMA = Path(__file__).resolve().parents[2] / "schemas" / "child-outputs.schema.json"
ACCOUNTS = ("222222222222", "333333333333")
REGIONS = ("us-east-1", "eu-west-1")


def aws_resources(capture: Any) -> list[Any]:
    """What the child stack creates in the child accounts (not the baseline override file in the hub:
    tests/stacks/test_baseline_override.py)."""
    return [
        r
        for r in capture.resources
        if r.custom and r.type.startswith("aws:") and r.type != "aws:s3/bucketObjectv2:BucketObjectv2"
    ]


def owner_account(capture: Any, record: Any) -> str:
    """The account in the name of the nearest ancestor component (AccountBaseline/RegionalSpoke)."""
    by_urn = capture.by_urn
    parent = by_urn.get(record.parent)
    while parent is not None and not parent.type.startswith("org-patching:spoke:"):
        parent = by_urn.get(parent.parent)
    assert parent is not None, f"{record.urn} is not inside a spoke component"
    return str(parent.name.split("-")[0])


CENTRAL = "111111111111"


def providers(capture: Any) -> dict[str, Any]:
    """The child accounts' providers (the central account's writes only the baseline override file)."""
    return {r.name: r for r in capture.resources if r.type == "pulumi:providers:aws" and r.name != CENTRAL}


def test_one_provider_per_account_named_by_its_id(child_capture: Any) -> None:
    found = providers(child_capture)
    assert sorted(found) == sorted(ACCOUNTS)
    for account, provider in found.items():
        roles = json.loads(provider.inputs["assumeRoles"])
        assert roles == [
            {
                # the role the hub's bootstrap StackSet creates (the child's default deployRoleName)
                "roleArn": f"arn:aws:iam::{account}:role/{naming.CHILD_DEPLOY_ROLE}",
                "sessionName": "org-patching-child-stack",
            }
        ]
        assert json.loads(provider.inputs["allowedAccountIds"]) == [account]
        assert json.loads(provider.inputs["defaultTags"])["tags"] == MANAGED_BY_TAGS
        assert json.loads(provider.inputs["ignoreTags"]) == {"keyPrefixes": ["QSConfigName-", "QSConfigId-"]}


def test_external_id_reaches_the_provider(render_child: Any) -> None:
    capture = render_child(externalId="org-patching-deploy", tags={"cost-center": "platform"})
    provider = providers(capture)[ACCOUNTS[0]]
    role = json.loads(provider.inputs["assumeRoles"])[0]
    assert role["externalId"] == "org-patching-deploy"
    assert json.loads(provider.inputs["defaultTags"])["tags"] == {"cost-center": "platform", **MANAGED_BY_TAGS}


def test_every_resource_uses_its_own_accounts_provider(child_capture: Any) -> None:
    resources = aws_resources(child_capture)
    assert resources
    by_name = providers(child_capture)
    for record in resources:
        assert record.provider_ref, f"{record.urn} uses the default provider"
        owner = owner_account(child_capture, record)
        assert record.provider_urn == by_name[owner].urn, f"{record.urn} does not use account {owner}'s provider"
        assert child_capture.account_of(record) == owner


def test_regional_resources_name_their_region(child_capture: Any) -> None:
    by_urn = child_capture.by_urn
    seen: set[tuple[str, str]] = set()
    for record in aws_resources(child_capture):
        parent = by_urn[record.parent]
        if parent.type == "org-patching:spoke:RegionalSpoke":
            account, region = parent.name.split("-", 1)
            assert record.inputs.get("region") == region, f"{record.urn} has no region={region}"
            seen.add((account, region))
        elif parent.type == "org-patching:spoke:HostManagement":
            # the DHMC role (global) and, per region, the DHMC setting and the daily scan
            assert record.type.startswith("aws:iam/") or record.inputs.get("region") in REGIONS, record.urn
        elif parent.type == "org-patching:spoke:PatchEventForwarding" and not record.type.startswith("aws:iam/"):
            # one forwarding rule and target per region, named <account>-patch-events-<region>
            assert record.inputs.get("region") == record.name.split("-patch-events-", 1)[1], record.urn
        elif parent.type == "org-patching:spoke:FunctionsAlarm":
            # one alarm per account, in its home region (where its functions are)
            assert record.inputs.get("region") in REGIONS, record.urn
        else:
            assert parent.type in (
                "org-patching:spoke:AccountBaseline",
                "org-patching:spoke:PatchEventForwarding",
                "org-patching:spoke:NoticeReader",
            )
            assert record.type.startswith("aws:iam/"), f"{record.urn}: only IAM is account-level"
            assert "region" not in record.inputs
    assert seen == {(a, r) for a in ACCOUNTS for r in REGIONS}


def test_every_account_region_has_the_spoke(child_capture: Any) -> None:
    for account in ACCOUNTS:
        for region in REGIONS:
            here = [
                r
                for r in aws_resources(child_capture)
                if child_capture.account_of(r) == account and r.inputs.get("region") == region
            ]
            types = {r.type for r in here}
            assert {
                "aws:ssm/maintenanceWindow:MaintenanceWindow",
                "aws:ssm/association:Association",
                "aws:ssm/resourceDataSync:ResourceDataSync",
                "aws:cfg/rule:Rule",
                "aws:cloudwatch/eventRule:EventRule",
                "aws:cloudwatch/eventTarget:EventTarget",
                "aws:lambda/function:Function",
                "aws:cloudwatch/logGroup:LogGroup",
                "aws:ssm/serviceSetting:ServiceSetting",  # DHMC
            } <= types, f"{account}/{region}"
            associations = {r.inputs["associationName"] for r in here if r.type == "aws:ssm/association:Association"}
            assert associations == {naming.INVENTORY_ASSOCIATION, naming.PATCH_SCAN_ASSOCIATION}
            window = next(r for r in here if r.type == "aws:ssm/maintenanceWindow:MaintenanceWindow")
            assert window.inputs["name"] == "Default_maintenance_window"
            assert window.inputs["schedule"] == "cron(0 5 ? * FRI *)"
            assert (window.inputs["duration"], window.inputs["cutoff"]) == (4, 1)


def test_tags_come_from_the_provider(child_capture: Any) -> None:
    for record in aws_resources(child_capture):
        tags_all = record.outputs.get("tagsAll")
        if tags_all is not None:
            assert tags_all.get("managed-by") == "org-patching", record.urn


def test_data_sync_goes_to_the_hub_encrypted(child_capture: Any, central_capture: Any) -> None:
    compliance = central_capture.outputs["compliance"]
    syncs = child_capture.of_type("aws:ssm/resourceDataSync:ResourceDataSync")
    assert len(syncs) == len(ACCOUNTS) * len(REGIONS)
    for sync in syncs:
        destination = sync.inputs["s3Destination"]
        assert destination == {
            "bucketName": compliance["inventoryBucket"],
            "region": "us-east-1",
            "prefix": compliance["inventoryPrefix"],
            "kmsKeyArn": compliance["keyArn"],
            "syncFormat": "JsonSerDe",
        }
        assert sync.inputs["name"] == naming.RESOURCE_DATA_SYNC


def test_inventory_targets_the_contract_not_every_instance(child_capture: Any) -> None:
    inventories = [
        a
        for a in child_capture.of_type("aws:ssm/association:Association")
        if a.inputs["associationName"] == naming.INVENTORY_ASSOCIATION
    ]
    assert len(inventories) == len(ACCOUNTS) * len(REGIONS)
    for association in inventories:
        assert association.inputs["name"] == "AWS-GatherSoftwareInventory"
        assert association.inputs["scheduleExpression"] == "rate(1 day)"
        assert association.inputs["targets"] == [{"key": "tag-key", "values": ["Patch Group"]}]
        account = child_capture.account_of(association)
        assert association.inputs["outputLocation"]["s3KeyPrefix"].startswith(f"{account}/")


def test_outputs_match_the_schema(child_capture: Any) -> None:
    outputs = child_capture.outputs
    jsonschema.validate(outputs, json.loads(SCHEMA.read_text()))
    assert sorted(outputs["accounts"]) == sorted(ACCOUNTS)
    for account in ACCOUNTS:
        entry = outputs["accounts"][account]
        assert sorted(entry["regions"]) == sorted(REGIONS)
        assert entry["instanceProfile"]["arn"] == f"arn:aws:iam::{account}:instance-profile/InstanceProfileforPatching"
        for region, regional in entry["regions"].items():
            hub = f"arn:aws:ssm:{region}:111111111111:document"  # the hub's shared copy in the Region, by ARN
            assert regional["runbooks"] == {
                "standalone": f"{hub}/{naming.RUNBOOK_STANDALONE}",
                "autoScalingGroups": f"{hub}/{naming.RUNBOOK_ASG}",
            }


def test_the_schema_rejects_a_broken_contract(child_capture: Any) -> None:
    schema = json.loads(SCHEMA.read_text())
    outputs = json.loads(json.dumps(child_capture.outputs))
    account = outputs["accounts"][ACCOUNTS[0]]
    del account["regions"]["us-east-1"]["patchGroups"]["Prod"]
    with pytest.raises(jsonschema.ValidationError, match="Prod"):
        jsonschema.validate(outputs, schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({**child_capture.outputs, "outputsVersion": "2.0"}, schema)


def test_every_patch_group_resolves_to_our_baseline(render_child: Any) -> None:
    """With account baselines (staged approval), unregistered patch groups use the OS default
    baseline: ours is registered as default."""
    systems = ["AMAZON_LINUX_2023", "WINDOWS"]
    child_capture = render_child(patching={"stagedApproval": True, "operatingSystems": systems})
    baselines = {r.id: r for r in child_capture.of_type("aws:ssm/patchBaseline:PatchBaseline")}
    defaults = child_capture.of_type("aws:ssm/defaultPatchBaseline:DefaultPatchBaseline")
    registered = {(child_capture.account_of(d), d.inputs["region"], d.inputs["operatingSystem"]): d for d in defaults}
    for account, entry in child_capture.outputs["accounts"].items():
        for region, regional in entry["regions"].items():
            for group, by_os in regional["patchGroups"].items():
                assert sorted(by_os) == sorted(systems), group
                for os_name, baseline_id in by_os.items():
                    baseline = baselines[baseline_id]
                    assert baseline.inputs["operatingSystem"] == os_name
                    assert child_capture.account_of(baseline) == account
                    assert baseline.inputs["region"] == region
                    if group in ("Default", "Prod"):  # the staged groups have their own registered baseline
                        assert registered[(account, region, os_name)].inputs["baselineId"] == baseline_id


def test_staged_approval_registers_dev_before_prod(render_child: Any) -> None:
    capture = render_child(patching={"stagedApproval": True, "operatingSystems": ["AMAZON_LINUX_2023", "WINDOWS"]})
    regional = capture.outputs["accounts"][ACCOUNTS[0]]["regions"]["us-east-1"]["patchGroups"]
    baselines = {r.id: r for r in capture.of_type("aws:ssm/patchBaseline:PatchBaseline")}

    def days(group: str) -> float:
        rules = baselines[regional[group]["WINDOWS"]].inputs["approvalRules"]
        return float(rules[0]["approveAfterDays"])

    assert (days("Dev"), days("Test"), days("Prod"), days("Default")) == (0, 3, 7, 7)
    groups = {
        (r.inputs["patchGroup"], r.inputs["baselineId"]) for r in capture.of_type("aws:ssm/patchGroup:PatchGroup")
    }
    assert ("Dev", regional["Dev"]["WINDOWS"]) in groups
    assert not any(group == "Prod" for group, _ in groups)  # Prod's delay equals the default's


def test_accounts_with_their_own_regions(render_child: Any) -> None:
    capture = render_child(
        accounts=[
            {"id": "222222222222", "name": "dev", "regions": ["eu-west-1", "eu-central-1"]},
            {"id": "333333333333", "name": "prod"},
        ]
    )
    dev = capture.outputs["accounts"]["222222222222"]
    assert sorted(dev["regions"]) == ["eu-central-1", "eu-west-1"]
    # The stack's home region is not one of its regions: the account's first region is home.
    assert dev["homeRegion"] == "eu-west-1"
    functions = [
        r
        for r in capture.of_type("aws:lambda/function:Function")
        if r.inputs["name"] == naming.TAG_REMEDIATION_FUNCTION
    ]
    assert {(capture.account_of(f), f.inputs["region"]) for f in functions} == {
        ("222222222222", "eu-west-1"),
        ("333333333333", "us-east-1"),
    }


def test_data_sync_writes_to_the_hubs_region_not_the_childs(render_child: Any, central_capture: Any) -> None:
    """A child stack whose home region differs from the hub's: the sync (and the inventory
    association's logs) still name the region of the hub's buckets, from the central outputs."""
    capture = render_child(homeRegion="eu-west-1")
    hub_region = central_capture.outputs["homeRegion"]
    assert hub_region == "us-east-1"
    for sync in capture.of_type("aws:ssm/resourceDataSync:ResourceDataSync"):
        assert sync.inputs["s3Destination"]["region"] == hub_region
    for association in capture.of_type("aws:ssm/association:Association"):
        location = association.inputs.get("outputLocation")
        if location:
            assert location["s3Region"] == hub_region


def test_without_a_config_recorder_no_config_rule_is_declared(render_child: Any, child_capture: Any) -> None:
    import yaml

    from tests.conftest import REPO_ROOT

    patching = yaml.safe_load((REPO_ROOT / "Pulumi.child.yaml").read_text())["config"]["org-patching:patching"]
    capture = render_child(patching={**patching, "configRecorder": "none"})
    assert capture.of_type("aws:cfg/rule:Rule") == []
    assert len(child_capture.of_type("aws:cfg/rule:Rule")) == len(ACCOUNTS) * len(REGIONS)
    # everything else is the same stack: the sweep schedules and the event rules stay
    assert len(capture.resources) == len(child_capture.resources) - len(ACCOUNTS) * len(REGIONS)
