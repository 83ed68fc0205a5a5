"""The IAM replay: the runtime's calls, judged by the policies the program deploys.

Three layers, each able to fail: the statement logic against the IAM User Guide's rules; a role
made here that lacks a permission, so the replay must name the denied call (an attack on the
replay itself); and the product's runtime paths run as their deployed roles on stacks applied
from the rendered program, where the replay must find every call allowed.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import tag_contract

from components import naming
from components.runbooks import render_runbook
from devkit.applier import Applied, apply_central, apply_child
from devkit.applier.__main__ import ensure_config_recorders
from devkit.emulator import Emulator
from devkit.iam_replay.policy_logic import UnknownOperator, any_statement_matches, conditions_hold
from devkit.iam_replay.recorder import Recorder, recording
from devkit.iam_replay.resources import resources_of
from devkit.moto_extensions.ssm.models import patch_runs
from devkit.runbook_interpreter import run_runbook
from tests import aws
from tests.devkit.test_applier import organization_configs
from tests.pulumi_leftovers import collect_failed_program_leftovers

PG, MW = tag_contract.PATCH_GROUP_TAG, tag_contract.MAINTENANCE_WINDOW_TAG


# --- the statement logic --------------------------------------------------------------------------------------------


def test_conditions_follow_the_iam_rules_for_absent_keys_and_qualifiers() -> None:
    present = {"aws:ResourceTag/env": "Prod", "aws:TagKeys": ["Patch Group", "maintenance_window"]}
    assert conditions_hold({"StringEquals": {"aws:ResourceTag/env": "Prod"}}, present)
    assert not conditions_hold({"StringEquals": {"aws:ResourceTag/team": "a"}}, present)  # absent: false
    assert conditions_hold({"StringNotEquals": {"aws:ResourceTag/team": "a"}}, present)  # negated + absent: true
    assert conditions_hold({"StringEqualsIfExists": {"aws:ResourceTag/team": "a"}}, present)
    assert conditions_hold({"Null": {"aws:ResourceTag/team": "true"}}, present)
    assert not conditions_hold({"Null": {"aws:ResourceTag/env": "true"}}, present)
    tag_keys = ["Patch Group", "maintenance_window"]
    assert conditions_hold({"ForAllValues:StringEquals": {"aws:TagKeys": tag_keys}}, present)
    assert not conditions_hold({"ForAllValues:StringEquals": {"aws:TagKeys": ["Patch Group"]}}, present)
    assert conditions_hold({"ForAnyValue:StringLike": {"aws:TagKeys": ["maint*"]}}, present)
    # keys compare case-insensitively, values case-sensitively
    assert conditions_hold({"StringEquals": {"AWS:RESOURCETAG/ENV": "Prod"}}, present)
    assert not conditions_hold({"StringEquals": {"aws:ResourceTag/env": "prod"}}, present)
    with pytest.raises(UnknownOperator):
        conditions_hold({"StringSoundsLike": {"aws:ResourceTag/env": "Prod"}}, present)


def test_statements_match_actions_resources_and_policy_variables() -> None:
    policy = {
        "Statement": [
            {"Effect": "Allow", "Action": "s3:PutObject", "Resource": "arn:aws:s3:::logs/${aws:PrincipalAccount}/*"},
            {"Effect": "Allow", "NotAction": "iam:*", "Resource": "arn:aws:ec2:*:*:instance/*"},
        ]
    }
    context = {"aws:PrincipalAccount": "111111111111"}
    assert any_statement_matches([policy], "Allow", "S3:putobject", "arn:aws:s3:::logs/111111111111/x", context)
    assert not any_statement_matches([policy], "Allow", "s3:PutObject", "arn:aws:s3:::logs/222222222222/x", context)
    assert not any_statement_matches([policy], "Allow", "s3:PutObject", "arn:aws:s3:::logs/111111111111/x", {})
    assert any_statement_matches([policy], "Allow", "ec2:CreateTags", "arn:aws:ec2:eu-west-1:1:instance/i-1", {})
    assert not any_statement_matches([policy], "Allow", "iam:PassRole", "arn:aws:ec2:eu-west-1:1:instance/i-1", {})


def test_resources_come_from_the_service_authorization_reference() -> None:
    found, unmapped = resources_of(
        "ssm:SendCommand", {"DocumentName": "AWS-RunPatchBaseline", "InstanceIds": ["i-1"]}, "111111111111", "eu-west-1"
    )
    assert unmapped == []
    assert {f.arn for f in found} == {
        "arn:aws:ssm:eu-west-1::document/AWS-RunPatchBaseline",  # AWS-owned: no account
        "arn:aws:ec2:eu-west-1:111111111111:instance/i-1",
    }
    found, unmapped = resources_of("ec2:DescribeInstances", {}, "111111111111", "eu-west-1")
    assert [f.arn for f in found] == ["*"] and unmapped == []
    _, unmapped = resources_of("ssm:GetAutomationExecution", {}, "111111111111", "eu-west-1")
    assert [u.resource_type for u in unmapped] == ["automation-execution"]


# --- the replay catches a missing permission --------------------------------------------------------------------------


def _role(emu: Emulator, account: str, name: str, policy: dict[str, Any]) -> str:
    iam = emu.session(account, "us-east-1").client("iam")
    trust = {
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]
    }
    arn: str = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    iam.put_role_policy(RoleName=name, PolicyName="p", PolicyDocument=json.dumps({"Version": "2012-10-17", **policy}))
    return arn


def test_a_call_the_role_may_not_make_is_named_with_role_action_and_resource() -> None:
    account, region = "111111111111", "eu-west-1"
    with Emulator() as emu:
        sess = emu.session(account, region)
        [dev] = aws.run_instances(sess, {"environment": "Dev"})
        [prod] = aws.run_instances(sess, {"environment": "Prod"})
        role = _role(
            emu,
            account,
            "org-patching-test-tagger",
            {
                "Statement": [
                    {"Effect": "Allow", "Action": "ec2:DescribeInstances", "Resource": "*"},
                    {
                        "Effect": "Allow",
                        "Action": "ec2:CreateTags",
                        "Resource": "arn:aws:ec2:*:*:instance/*",
                        "Condition": {"StringEquals": {"aws:ResourceTag/environment": "Dev"}},
                    },
                ]
            },
        )
        with recording() as rec, emu.as_account(account, region, role=role) as as_role:
            ec2 = as_role.client("ec2")
            ec2.describe_instances()
            ec2.create_tags(Resources=[dev], Tags=[{"Key": PG, "Value": "Dev"}])
            ec2.create_tags(Resources=[prod], Tags=[{"Key": PG, "Value": "Prod"}])
            as_role.client("ssm").start_automation_execution(
                DocumentName="AWS-RestartEC2Instance",
                Parameters={"InstanceId": [prod], "AutomationAssumeRole": [role]},
            )
        assert len(rec.calls) == 4
        problems = rec.problems()
        assert f"{role} may not ec2:CreateTags on arn:aws:ec2:{region}:{account}:instance/{prod}" in problems[0]
        assert any(f"{role} may not iam:PassRole on {role}" in p for p in problems)
        assert any(p.startswith(f"{role} may not ssm:StartAutomationExecution") for p in problems)
        assert not any(dev in p for p in problems)


# --- the product's runtime, as its deployed roles ---------------------------------------------------------------------


@dataclass
class World:
    emu: Emulator
    central: Applied
    child: Applied
    account: str
    region: str


@pytest.fixture(scope="module")
def world() -> Iterator[World]:
    collect_failed_program_leftovers()  # an earlier test's failed program must not break this one's compile()
    with Emulator() as emu:
        central_cfg, child_cfg = organization_configs(emu)
        # Every repair of the profile check on, so the replay judges each call it can make (issue 15.4).
        profiles = child_cfg.patching.instance_profiles.model_copy(update={"app_profiles": "attachPolicy"})
        patching = child_cfg.patching.model_copy(update={"instance_profiles": profiles})
        child_cfg = child_cfg.model_copy(update={"patching": patching})
        central = apply_central(emu, central_cfg)
        ensure_config_recorders(emu, child_cfg)
        child = apply_child(emu, child_cfg, central.outputs)
        assert child_cfg.accounts
        yield World(emu, central, child, child_cfg.accounts[0].id, child_cfg.regions[0])


def _judged(rec: Recorder, minimum_calls: int) -> None:
    assert rec.problems() == [], "\n".join(rec.problems())
    assert rec.missing_roles == {}
    assert len(rec.calls) >= minimum_calls, rec.summary()


def _invoke(world: World, function: str, event: dict[str, Any]) -> dict[str, Any]:
    answer = (
        world.emu.session(world.account, world.region)
        .client("lambda")
        .invoke(FunctionName=function, Payload=json.dumps(event))
    )
    assert "FunctionError" not in answer, answer["Payload"].read()
    result: dict[str, Any] = json.loads(answer["Payload"].read())
    return result


def test_tag_remediation_runs_within_its_deployed_role(world: World) -> None:
    sess = world.emu.session(world.account, world.region)
    instances = aws.run_instances(sess, {"environment": "Prod"}, count=2)
    aws.run_instances(sess, {"environment": "Dev", "install_patch": "no"})
    aws.create_asg(sess, "replay-asg", {"environment": "Test"}, desired=0)
    scheduled = {
        "version": "0",
        "id": "replay-1",
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": world.account,
        "region": world.region,
        "resources": [],
        "detail": {},
    }
    with recording() as rec:
        swept = _invoke(world, naming.TAG_REMEDIATION_FUNCTION, scheduled)
    assert set(instances) <= set(swept["tagged"])
    _judged(rec, minimum_calls=4)
    assert {c.role.rsplit("/", 1)[-1] for c in rec.calls} == {naming.TAG_REMEDIATION_ROLE}
    assert "CreateTags" in {c.operation for c in rec.calls}


def test_the_profile_check_repairs_within_its_deployed_role_and_nothing_more(world: World) -> None:
    """Issue 15.4: the sweep attaches the patching profile and the SSM core policy with 0 denied calls; the same
    role may not put another profile on an instance, attach another policy, nor widen org-patching's roles."""
    from devkit.applier import moto_gaps
    from devkit.iam_replay.evaluate import judge

    moto_gaps.install()
    sess = world.emu.session(world.account, world.region)
    iam = sess.client("iam")
    trust = {"Version": "2012-10-17", "Statement": [aws.EC2_TRUST["Statement"][0]]}
    iam.create_role(RoleName="replay-app", AssumeRolePolicyDocument=json.dumps(trust))
    iam.create_instance_profile(InstanceProfileName="replay-app")
    iam.add_role_to_instance_profile(InstanceProfileName="replay-app", RoleName="replay-app")
    bare = aws.run_instances(sess, {"environment": "Dev"})[0]
    app_owned = aws.run_instances(sess, {"environment": "Dev"}, profile="replay-app")[0]
    scheduled = {"detail-type": "Scheduled Event", "source": "aws.events", "account": world.account}
    with recording() as rec:
        swept = _invoke(world, naming.TAG_REMEDIATION_FUNCTION, {**scheduled, "region": world.region, "detail": {}})
    assert swept["profiles"]["attached"][bare] == naming.INSTANCE_PROFILE
    assert swept["profiles"]["policyAttached"]["replay-app"] == [app_owned]
    _judged(rec, minimum_calls=6)
    made = {c.operation for c in rec.calls}
    assert {"AssociateIamInstanceProfile", "AttachRolePolicy", "GetInstanceProfile"} <= made
    role = f"arn:aws:iam::{world.account}:role/{naming.TAG_REMEDIATION_ROLE}"
    attacks = {
        "another profile": (
            "ec2",
            "AssociateIamInstanceProfile",
            {"InstanceId": bare, "IamInstanceProfile": {"Name": "replay-app"}},
        ),
        "another policy": (
            "iam",
            "AttachRolePolicy",
            {"RoleName": "replay-app", "PolicyArn": "arn:aws:iam::aws:policy/AdministratorAccess"},
        ),
        "our own role": (
            "iam",
            "AttachRolePolicy",
            {"RoleName": naming.INSTANCE_ROLE, "PolicyArn": "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"},
        ),
    }
    for what, (service, operation, params) in attacks.items():
        assert not judge(role, world.account, world.region, service, operation, params).allowed, what


