"""The deploy-role policies in docs/deploy-policies/ are what the example stacks' previews need, to the byte
(regenerated here, so they cannot drift), every action is a real IAM action, and the bootstrapped child deploy
role grants at least what the child stack's types need."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from cfnlint.decode import decode_str
from parliament import iam_definition

from components.hub.deploy_role_bootstrap import TEMPLATE_FILE
from patchctl.deploy_policy import (
    CHILD_UPGRADE_DELETIONS,
    TYPE_ACTIONS,
    actions_for,
    deploy_policy,
    needed_types,
    render_json,
)
from patchctl.errors import InputError
from patchctl.offline.document import build_document

DOCS = Path(__file__).resolve().parents[2] / "docs" / "deploy-policies"


def preview(capture: Any) -> list[dict[str, Any]]:
    resources: list[dict[str, Any]] = build_document(capture, None)["resources"]
    return resources


@pytest.fixture(scope="module")
def generated(central_capture: Any, child_capture: Any, central_config: Any) -> dict[str, str]:
    hub = central_config.central_account_id
    child = preview(child_capture)
    members = {r["account"] for r in child if r.get("account") and r["account"] != hub}
    return {
        "central.json": render_json(deploy_policy(needed_types(preview(central_capture)))),
        "child.json": render_json(deploy_policy(needed_types(child, members), retired=CHILD_UPGRADE_DELETIONS)),
        "child-in-hub.json": render_json(deploy_policy(needed_types(child, [hub]))),
    }


def test_the_shipped_policies_are_the_generated_ones(generated: dict[str, str]) -> None:
    if os.environ.get("UPDATE_DEPLOY_POLICIES") == "1":  # regenerate: see docs/enrollment.md
        for name, text in generated.items():
            (DOCS / name).write_text(text, encoding="utf-8")
    for name, text in generated.items():
        shipped = (DOCS / name).read_text(encoding="utf-8")
        assert shipped == text, f"docs/deploy-policies/{name} is stale: regenerate it (docs/enrollment.md)"
    for text in generated.values():
        # an inline role policy holds at most 10,240 characters, whitespace aside (IAM quotas)
        assert len("".join(text.split())) <= 10_240


def test_every_action_is_an_iam_action_and_every_grant_stays_in_the_account() -> None:
    known = {f"{s['prefix']}:{p['privilege']}" for s in iam_definition for p in s["privileges"]}
    every = deploy_policy(TYPE_ACTIONS)
    actions = {a for s in every["Statement"] for a in s["Action"]}
    assert actions - known == set()
    assert all(s["Condition"] == {"StringEquals": {"aws:ResourceAccount": "${Account}"}} for s in every["Statement"])


def test_an_unknown_type_is_one_line() -> None:
    with pytest.raises(InputError, match=r"^aws:new/thing:Thing: no deploy permissions known"):
        actions_for(["aws:new/thing:Thing"])


def test_the_bootstrapped_deploy_role_grants_what_the_child_stack_needs(generated: dict[str, str]) -> None:
    template, _ = decode_str(Path(TEMPLATE_FILE).read_text())
    statements = template["Resources"]["DeployRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
    granted = {
        action
        for s in statements
        if s["Effect"] == "Allow"
        for action in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]])
    }
    needed = {a for s in json.loads(generated["child.json"])["Statement"] for a in s["Action"]}
    assert needed - granted == set()


def test_the_child_policy_deletes_the_retired_runbooks_and_no_other_document(generated: dict[str, str]) -> None:
    """An upgraded child stack deletes its per-account runbook documents (the hub shares them now, docs/child-stack.md
    "Runbooks shared by the hub"): its preview declares no document, so the type table alone would leave
    ssm:DeleteDocument out and the upgrade's `pulumi up` would fail with AccessDenied. The grant names the two
    documents of this account, in any Region, and nothing else."""
    statements = json.loads(generated["child.json"])["Statement"]
    (deletion,) = [s for s in statements if "ssm:DeleteDocument" in s["Action"]]
    assert deletion["Action"] == ["ssm:DeleteDocument", "ssm:DescribeDocument"]  # DescribeDocument: the wait
    assert deletion["Resource"] == [
        "arn:aws:ssm:*:${Account}:document/OrgPatching-PatchInstances",
        "arn:aws:ssm:*:${Account}:document/OrgPatching-PatchAutoScalingGroups",
    ]
    assert "Condition" not in deletion  # the account is in the ARN
    # both actions take the document resource type (Service Authorization Reference, parliament's copy)
    ssm = next(s for s in iam_definition if s["prefix"] == "ssm")
    for action in deletion["Action"]:
        (privilege,) = [p for p in ssm["privileges"] if p["privilege"] == action.split(":")[1]]
        assert "document*" in {r["resource_type"] for r in privilege["resource_types"]}, action
    assert not any("ssm:DeleteDocument" in s["Action"] for s in json.loads(generated["child-in-hub.json"])["Statement"])


def test_the_child_policy_puts_the_boundary_on_existing_roles(generated: dict[str, str]) -> None:
    """Upgrading puts org-patching-child-role-boundary on roles made before it (pulumi-aws:
    PutRolePermissionsBoundary); never DeleteRolePermissionsBoundary."""
    actions = {a for s in json.loads(generated["child.json"])["Statement"] for a in s["Action"]}
    assert "iam:PutRolePermissionsBoundary" in actions
    assert "iam:DeleteRolePermissionsBoundary" not in actions
