"""The profile check's permissions follow ``patching.instanceProfiles``: each repair's statements exist only while
the config turns it on, each is as narrow as the Service Authorization Reference allows, and all lint clean."""

from __future__ import annotations

from typing import Any

import pytest

from components import naming
from components.config import InstanceProfilesConfig
from components.spoke.baseline_policies import AccountScope
from components.spoke.hub_data import HubData
from components.spoke.profile_check import SSM_CORE_POLICY, function_variables, statements
from tests.components.test_iam_documents import lint

ACCOUNT = "222222222222"
SCOPE = AccountScope(
    account_id=ACCOUNT,
    org_id="o-exampleorg01",
    partition="aws",
    home_region="us-east-1",
    hub=HubData(*(["x"] * 8)),
)


def by_sid(cfg: InstanceProfilesConfig) -> dict[str, dict[str, Any]]:
    return {s["Sid"]: s for s in statements(SCOPE, cfg)}


def test_the_default_attaches_the_patching_profile_and_only_reports_app_profiles() -> None:
    found = by_sid(InstanceProfilesConfig())
    assert set(found) == {
        "ReadManagedInstances",
        "ReadInstanceProfiles",
        "AttachPatchingProfile",
        "PassPatchingInstanceRole",
    }
    attach = found["AttachPatchingProfile"]
    assert attach["Condition"] == {
        "ArnEquals": {"ec2:NewInstanceProfile": f"arn:aws:iam::{ACCOUNT}:instance-profile/{naming.INSTANCE_PROFILE}"}
    }
    assert found["PassPatchingInstanceRole"]["Resource"] == [f"arn:aws:iam::{ACCOUNT}:role/{naming.INSTANCE_ROLE}"]
    assert function_variables(InstanceProfilesConfig()) == {
        "PROFILE_CHECK": "true",
        "PATCHING_INSTANCE_PROFILE": naming.INSTANCE_PROFILE,
        "APP_PROFILES": "report",
    }


def test_attach_policy_is_one_managed_policy_and_never_our_roles() -> None:
    found = by_sid(InstanceProfilesConfig(app_profiles="attachPolicy", attach_when_missing=False))
    assert "AttachPatchingProfile" not in found and "PassPatchingInstanceRole" not in found
    allow = found["AttachSsmCoreToAppRoles"]
    assert allow["Action"] == ["iam:AttachRolePolicy"]
    assert allow["Condition"] == {"ArnEquals": {"iam:PolicyARN": f"arn:aws:iam::aws:policy/{SSM_CORE_POLICY}"}}
    deny = found["NeverWidenOwnRoles"]
    assert deny["Effect"] == "Deny" and deny["Resource"] == [f"arn:aws:iam::{ACCOUNT}:role/{naming.PREFIX}-*"]
    assert function_variables(InstanceProfilesConfig(app_profiles="attachPolicy", attach_when_missing=False)) == {
        "PROFILE_CHECK": "true",
        "PATCHING_INSTANCE_PROFILE": "",
        "APP_PROFILES": "attachPolicy",
    }


def test_off_means_no_permission_at_all() -> None:
    off = InstanceProfilesConfig(check=False, app_profiles="attachPolicy")
    assert statements(SCOPE, off) == []
    assert function_variables(off)["PROFILE_CHECK"] == "false"


@pytest.mark.parametrize("app_profiles", ["report", "attachPolicy"])
def test_every_variant_lints_clean(app_profiles: str) -> None:
    cfg = InstanceProfilesConfig(app_profiles=app_profiles)  # type: ignore[arg-type]
    document = {"Version": "2012-10-17", "Statement": statements(SCOPE, cfg)}
    assert lint([("urn::profile-check", "inlinePolicies[org-patching]", document)]) == []
