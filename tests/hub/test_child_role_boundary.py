"""The child-role boundary (issue 15, "Permissions boundary"): every role the child stack creates carries
``org-patching-child-role-boundary``; the deploy role can create or widen a role only while it carries that
boundary, can never take a boundary off nor edit either boundary policy; and the boundary caps a child role at
what the child roles use, whatever its own policy becomes.

Judged by the IAM replay's evaluator (``devkit.iam_replay.evaluate.identity_denial``: identity policies and
boundary, explicit Deny first) on the StackSet template as CloudFormation renders it in a member account.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from cfnlint.decode import decode_str
from moto.iam.aws_managed_policies import aws_managed_policies_data
from parliament import iam_definition

from components import naming
from components.config import InstanceProfilesConfig
from components.hub.deploy_role_bootstrap import TEMPLATE_FILE
from components.hub.self_service_catalog import TEMPLATE_FILE as PRODUCT_TEMPLATE_FILE
from components.spoke import profile_check
from components.spoke.baseline_policies import AccountScope
from components.spoke.hub_data import HubData
from devkit.iam_replay.evaluate import RolePolicies, identity_denial
from devkit.iam_replay.policy_logic import any_statement_matches
from patchctl.offline.document import build_document

ACCOUNT = "222222222222"
TEMPLATE, _ = decode_str(Path(TEMPLATE_FILE).read_text())
CHILD_BOUNDARY_ARN = naming.child_role_boundary_arn("aws", ACCOUNT)
DEPLOY_BOUNDARY_ARN = f"arn:aws:iam::{ACCOUNT}:policy/{naming.DEPLOY_ROLE_BOUNDARY}"
ROLES = f"arn:aws:iam::{ACCOUNT}:role"


def substituted(value: Any) -> Any:
    if isinstance(value, dict) and set(value) == {"Fn::Sub"}:
        return value["Fn::Sub"].replace("${AWS::Partition}", "aws").replace("${AWS::AccountId}", ACCOUNT)
    if isinstance(value, dict):
        return {k: substituted(v) for k, v in value.items()}
    if isinstance(value, list):
        return [substituted(v) for v in value]
    return value


RESOURCES = TEMPLATE["Resources"]
INLINE = substituted(RESOURCES["DeployRole"]["Properties"]["Policies"][0]["PolicyDocument"])
DEPLOY_BOUNDARY = substituted(RESOURCES["DeployRoleBoundary"]["Properties"]["PolicyDocument"])
CHILD_BOUNDARY = substituted(RESOURCES["ChildRoleBoundary"]["Properties"]["PolicyDocument"])
DEPLOY_ROLE = RolePolicies([INLINE], DEPLOY_BOUNDARY)
#: Whoever controls the central deploy principal rewrote the deploy role's inline policy to allow everything: only
#: the boundary still holds.
LOOSENED_DEPLOY_ROLE = RolePolicies(
    [{"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}], DEPLOY_BOUNDARY
)
#: A child role whose inline policy was rewritten the same way.
LOOSENED_CHILD_ROLE = RolePolicies(
    [{"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}], CHILD_BOUNDARY
)


def _as(boundary: str | None) -> dict[str, str]:
    """The request context of a role write: ``iam:PermissionsBoundary`` set to ``boundary``, or absent."""
    return {"aws:PrincipalAccount": ACCOUNT, **({"iam:PermissionsBoundary": boundary} if boundary else {})}


def test_the_stack_set_creates_the_child_role_boundary_beside_the_deploy_roles() -> None:
    properties = RESOURCES["ChildRoleBoundary"]["Properties"]
    assert RESOURCES["ChildRoleBoundary"]["Type"] == "AWS::IAM::ManagedPolicy"
    assert properties["ManagedPolicyName"] == naming.CHILD_ROLE_BOUNDARY
    # IAM quota: a managed policy holds at most 6,144 characters, whitespace aside
    assert len(json.dumps(CHILD_BOUNDARY, separators=(",", ":"))) <= 6_144


def test_every_conditioned_role_write_supports_the_boundary_key_and_the_trust_update_does_not() -> None:
    """Service Authorization Reference (parliament's copy): a condition on a key an action does not support never
    matches, so conditioning UpdateAssumeRolePolicy would forbid it outright."""
    iam = next(s for s in iam_definition if s["prefix"] == "iam")
    supports = {
        p["privilege"]
        for p in iam["privileges"]
        if any("iam:PermissionsBoundary" in r["condition_keys"] for r in p["resource_types"])
    }
    conditioned = {
        action.split(":")[1]
        for document in (INLINE, DEPLOY_BOUNDARY)
        for s in document["Statement"]
        if "iam:PermissionsBoundary" in json.dumps(s.get("Condition", {}))
        for action in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]])
    }
    assert conditioned == {"CreateRole", "PutRolePermissionsBoundary", "PutRolePolicy", "AttachRolePolicy"}
    assert conditioned <= supports
    assert "UpdateAssumeRolePolicy" not in supports


@pytest.mark.parametrize("policies", [DEPLOY_ROLE, LOOSENED_DEPLOY_ROLE], ids=["as deployed", "inline loosened"])
def test_the_deploy_role_writes_only_roles_that_carry_the_child_boundary(policies: RolePolicies) -> None:
    role = f"{ROLES}/org-patching-instance"
    for action in ("iam:CreateRole", "iam:PutRolePermissionsBoundary", "iam:PutRolePolicy"):
        assert identity_denial(policies, action, role, _as(CHILD_BOUNDARY_ARN)) is None, action
        # without the boundary, or with any other (even the deploy role's own), the write is refused
        for boundary in (None, DEPLOY_BOUNDARY_ARN, "arn:aws:iam::aws:policy/AdministratorAccess"):
            assert identity_denial(policies, action, role, _as(boundary)) is not None, (action, boundary)
    core = {"iam:PolicyARN": "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"}
    assert identity_denial(policies, "iam:AttachRolePolicy", role, {**_as(CHILD_BOUNDARY_ARN), **core}) is None
    assert identity_denial(policies, "iam:AttachRolePolicy", role, {**_as(None), **core}) is not None


@pytest.mark.parametrize("policies", [DEPLOY_ROLE, LOOSENED_DEPLOY_ROLE], ids=["as deployed", "inline loosened"])
def test_the_deploy_role_never_removes_a_boundary_nor_edits_either_boundary_policy(policies: RolePolicies) -> None:
    for role in (f"{ROLES}/org-patching-instance", f"{ROLES}/{naming.CHILD_DEPLOY_ROLE}"):
        denial = identity_denial(policies, "iam:DeleteRolePermissionsBoundary", role, _as(CHILD_BOUNDARY_ARN))
        assert denial is not None and "Deny" in denial, role
    for policy in (CHILD_BOUNDARY_ARN, DEPLOY_BOUNDARY_ARN):
        for action in ("iam:CreatePolicyVersion", "iam:SetDefaultPolicyVersion", "iam:DeletePolicy"):
            denial = identity_denial(policies, action, policy, _as(None))
            assert denial is not None and "Deny" in denial, (action, policy)


@pytest.fixture(scope="module")
def child_roles(child_capture: Any) -> dict[str, Any]:
    """The example child stack's roles (name -> inputs) and every Allow statement of their policies."""
    resources = build_document(child_capture, None)["resources"]
    roles = [r for r in resources if r["type"] == "aws:iam/role:Role"]
    statements: list[dict[str, Any]] = []
    for r in resources:
        if r["type"] == "aws:iam/rolePolicy:RolePolicy" and r["account"] == ACCOUNT:  # the boundary as made there
            policy = r["inputs"]["policy"]
            statements += (json.loads(policy) if isinstance(policy, str) else policy)["Statement"]
    # the profile check's repair that the example leaves off (appProfiles: attachPolicy), as the role would get it
    hub = HubData("k", "i", "p", "l", "pl", "us-east-1", "a", "111111111111")
    scope = AccountScope(ACCOUNT, "o-exampleorg01", "aws", "us-east-1", hub)
    statements += profile_check.statements(scope, InstanceProfilesConfig(app_profiles="attachPolicy"))
    managed = json.loads(aws_managed_policies_data)
    for name in (profile_check.SSM_CORE_POLICY, naming.DEFAULT_HOST_MANAGEMENT_POLICY):
        statements += managed[name]["Document"]["Statement"]
    return {"roles": roles, "statements": [s for s in statements if s["Effect"] == "Allow"]}


def test_every_role_of_the_child_stack_carries_the_child_boundary(child_roles: dict[str, Any]) -> None:
    assert len(child_roles["roles"]) >= 9 * 2  # every role of both example accounts
    for role in child_roles["roles"]:
        expected = naming.child_role_boundary_arn("aws", role["account"])
        assert role["inputs"].get("permissionsBoundary") == expected, role["inputs"]["name"]


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _context_of(statement: dict[str, Any]) -> dict[str, Any]:
    """A request the statement's own conditions admit (first value of each), for the boundary's conditions."""
    return {key: _listed(value)[0] for block in statement.get("Condition", {}).values() for key, value in block.items()}


def test_the_boundary_allows_everything_the_child_roles_use(child_roles: dict[str, Any]) -> None:
    """Each action on each resource of every child role's Allow statements (and of the AWS managed policies
    attached to the instance role), under that statement's own conditions, is inside the boundary."""
    outside = []
    for statement in child_roles["statements"]:
        for action in _listed(statement["Action"]):
            for resource in _listed(statement["Resource"]):
                resource = resource if isinstance(resource, str) else "*"  # an Output the preview left unknown
                if not any_statement_matches([CHILD_BOUNDARY], "Allow", action, resource, _context_of(statement)):
                    outside.append(f"{action} on {resource}")
                elif any_statement_matches([CHILD_BOUNDARY], "Deny", action, resource, _context_of(statement)):
                    outside.append(f"{action} on {resource} (denied)")
    assert outside == []


#: Allowed without a child role using it yet: SSE-KMS writes of the tag sweep to the hub's bucket (another branch
#: adds s3:PutObject to the tag-remediation role; S3 then asks the key for GenerateDataKey, Encrypt for uploads
#: that encrypt client-side or copy).
NOT_YET_USED = {"kms:Encrypt"}


def test_the_boundary_allows_nothing_the_child_roles_do_not_use(child_roles: dict[str, Any]) -> None:
    used = {a.lower() for s in child_roles["statements"] for a in _listed(s["Action"])}
    (allow_list,) = [s for s in CHILD_BOUNDARY["Statement"] if s["Sid"] == "OnlyWhatTheChildRolesUse"]
    named = {a for a in allow_list["Action"] if not a.endswith(":*")}
    assert {a for a in named if a.lower() not in used} == NOT_YET_USED
    # the two wildcards are whole services of the SSM Agent's channels, which the managed policies use
    assert {a for a in allow_list["Action"] if a.endswith(":*")} == {"ssmmessages:*", "ec2messages:*"}
    assert {"ssmmessages", "ec2messages"} <= {a.split(":")[0] for a in used}


def test_a_loosened_child_role_stays_inside_the_boundary() -> None:
    """Whoever rewrites a child role's inline policy to ``*`` gets no IAM writes, no boundary edits, no other service,
    and no pass or attach beyond what the child roles need."""
    refused = {
        "iam:CreateRole": (f"{ROLES}/org-patching-x", _as(CHILD_BOUNDARY_ARN)),
        "iam:PutRolePolicy": (f"{ROLES}/org-patching-instance", _as(CHILD_BOUNDARY_ARN)),
        "iam:CreateUser": (f"arn:aws:iam::{ACCOUNT}:user/x", {}),
        "iam:CreatePolicyVersion": (CHILD_BOUNDARY_ARN, {}),
        "iam:DeleteRolePermissionsBoundary": (f"{ROLES}/org-patching-instance", _as(CHILD_BOUNDARY_ARN)),
        "s3:DeleteBucket": ("arn:aws:s3:::any", {}),
        "iam:PassRole": (f"{ROLES}/Admin", {"iam:PassedToService": "ec2.amazonaws.com"}),
    }
    for action, (resource, ctx) in refused.items():
        assert identity_denial(LOOSENED_CHILD_ROLE, action, resource, ctx) is not None, action
    admin = {"iam:PolicyARN": "arn:aws:iam::aws:policy/AdministratorAccess"}
    core = {"iam:PolicyARN": "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"}
    assert identity_denial(LOOSENED_CHILD_ROLE, "iam:AttachRolePolicy", f"{ROLES}/app", admin) is not None
    assert identity_denial(LOOSENED_CHILD_ROLE, "iam:AttachRolePolicy", f"{ROLES}/org-patching-instance", core)
    assert identity_denial(LOOSENED_CHILD_ROLE, "iam:AttachRolePolicy", f"{ROLES}/app", core) is None
    to_lambda = {"iam:PassedToService": "lambda.amazonaws.com"}
    assert identity_denial(LOOSENED_CHILD_ROLE, "iam:PassRole", f"{ROLES}/org-patching-instance", to_lambda)


def test_the_tag_sweep_may_write_to_the_hub_bucket_under_sse_kms() -> None:
    """For the tag-remediation role's s3:PutObject to the hub bucket (another branch): the boundary lets the write
    and the key's data-key calls through."""
    key = "arn:aws:kms:us-east-1:111111111111:key/k"
    assert identity_denial(LOOSENED_CHILD_ROLE, "s3:PutObject", "arn:aws:s3:::hub-bucket/222222222222/x", {}) is None
    for action in ("kms:GenerateDataKey", "kms:Encrypt"):
        assert identity_denial(LOOSENED_CHILD_ROLE, action, key, {}) is None, action


def test_the_catalog_products_template_creates_no_role() -> None:
    """Team windows launch through Service Catalog as the (bounded) launch role; the product itself makes no IAM
    role, so it needs no boundary of its own. A role added there must carry the child-role boundary."""
    template, _ = decode_str(Path(PRODUCT_TEMPLATE_FILE).read_text())
    assert not [r for r in template["Resources"].values() if str(r["Type"]).startswith("AWS::IAM::")]