def _automation_role(world: World) -> str:
    return f"arn:aws:iam::{world.account}:role/{naming.AUTOMATION_EXECUTION_ROLE}"


def _run_command(world: World) -> Any:
    def run(inputs: dict[str, Any]) -> dict[str, Any]:
        patch_runs.simulate_patch_run(world.account, world.region, inputs["InstanceIds"], "Install")
        return {"CommandId": "replay", "Status": "Success"}

    return run


def test_the_asg_runbook_runs_within_the_automation_role(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(time, "sleep", lambda seconds: None)
    sess = world.emu.session(world.account, world.region)
    template = aws.create_launch_template(
        sess, "replay-rebake", image_id="ami-00000000000000001", profile=naming.INSTANCE_PROFILE, tags={PG: "Prod"}
    )
    window = "Prod_maintenance_window"
    aws.create_asg(
        sess, "replay-rebake", {"environment": "Prod", PG: "Prod", MW: window}, desired=1, template_id=template
    )
    with recording() as rec:
        result = run_runbook(
            render_runbook(naming.RUNBOOK_ASG),
            {"MaintenanceWindow": window, "AutomationAssumeRole": _automation_role(world)},
            world.account,
            world.region,
            as_account=world.emu.as_account,
            run_command=_run_command(world),
        )
    assert result["status"] == "Success", result["error"]
    _judged(rec, minimum_calls=10)
    operations = {c.operation for c in rec.calls}
    assert {"CreateImage", "CreateLaunchTemplateVersion", "StartInstanceRefresh", "RunInstances"} <= operations
    # the refresh names the template: AWS also authorises RunInstances on it and PassRole of its profile's role


def test_the_override_list_writes_to_the_hub_within_its_role_and_the_hub_policies(world: World) -> None:
    """Cross-account: the child's role, the hub bucket's policy and the hub key's policy all judge the write."""
    sess = world.emu.session(world.account, world.region)
    [instance] = aws.run_instances(sess, {"environment": "Prod"}, profile=naming.INSTANCE_PROFILE)
    patch_runs.seed_patches(
        world.account,
        world.region,
        instance,
        [
            {
                "KBId": "openssl.x86_64",
                "Title": "openssl.x86_64:1:3.0.8-1",
                "Classification": "Security",
                "Severity": "Critical",
            }
        ],
    )
    patch_runs.simulate_patch_run(world.account, world.region, [instance], "Scan")
    with recording() as rec:
        result = _invoke(world, naming.OVERRIDE_LIST_FUNCTION, {"InstanceId": instance})
    assert result["patchCount"] == 1
    _judged(rec, minimum_calls=2)
    assert "PutObject" in {c.operation for c in rec.calls}


def test_the_hub_bucket_policy_is_what_lets_the_child_write(world: World) -> None:
    """Attack on the replay: without the hub bucket's organization statement the same write is refused."""
    from devkit.iam_replay.evaluate import judge

    bucket = world.central.outputs["hub"]["patchListsBucket"] if "hub" in world.central.outputs else None
    s3 = world.emu.session(world.emu.default_account, "us-east-1").client("s3")
    bucket = bucket or next(b["Name"] for b in s3.list_buckets()["Buckets"] if "patch-lists" in b["Name"])
    role = f"arn:aws:iam::{world.account}:role/{naming.OVERRIDE_LIST_ROLE}"
    key = f"{world.account}/override-lists/accountid={world.account}/region={world.region}/i-1.yaml"
    params = {"Bucket": bucket, "Key": key, "Body": b"x"}
    assert judge(role, world.account, world.region, "s3", "PutObject", params).allowed
    saved = s3.get_bucket_policy(Bucket=bucket)["Policy"]
    s3.delete_bucket_policy(Bucket=bucket)
    try:
        refused = judge(role, world.account, world.region, "s3", "PutObject", params)
    finally:
        s3.put_bucket_policy(Bucket=bucket, Policy=saved)
    assert [d.reason for d in refused.denials] == [
        f"the resource's policy (account {world.emu.default_account}) does not allow this account"
    ]
    other = judge(
        role, world.account, world.region, "s3", "PutObject", {**params, "Key": "999999999999/override-lists/x"}
    )
    assert not other.allowed  # another account's prefix


def test_the_sweep_writes_its_unmanaged_findings_to_the_hub_and_only_its_own(world: World) -> None:
    """Issue 15.4: the child's role, the hub bucket's policy and the hub key's policy all allow the sweep's write
    of its own account's findings (0 denied calls); an admin of that account who widens the role still cannot write
    another account's prefix, outside the prefix, or with another key, and another role of the organization (or
    the same role name outside it) cannot write at all."""
    from devkit.iam_replay.evaluate import judge

    compliance = world.central.outputs["compliance"]
    bucket, key_arn = compliance["inventoryBucket"], compliance["keyArn"]
    sess = world.emu.session(world.account, world.region)
    iam = sess.client("iam")
    trust = {"Version": "2012-10-17", "Statement": [aws.EC2_TRUST["Statement"][0]]}
    iam.create_role(RoleName="replay-lake-app", AssumeRolePolicyDocument=json.dumps(trust))
    iam.create_instance_profile(InstanceProfileName="replay-lake-app")
    iam.add_role_to_instance_profile(InstanceProfileName="replay-lake-app", RoleName="replay-lake-app")
    unmanaged = aws.run_instances(sess, {"environment": "Dev"}, profile="replay-lake-app")[0]
    scheduled = {"detail-type": "Scheduled Event", "source": "aws.events", "account": world.account}
    with recording() as rec:
        swept = _invoke(world, naming.TAG_REMEDIATION_FUNCTION, {**scheduled, "region": world.region, "detail": {}})
    own = f"{naming.UNMANAGED_PREFIX}/accountid={world.account}/region={world.region}/"
    assert swept["unmanagedLake"].startswith(f"s3://{bucket}/{own}dt="), swept["errors"]
    assert unmanaged in {u["resourceid"] for u in swept["unmanaged"]}
    _judged(rec, minimum_calls=4)
    assert "PutObject" in {c.operation for c in rec.calls}

    role = f"arn:aws:iam::{world.account}:role/{naming.TAG_REMEDIATION_ROLE}"
    other = next(a for a in aws.ACCOUNTS if a != world.account)
    write = {"Bucket": bucket, "Key": f"{own}dt=2026-11-29/findings.jsonl", "Body": b"{}", "SSEKMSKeyId": key_arn}
    write["ServerSideEncryption"] = "aws:kms"
    attacks = {
        "another account's prefix": {**write, "Key": f"{naming.UNMANAGED_PREFIX}/accountid={other}/x.jsonl"},
        "outside the prefix": {**write, "Key": f"{naming.INVENTORY_PREFIX}/AWS:Tag/accountid={world.account}/x.json"},
        "another key": {**write, "SSEKMSKeyId": key_arn.rsplit("/", 1)[0] + "/00000000-0000-0000-0000-000000000000"},
        "no key named": {k: v for k, v in write.items() if k not in ("SSEKMSKeyId", "ServerSideEncryption")},
    }
    assert judge(role, world.account, world.region, "s3", "PutObject", write).allowed
    # the account's admin widens the sweep's role: only the hub's policies stand between it and the lake
    wide = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["s3:*", "kms:*"], "Resource": "*"}]}
    saved = iam.get_role_policy(RoleName=naming.TAG_REMEDIATION_ROLE, PolicyName=naming.INLINE_POLICY)
    iam.put_role_policy(
        RoleName=naming.TAG_REMEDIATION_ROLE, PolicyName=naming.INLINE_POLICY, PolicyDocument=json.dumps(wide)
    )
    try:
        for what, params in attacks.items():
            refused = judge(role, world.account, world.region, "s3", "PutObject", params)
            assert not refused.allowed, what
            assert any("policy (account" in d.reason for d in refused.denials), (what, refused.denials)
        iam.create_role(RoleName="replay-lake-other", AssumeRolePolicyDocument=json.dumps(trust))
        iam.put_role_policy(RoleName="replay-lake-other", PolicyName="wide", PolicyDocument=json.dumps(wide))
        other_role = f"arn:aws:iam::{world.account}:role/replay-lake-other"
        assert not judge(other_role, world.account, world.region, "s3", "PutObject", write).allowed
    finally:
        iam.put_role_policy(
            RoleName=naming.TAG_REMEDIATION_ROLE,
            PolicyName=naming.INLINE_POLICY,
            PolicyDocument=json.dumps(saved["PolicyDocument"]),
        )
    outsider = "999999999999"  # the same role name in an account outside the organization
    outside_iam = world.emu.session(outsider, world.region).client("iam")
    outside_iam.create_role(RoleName=naming.TAG_REMEDIATION_ROLE, AssumeRolePolicyDocument=json.dumps(trust))
    outside_iam.put_role_policy(
        RoleName=naming.TAG_REMEDIATION_ROLE, PolicyName="wide", PolicyDocument=json.dumps(wide)
    )
    outside = {**write, "Key": f"{naming.UNMANAGED_PREFIX}/accountid={outsider}/x.jsonl"}
    outside_role = f"arn:aws:iam::{outsider}:role/{naming.TAG_REMEDIATION_ROLE}"
    assert not judge(outside_role, outsider, world.region, "s3", "PutObject", outside).allowed


