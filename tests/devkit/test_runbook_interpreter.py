"""The runbook interpreter is as strict as SSM Automation: parameters, nested calls and time (issue 19 item 4)."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from botocore.exceptions import ParamValidationError

from components import naming
from components.runbooks import render_runbook
from devkit.runbook_interpreter import InvalidParameters, validate_call
from devkit.virtual_clock import CLOCK
from tests import aws

ACCOUNT, REGION = aws.ACCOUNTS[0], aws.REGIONS[0]


def script_runbook(body: str, timeout: int | None = None, extra_steps: str = "") -> str:
    step: dict[str, Any] = {
        "name": "work",
        "action": "aws:executeScript",
        "inputs": {"Runtime": "python3.11", "Handler": "handler", "Script": body, "InputPayload": {}},
        "outputs": [{"Name": "Out", "Selector": "$.Payload.out", "Type": "String"}],
    }
    if timeout is not None:
        step["timeoutSeconds"] = timeout
    document = {"schemaVersion": "0.3", "parameters": {}, "mainSteps": [step, *yaml.safe_load(extra_steps or "[]")]}
    return yaml.safe_dump(document, sort_keys=False)


@pytest.mark.parametrize(
    ("parameters", "message"),
    [
        ({"Operation": "Patch"}, "Operation: 'Patch' is not one of the allowed values"),
        ({"MaxConcurrency": "0"}, "MaxConcurrency: '0' does not match the allowed pattern"),
        ({"RebootOption": 7}, "RebootOption: 7 is not a String"),
        ({"PatchGroup": "Production"}, "PatchGroup: 'Production' does not match"),
        ({"Bogus": "x"}, "undeclared parameters ['Bogus']"),
    ],
)
def test_parameters_ssm_would_refuse_are_refused_before_any_step(
    moto_aws: None, parameters: dict[str, Any], message: str
) -> None:
    runs: list[Any] = []
    with pytest.raises(InvalidParameters, match=message.replace("[", r"\[").replace("]", r"\]")):
        aws.automation(render_runbook(naming.RUNBOOK_STANDALONE), parameters, ACCOUNT, REGION, run_command=runs.append)
    assert runs == []


def test_typed_parameters_are_converted_and_lists_checked(moto_aws: None) -> None:
    asg = render_runbook(naming.RUNBOOK_ASG)
    with pytest.raises(InvalidParameters, match="MinHealthyPercentage: 'many' is not an Integer"):
        aws.automation(asg, {"MinHealthyPercentage": "many"}, ACCOUNT, REGION)
    with pytest.raises(InvalidParameters, match="AutoRollback: 'yes' is not a Boolean"):
        aws.automation(asg, {"AutoRollback": "yes"}, ACCOUNT, REGION)
    ok = aws.automation(asg, {"Operation": ["Scan"], "MinHealthyPercentage": "50"}, ACCOUNT, REGION)
    assert ok["status"] == "Success" and ok["values"]["MinHealthyPercentage"] == 50


def test_run_command_inputs_are_checked_against_send_command(moto_aws: None) -> None:
    with pytest.raises(ParamValidationError, match="OutputS3BucketName"):
        validate_call("ssm", "SendCommand", {"DocumentName": "AWS-RunPatchBaseline", "OutputS3BucketName": ""})
    document = yaml.safe_load(render_runbook(naming.RUNBOOK_STANDALONE))
    step = next(s for s in document["mainSteps"] if s["name"] == "runPatchBaseline")
    step["inputs"]["MaxConcurrency"] = ""  # what an empty parameter would send
    # the steps whose outputs it reads (the change gate's operation, the baseline choice), then the step itself
    needed = [s for s in document["mainSteps"] if s["name"] in ("checkChangeGate", "chooseBaseline")]
    document["mainSteps"] = [*needed, step]
    run = aws.automation(yaml.safe_dump(document), {}, ACCOUNT, REGION, run_command=lambda inputs: {})
    assert run["status"] == "Failed" and "ParamValidationError" in run["error"] and "MaxConcurrency" in run["error"]


def test_sleeps_advance_the_virtual_clock_and_a_script_past_600_seconds_fails(moto_aws: None) -> None:
    body = "import time\n\ndef handler(events, context):\n    time.sleep(SECONDS)\n    return {'out': 'slept'}\n"
    before = CLOCK.now()
    quick = aws.automation(script_runbook(body.replace("SECONDS", "300")), {}, ACCOUNT, REGION)
    assert quick["status"] == "Success" and quick["seconds"] == 300 and CLOCK.now() - before == 300
    # executeScript's 600 s limit holds even when timeoutSeconds says more
    slow = aws.automation(script_runbook(body.replace("SECONDS", "601"), timeout=3600), {}, ACCOUNT, REGION)
    assert slow["status"] == "Failed" and "StepTimedOut" in slow["error"]
    # and timeoutSeconds when it says less
    short = aws.automation(script_runbook(body.replace("SECONDS", "120"), timeout=60), {}, ACCOUNT, REGION)
    assert short["status"] == "Failed" and "StepTimedOut" in short["error"]


def test_botocore_waiters_in_a_script_wait_in_virtual_time(moto_aws: None) -> None:
    """The old create_images waited up to 34 x 15 s for an AMI: such a waiter now counts against the step."""
    sess = aws.session(ACCOUNT, REGION)
    [instance] = aws.run_instances(sess, {})
    body = (
        "import boto3\n\ndef handler(events, context):\n"
        "    ec2 = boto3.client('ec2')\n"
        f"    ec2.get_waiter('instance_terminated').wait(InstanceIds=['{instance}'],"
        " WaiterConfig={'Delay': 15, 'MaxAttempts': 60})\n"
        "    return {'out': 'never'}\n"
    )
    before = CLOCK.now()
    run = aws.automation(script_runbook(body), {}, ACCOUNT, REGION)
    assert run["status"] == "Failed" and "StepTimedOut" in run["error"]
    assert 585 <= CLOCK.now() - before <= 600


def test_aws_api_actions_are_validated_and_wait_in_virtual_time(moto_aws: None) -> None:
    sess = aws.session(ACCOUNT, REGION)
    [instance] = aws.run_instances(sess, {})
    steps = f"""
