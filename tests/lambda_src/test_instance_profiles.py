"""The sweep's profile check on the emulator: every case of issue 15.4, each repair as the config allows it.

The emulator's SSM manages an instance when its profile's role trusts EC2 and allows the agent's registration
(devkit/moto_extensions/ssm/models/patching.py), so "managed afterwards" is the emulator's verdict, not ours.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from lambda_shared.instance_profiles import SSM_CORE_POLICY, RoleFacts, Settings, decide

from devkit.applier import moto_gaps
from devkit.moto_extensions.awslambda.models import lambda_context
from patchctl.report.unmanaged import load_unmanaged
from tests import aws

app = importlib.import_module("lambda_src.tag_remediation.app")
FUNCTION = "org-patching-tag-remediation"
PROFILE = "InstanceProfileforPatching"
ACCOUNT, REGION = aws.ACCOUNTS[0], aws.REGIONS[0]
EC2_TRUST = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}],
}
LAMBDA_TRUST = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}],
}


def sweep() -> dict[str, Any]:
    with aws.as_account(ACCOUNT, REGION):
        event = {**aws_scheduled(), "account": ACCOUNT, "region": REGION}
        result: dict[str, Any] = app.handler(event, lambda_context(FUNCTION, ACCOUNT, REGION))
        return result


def aws_scheduled() -> dict[str, Any]:
    return {
        "version": "0",
        "id": "p1",
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "resources": [],
        "detail": {},
    }


def app_profile(sess: boto3.session.Session, name: str, trust: dict[str, Any] = EC2_TRUST) -> str:
    """An app team's profile whose role has no SSM permissions."""
    iam = sess.client("iam")
    iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))
    iam.create_instance_profile(InstanceProfileName=name)
    iam.add_role_to_instance_profile(InstanceProfileName=name, RoleName=name)
    return name


def attached_policies(sess: boto3.session.Session, role: str) -> set[str]:
    policies = sess.client("iam").list_attached_role_policies(RoleName=role)["AttachedPolicies"]
    return {p["PolicyName"] for p in policies}


def profile_of(sess: boto3.session.Session, instance: str) -> str | None:
    found = sess.client("ec2").describe_instances(InstanceIds=[instance])["Reservations"][0]["Instances"][0]
    arn = (found.get("IamInstanceProfile") or {}).get("Arn")
    return str(arn).rsplit("/", 1)[-1] if arn else None


