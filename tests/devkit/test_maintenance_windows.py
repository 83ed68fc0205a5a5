"""A window firing on the emulator: the registered tasks with their registered parameters, SSM's
targeting of managed instances, MaxErrors, a failed patch failing the command and the task, and
the agent's output written only where the instance role may write."""

from __future__ import annotations

import json

import pytest

from components import naming
from components.runbooks import render_runbook
from devkit.maintenance_windows import WindowNotFound, run_window
from devkit.run_command import CommandFailed, RunCommandAgent, limit
from tests import aws

ACCOUNT, REGION = aws.ACCOUNTS[0], aws.REGIONS[0]
WINDOW = "Default_maintenance_window"
BUCKET = "patch-logs"


def role_may_write(prefix: str) -> str:
    """An instance profile whose role may put objects only under ``prefix`` of the log bucket."""
    iam = aws.session(ACCOUNT, REGION).client("iam")
    trust = {
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]
    }
    iam.create_role(RoleName="patched", AssumeRolePolicyDocument=json.dumps(trust))
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": "s3:PutObject", "Resource": f"arn:aws:s3:::{BUCKET}/{prefix}*"},
            *aws.SSM_CORE["Statement"],  # the agent registers: the instance is managed
        ],
    }
    iam.put_role_policy(RoleName="patched", PolicyName="logs", PolicyDocument=json.dumps(policy))
    iam.create_instance_profile(InstanceProfileName="patched")
    iam.add_role_to_instance_profile(InstanceProfileName="patched", RoleName="patched")
    return "patched"


def register_window(parameters: dict[str, str]) -> None:
    """The spoke's window and instance task, as the child stack registers them."""
    ssm = aws.session(ACCOUNT, REGION).client("ssm")
    ssm.create_document(
        Name=naming.RUNBOOK_STANDALONE,
        Content=render_runbook(naming.RUNBOOK_STANDALONE),
        DocumentType="Automation",
        DocumentFormat="YAML",
    )
    window = aws.create_window(aws.session(ACCOUNT, REGION), WINDOW)
    ssm.register_task_with_maintenance_window(
        WindowId=window,
        Name="patch-instances",
        TaskArn=naming.RUNBOOK_STANDALONE,
        TaskType="AUTOMATION",
        Priority=1,
        TaskInvocationParameters={"Automation": {"Parameters": {k: [v] for k, v in parameters.items()}}},
    )


@pytest.fixture
def fleet(moto_aws: None) -> dict[str, list[str]]:
    sess = aws.session(ACCOUNT, REGION)
    sess.client("s3").create_bucket(Bucket=BUCKET)
    profile = role_may_write(f"{ACCOUNT}/")
    tags = {"maintenance_window": WINDOW}
    return {
        "managed": sorted(aws.run_instances(sess, tags, count=4, profile=profile)),
        "unmanaged": aws.run_instances(sess, tags, count=1),  # no profile: no SSM agent registration
        "elsewhere": aws.run_instances(sess, {"maintenance_window": "Prod_maintenance_window"}, profile=profile),
    }


def parameters(**overrides: str) -> dict[str, str]:
    return {
        "MaintenanceWindow": WINDOW,
        "Operation": "Install",
        "MaxConcurrency": "1",
        "MaxErrors": "0",
        "OutputS3BucketName": BUCKET,
        "OutputS3KeyPrefix": "patching",  # the runbook puts the account id first
        **overrides,
    }


def test_the_registered_task_patches_the_managed_instances_of_the_window(fleet: dict[str, list[str]]) -> None:
    register_window(parameters())
    agent = RunCommandAgent(aws.emulator())
    run = run_window(aws.emulator(), agent, ACCOUNT, REGION, WINDOW)
    [task] = run.tasks
    assert task.status == "Success" and run.failures == []
    assert task.parameters == parameters()  # exactly what was registered
    [command] = agent.commands
    assert command.targets == fleet["managed"]  # SSM's targeting: managed and tagged with this window
    assert [i.status for i in command.invocations] == ["Success"] * 4
    keys = [o["Key"] for o in aws.session(ACCOUNT, REGION).client("s3").list_objects_v2(Bucket=BUCKET)["Contents"]]
    assert len(keys) == 4
    assert all(k.startswith(f"{ACCOUNT}/patching/accountid={ACCOUNT}/region={REGION}/executionid=") for k in keys)
    sent = aws.session(ACCOUNT, REGION).client("ssm").list_commands(CommandId=command.command_id)["Commands"][0]
    assert (sent["MaxConcurrency"], sent["MaxErrors"]) == ("1", "0")


def test_a_failed_patch_fails_the_command_the_automation_and_stops_at_max_errors(
    fleet: dict[str, list[str]],
) -> None:
    register_window(parameters())
    first = fleet["managed"][0]
    agent = RunCommandAgent(aws.emulator(), {first: ("openssl.x86_64",)})
    run = run_window(aws.emulator(), agent, ACCOUNT, REGION, WINDOW)
    [command] = agent.commands
    assert command.status == "Failed"
    assert [i.instance_id for i in command.invocations] == [first]  # MaxErrors 0, one at a time: nothing more sent
    assert "3 not sent (MaxErrors reached)" in command.reason
    [failure] = run.failures
    assert f"{ACCOUNT}/{REGION}/{WINDOW} task patch-instances" in failure
    assert "runPatchBaseline: CommandFailed" in failure and f"{first}: 1 patch(es) failed to install" in failure


def test_output_outside_the_role_s_prefix_is_not_written(fleet: dict[str, list[str]]) -> None:
    # the runbook always writes under the account's own prefix; another bucket is outside the role's grant
    register_window(parameters(OutputS3BucketName="someone-elses-patch-logs"))
    agent = RunCommandAgent(aws.emulator())
    run_window(aws.emulator(), agent, ACCOUNT, REGION, WINDOW)
    [command] = agent.commands
    assert len(command.not_written) == 4 and "role patched may not write" in command.not_written[0]
    assert "Contents" not in aws.session(ACCOUNT, REGION).client("s3").list_objects_v2(Bucket=BUCKET)


def test_an_instance_id_that_is_not_managed_fails_the_command(fleet: dict[str, list[str]]) -> None:
    agent = RunCommandAgent(aws.emulator())
    run = agent.runner(ACCOUNT, REGION)
    with pytest.raises(CommandFailed, match=f"{fleet['unmanaged'][0]} not a managed instance"):
        run({"DocumentName": "AWS-RunPatchBaseline", "InstanceIds": fleet["unmanaged"], "Parameters": {}})


def test_a_window_that_does_not_exist_is_named(moto_aws: None) -> None:
    with pytest.raises(WindowNotFound, match="Prod_maintenance_window"):
        run_window(aws.emulator(), RunCommandAgent(aws.emulator()), ACCOUNT, REGION, "Prod_maintenance_window")


@pytest.mark.parametrize(
    ("value", "targets", "concurrency", "errors"),
    [("10%", 25, 2, 2), ("10%", 5, 1, 0), ("3", 2, 3, 3), ("100%", 7, 7, 7)],
)
def test_limits_are_percentages_of_the_targets_rounded_down(
    value: str, targets: int, concurrency: int, errors: int
) -> None:
    assert limit(value, targets, at_least_one=True) == concurrency
    assert limit(value, targets, at_least_one=False) == errors