- name: describe
  action: aws:executeAwsApi
  inputs: {{Service: ec2, Api: DescribeInstances, InstanceIds: ["{instance}"]}}
  outputs: [{{Name: State, Selector: "$.Reservations[0].Instances[0].State.Name", Type: String}}]
- name: running
  action: aws:assertAwsResourceProperty
  inputs: {{Service: ec2, Api: DescribeInstances, InstanceIds: ["{instance}"],
            PropertySelector: "$.Reservations[0].Instances[0].State.Name", DesiredValues: [running]}}
- name: waitStopped
  action: aws:waitForAwsResourceProperty
  timeoutSeconds: 120
  inputs: {{Service: ec2, Api: DescribeInstances, InstanceIds: ["{instance}"],
            PropertySelector: "$.Reservations[0].Instances[0].State.Name", DesiredValues: [stopped]}}
"""
    body = "def handler(events, context):\n    return {'out': 'x'}\n"
    run = aws.automation(script_runbook(body, extra_steps=steps), {}, ACCOUNT, REGION)
    assert run["values"]["describe.State"] == "running"
    assert run["executed"] == ["work", "describe", "running", "waitStopped"]
    assert run["status"] == "Failed" and "waitStopped: StepTimedOut" in run["error"] and run["seconds"] >= 120
    bad = "- name: bad\n  action: aws:executeAwsApi\n  inputs: {Service: ec2, Api: DescribeInstances, InstanceIds: 5}\n"
    refused = aws.automation(script_runbook(body, extra_steps=bad), {}, ACCOUNT, REGION)
    assert refused["status"] == "Failed" and "ParamValidationError" in refused["error"]


def test_an_execution_is_visible_while_it_runs_and_abort_cancels_it(moto_aws: None) -> None:
    seen: list[str] = []
    execution = "11111111-2222-4333-8444-555555555555"
    body = (
        "import boto3\n\ndef handler(events, context):\n"
        f"    e = boto3.client('ssm').get_automation_execution(AutomationExecutionId='{execution}')\n"
        "    return {'out': e['AutomationExecution']['AutomationExecutionStatus']}\n"
    )
    run = aws.automation(script_runbook(body), {}, ACCOUNT, REGION, execution_id=execution)
    seen.append(run["values"]["work.Out"])
    ssm = aws.session(ACCOUNT, REGION).client("ssm")
    assert seen == ["InProgress"]
    assert (
        ssm.get_automation_execution(AutomationExecutionId=execution)["AutomationExecution"][
            "AutomationExecutionStatus"
        ]
        == "Success"
    )
    cut = aws.automation(script_runbook(body), {}, ACCOUNT, REGION, execution_id=execution, abort_after=0)
    assert cut["status"] == "Cancelled" and cut["executed"] == []