def test_a_refresh_onto_a_template_with_an_app_profile_needs_its_pass_role(world: World) -> None:
    """The refresh's implicit authorisations are judged: RunInstances on the template, PassRole of its role."""
    from devkit.iam_replay.evaluate import judge

    sess = world.emu.session(world.account, world.region)
    iam = sess.client("iam")
    trust = {
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]
    }
    iam.create_role(RoleName="app-admin", AssumeRolePolicyDocument=json.dumps(trust))  # outside /org-patching-app/
    iam.create_instance_profile(InstanceProfileName="app-admin")
    iam.add_role_to_instance_profile(InstanceProfileName="app-admin", RoleName="app-admin")
    own = aws.create_launch_template(sess, "replay-own", profile=naming.INSTANCE_PROFILE, tags={PG: "Prod"})
    foreign = aws.create_launch_template(sess, "replay-app", profile="app-admin", tags={PG: "Prod"})
    role = _automation_role(world)

    def refresh(template: str) -> Any:
        desired = {"LaunchTemplate": {"LaunchTemplateId": template, "Version": "1"}}
        params = {"AutoScalingGroupName": "g", "DesiredConfiguration": desired}
        return judge(role, world.account, world.region, "autoscaling", "StartInstanceRefresh", params)

    assert not [d for d in refresh(own).denials if d.action in ("iam:PassRole", "ec2:RunInstances")]
    denied = [(d.action, d.resource) for d in refresh(foreign).denials]
    assert ("iam:PassRole", f"arn:aws:iam::{world.account}:role/app-admin") in denied