@pytest.fixture
def fleet(moto_aws: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """One instance per case, in one account-region that has the patching profile."""
    moto_gaps.install()  # AWS managed policies exist in every account (attached on demand)
    monkeypatch.setenv("PATCHING_INSTANCE_PROFILE", PROFILE)
    monkeypatch.delenv("APP_PROFILES", raising=False)
    sess = aws.session(ACCOUNT, REGION)
    aws.create_instance_profile(sess, PROFILE)
    app_profile(sess, "payments-app")
    app_profile(sess, "org-patching-sneaky")
    app_profile(sess, "lambda-only", LAMBDA_TRUST)
    cases = {
        "bare": aws.run_instances(sess, {"environment": "Prod"})[0],
        "app": aws.run_instances(sess, {"environment": "Dev"}, profile="payments-app")[0],
        "ours": aws.run_instances(sess, {"environment": "Dev"}, profile="org-patching-sneaky")[0],
        "lambda": aws.run_instances(sess, {"environment": "Dev"}, profile="lambda-only")[0],
        "managed": aws.run_instances(sess, {"environment": "Test"}, profile=PROFILE)[0],
        "exempt": aws.run_instances(sess, {"environment": "Prod", "install_patch": "no"})[0],
        "eks": aws.run_instances(sess, {"aws:eks:cluster-name": "apps"})[0],
    }
    yield cases


def test_no_profile_gets_the_patching_profile_and_is_managed_at_the_next_sweep(fleet: dict[str, str]) -> None:
    sess = aws.session(ACCOUNT, REGION)
    first = sweep()
    assert first["profiles"]["attached"] == {fleet["bare"]: PROFILE}
    assert profile_of(sess, fleet["bare"]) == PROFILE
    unmanaged = {u["resourceid"]: u["reason"] for u in first["unmanaged"]}
    assert "attached" in unmanaged[fleet["bare"]]
    # managed, exempt and EKS nodes: nothing done and nothing reported
    for untouched in ("managed", "exempt", "eks"):
        assert fleet[untouched] not in unmanaged
    assert profile_of(sess, fleet["exempt"]) is None and profile_of(sess, fleet["eks"]) is None
    second = sweep()
    assert fleet["bare"] not in {u["resourceid"] for u in second["unmanaged"]}
    assert second["profiles"]["attached"] == {}


def test_app_profiles_are_only_reported_by_default(fleet: dict[str, str]) -> None:
    sess = aws.session(ACCOUNT, REGION)
    result = sweep()
    reasons = {u["resourceid"]: u["reason"] for u in result["unmanaged"]}
    assert reasons[fleet["app"]] == f"instance profile payments-app (role payments-app) lacks {SSM_CORE_POLICY}"
    assert result["profiles"]["policyAttached"] == {}
    assert attached_policies(sess, "payments-app") == set()
    assert profile_of(sess, fleet["app"]) == "payments-app"  # an app's profile is never replaced


def test_attach_policy_fixes_app_roles_but_never_ours_nor_roles_ec2_cannot_assume(
    fleet: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("APP_PROFILES", "attachPolicy")
    sess = aws.session(ACCOUNT, REGION)
    result = sweep()
    assert result["profiles"]["policyAttached"] == {"payments-app": [fleet["app"]]}
    assert attached_policies(sess, "payments-app") == {SSM_CORE_POLICY}
    assert attached_policies(sess, "org-patching-sneaky") == set()
    assert attached_policies(sess, "lambda-only") == set()
    reasons = {u["resourceid"]: u["reason"] for u in result["unmanaged"]}
    assert reasons[fleet["ours"]].endswith("not changed: an org-patching role")
    assert reasons[fleet["lambda"]].endswith("not changed: its trust policy does not let EC2 assume it")
    # the emulator's agent registers once the role has the policy: the next sweep leaves it alone
    assert fleet["app"] not in {u["resourceid"] for u in sweep()["unmanaged"]}


def test_report_only_dry_run_and_off(fleet: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    sess = aws.session(ACCOUNT, REGION)
    monkeypatch.setenv("DRY_RUN", "true")
    dry = sweep()
    assert dry["profiles"]["attached"] == {fleet["bare"]: PROFILE}  # what it would do...
    assert profile_of(sess, fleet["bare"]) is None  # ...without doing it
    monkeypatch.delenv("DRY_RUN")
    monkeypatch.setenv("PATCHING_INSTANCE_PROFILE", "")
    reported = sweep()
    assert {u["resourceid"]: u["reason"] for u in reported["unmanaged"]}[fleet["bare"]] == "no instance profile"
    assert profile_of(sess, fleet["bare"]) is None
    monkeypatch.setenv("PROFILE_CHECK", "false")
    assert "unmanaged" not in sweep()


def test_the_findings_are_what_the_report_reads_as_unmanaged(fleet: dict[str, str], tmp_path: Path) -> None:
    result = sweep()
    lines = tmp_path / "unmanaged.jsonl"
    lines.write_text("".join(json.dumps(u) + "\n" for u in result["unmanaged"]), encoding="utf-8")
    loaded = load_unmanaged(lines)
    assert {u["resourceid"] for u in loaded} == {fleet["bare"], fleet["app"], fleet["ours"], fleet["lambda"]}
    assert all(u["accountid"] == ACCOUNT and u["region"] == REGION for u in loaded)
    assert {u["resourceid"]: u["tags"] for u in loaded}[fleet["app"]] == {"environment": "Dev"}


def test_decide_is_pure_and_covers_each_branch() -> None:
    running = {"InstanceId": "i-0123456789abcdef0", "State": {"Name": "running"}}
    with_app = {**running, "IamInstanceProfile": {"Arn": "arn:aws:iam::111111111111:instance-profile/app"}}
    on = Settings(patching_profile=PROFILE, app_profiles="attachPolicy")
    assert decide(running, frozenset({"i-0123456789abcdef0"}), on, None) is None
    assert decide(running, frozenset(), on, None).repair == "attach"  # type: ignore[union-attr]
    stopping = {**running, "State": {"Name": "stopping"}}
    assert decide(stopping, frozenset(), on, None).repair is None  # type: ignore[union-attr]
    assert decide(with_app, frozenset(), on, RoleFacts("app", True, True)).repair is None  # type: ignore[union-attr]
    assert decide(with_app, frozenset(), on, RoleFacts("app", False, True)).role == "app"  # type: ignore[union-attr]
    assert decide(with_app, frozenset(), on, None).reason == "instance profile app has no role"  # type: ignore[union-attr]
    assert Settings.from_env({"APP_PROFILES": "attachEverything"}).app_profiles == "report"
