"""Enrollment end to end on the emulator (issue 15, "Done when"): an account that joins a discovered OU gets the
deploy role from the hub's StackSet with no action by anyone, its spoke at the child stack's next deployment,
and its name and data in the central stack's coverage (Athena's projection, the report's names)."""

from __future__ import annotations

import json
from pathlib import Path

from components import naming
from components.config import (
    AccountConfig,
    BootstrapConfig,
    CentralConfig,
    ChildConfig,
    DiscoveryConfig,
    load_stack_file,
)
from components.naming import CHILD_DEPLOY_ROLE, INSTANCE_PROFILE, TAG_REMEDIATION_FUNCTION
from devkit.applier import apply_central, apply_child
from devkit.applier.__main__ import ensure_config_recorders
from devkit.emulator import Emulator
from patchctl.report.accounts import parse_account_names
from patchctl.stack_render import render_stack
from tests.pulumi_leftovers import collect_failed_program_leftovers

REPO = Path(__file__).resolve().parents[2]
REGION = "us-east-1"


def test_a_new_member_of_a_discovered_ou_is_enrolled_with_no_edit() -> None:
    collect_failed_program_leftovers()
    with Emulator() as emu:
        org = emu.session(emu.default_account, REGION).client("organizations")
        org_id = org.create_organization(FeatureSet="ALL")["Organization"]["Id"]
        root = org.list_roots()["Roots"][0]["Id"]
        workloads = org.create_organizational_unit(ParentId=root, Name="workloads")["OrganizationalUnit"]["Id"]
        team = org.create_organizational_unit(ParentId=workloads, Name="team")["OrganizationalUnit"]["Id"]

        def join(name: str, parent: str) -> str:
            account = str(
                org.create_account(AccountName=name, Email=f"{name}@example.com")["CreateAccountStatus"]["AccountId"]
            )
            org.move_account(AccountId=account, SourceParentId=root, DestinationParentId=parent)
            return account

        first = join("payments-prod", workloads)
        hub = emu.default_account
        principal = f"arn:aws:iam::{hub}:role/org-patching-github-deploy"
        central = load_stack_file(REPO / "Pulumi.central.yaml")
        child = load_stack_file(REPO / "Pulumi.child.yaml")
        assert isinstance(central, CentralConfig) and isinstance(child, ChildConfig)
        discover = DiscoveryConfig(ous=[workloads])
        central = central.model_copy(
            update={
                "org_id": org_id,
                "central_account_id": hub,
                "regions": [REGION],
                "accounts": [],
                "discover": discover,
                "bootstrap": BootstrapConfig(deploy_principal_arn=principal, targets=[workloads], call_as="SELF"),
            }
        )
        child = child.model_copy(
            update={
                "org_id": org_id,
                "central_account_id": hub,
                "accounts": None,
                "discover": discover,
                "regions": [REGION],
            }
        )
        applied_hub = apply_central(emu, central)
        assert emu.session(first, REGION).client("iam").get_role(RoleName=CHILD_DEPLOY_ROLE)

        # A new account joins a nested OU of the target: the StackSet's auto-deployment gives it the role.
        newcomer = join("checkout-dev", team)
        role = emu.session(newcomer, REGION).client("iam").get_role(RoleName=CHILD_DEPLOY_ROLE)["Role"]
        trust = role["AssumeRolePolicyDocument"]
        trust = json.loads(trust) if isinstance(trust, str) else trust
        assert trust["Statement"][0]["Principal"] == {"AWS": principal}
        assert trust["Statement"][0]["Condition"] == {"StringEquals": {"aws:PrincipalOrgID": org_id}}
        assert role["PermissionsBoundary"]["PermissionsBoundaryArn"].endswith(":policy/org-patching-deploy-boundary")
        # ... and the boundary its child roles will carry (the same stack instance; the applier made none here)
        child_boundary = naming.child_role_boundary_arn("aws", newcomer)
        assert emu.session(newcomer, REGION).client("iam").get_policy(PolicyArn=child_boundary)

        # The next scheduled child deployment discovers it and declares its spoke.
        # (their landing zone records AWS Config, as the default configRecorder: existing expects)
        members = [AccountConfig(id=a, name=a) for a in (first, newcomer)]
        ensure_config_recorders(emu, child.model_copy(update={"accounts": members}))
        spokes = apply_child(emu, child, applied_hub.outputs)
        assert set(spokes.outputs["accounts"]) == {first, newcomer}
        assert spokes.outputs["accounts"][newcomer]["name"] == "checkout-dev"
        new_session = emu.session(newcomer, REGION)
        profile = new_session.client("iam").get_instance_profile(InstanceProfileName=INSTANCE_PROFILE)
        instance_role = new_session.client("iam").get_role(RoleName=profile["InstanceProfile"]["Roles"][0]["RoleName"])
        assert instance_role["Role"]["PermissionsBoundary"]["PermissionsBoundaryArn"] == child_boundary
        assert new_session.client("lambda").get_function(FunctionName=TAG_REMEDIATION_FUNCTION)

        # The central stack's next run covers it: Athena's projection reads its data, the report names it.
        covered = render_stack(central)
        assert sorted(covered.outputs["accountStacks"]) == sorted([first, newcomer])
        names = parse_account_names(covered.outputs, "central outputs")
        assert names == {first: "payments-prod", newcomer: "checkout-dev"}
        tables = [r for r in covered.resources if r.type == "aws:glue/catalogTable:CatalogTable"]
        assert tables and all(newcomer in t.inputs["parameters"]["projection.accountid.values"] for t in tables)