def test_a_window_firing_is_judged_as_its_service_role_and_its_commands_as_the_automation_role(world: World) -> None:
    """Issue 12's replay gaps: SSM's StartAutomationExecution of the hub's shared runbook as the window's service role
    (with the implicit iam:PassRole of the AutomationAssumeRole) and each aws:runCommand's SendCommand as the
    automation's role are judged by the deployed roles' policies."""
    from devkit.iam_replay.evaluate import judge
    from devkit.maintenance_windows import run_window
    from devkit.run_command import RunCommandAgent

    sess = world.emu.session(world.account, world.region)
    aws.run_instances(sess, {"environment": "Prod", MW: "Default_maintenance_window"}, profile=naming.INSTANCE_PROFILE)
    with recording() as rec:
        run = run_window(
            world.emu, RunCommandAgent(world.emu), world.account, world.region, "Default_maintenance_window"
        )
    assert run.failures == []
    assert {task.document.rsplit("/", 1)[-1] for task in run.tasks} == {naming.RUNBOOK_STANDALONE, naming.RUNBOOK_ASG}
    _judged(rec, minimum_calls=3)
    by_role = {(c.role.rsplit("/", 1)[-1], c.operation) for c in rec.calls}
    assert (naming.MAINTENANCE_WINDOW_ROLE, "StartAutomationExecution") in by_role
    assert (naming.AUTOMATION_EXECUTION_ROLE, "SendCommand") in by_role
    # the same calls a role may not make are refused: another account's runbook, another command document
    window_role = f"arn:aws:iam::{world.account}:role/{naming.MAINTENANCE_WINDOW_ROLE}"
    foreign = f"arn:aws:ssm:{world.region}:999999999999:document/{naming.RUNBOOK_STANDALONE}"
    start = {"DocumentName": foreign, "Parameters": {"AutomationAssumeRole": [_automation_role(world)]}}
    assert not judge(window_role, world.account, world.region, "ssm", "StartAutomationExecution", start).allowed
    passing_other = {
        **start,
        "DocumentName": run.tasks[0].document,
        "Parameters": {"AutomationAssumeRole": [window_role]},
    }
    denied = judge(window_role, world.account, world.region, "ssm", "StartAutomationExecution", passing_other).denials
    assert [d.action for d in denied] == ["iam:PassRole"]
    command = {"DocumentName": "AWS-RunShellScript", "Targets": [{"Key": f"tag:{MW}", "Values": ["x"]}]}
    assert not judge(_automation_role(world), world.account, world.region, "ssm", "SendCommand", command).allowed


def test_the_child_roles_are_capped_by_their_boundary_whatever_their_policy_becomes(world: World) -> None:
    """Issue 15: every deployed child role carries org-patching-child-role-boundary; a role whose inline policy was
    rewritten to allow everything still may not write IAM, drop its boundary or reach another service, while what
    the role needs stays allowed (edits of the boundary policy: tests/hub/test_child_role_boundary.py)."""
    from devkit.iam_replay.evaluate import judge

    iam = world.emu.session(world.account, world.region).client("iam")
    boundary = naming.child_role_boundary_arn("aws", world.account)
    for name in (naming.INSTANCE_ROLE, naming.AUTOMATION_EXECUTION_ROLE, naming.NOTICE_READER_ROLE):
        assert iam.get_role(RoleName=name)["Role"]["PermissionsBoundary"]["PermissionsBoundaryArn"] == boundary
    role = naming.NOTICE_READER_ROLE
    everything = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
    iam.put_role_policy(RoleName=role, PolicyName="loosened", PolicyDocument=json.dumps(everything))
    try:
        arn = f"arn:aws:iam::{world.account}:role/{role}"

        def verdict(service: str, operation: str, params: dict[str, Any]) -> Any:
            return judge(arn, world.account, world.region, service, operation, params)

        trust = json.dumps(aws.EC2_TRUST)
        refused = {
            "a role": verdict("iam", "CreateRole", {"RoleName": "org-patching-x", "AssumeRolePolicyDocument": trust}),
            "another role's policy": verdict(
                "iam", "PutRolePolicy", {"RoleName": naming.INSTANCE_ROLE, "PolicyName": "x", "PolicyDocument": "{}"}
            ),
            "its boundary": verdict("iam", "DeleteRolePermissionsBoundary", {"RoleName": role}),
            "another service": verdict("lambda", "DeleteFunction", {"FunctionName": naming.OVERRIDE_LIST_FUNCTION}),
        }
        for what, seen in refused.items():
            assert not seen.allowed, what
            assert any("boundary" in d.reason for d in seen.denials), (what, seen.denials)
        assert verdict("ec2", "DescribeInstances", {}).allowed
    finally:
        iam.delete_role_policy(RoleName=role, PolicyName="loosened")
