"""RegionalSpoke's wiring: tag compliance, event routing, functions and their packaging."""

from __future__ import annotations

import json
from typing import Any

import tag_contract as contract

from components import naming, packaging
from components.spoke.tag_compliance import compliance_event_pattern, required_tags_parameters, sweep_event

ACCOUNT = "222222222222"


def in_region(capture: Any, type_: str, region: str, account: str = ACCOUNT) -> list[Any]:
    return [r for r in capture.of_type(type_) if capture.account_of(r) == account and r.inputs.get("region") == region]


def test_config_rule_uses_the_contract(child_capture: Any) -> None:
    rules = child_capture.of_type("aws:cfg/rule:Rule")
    assert len(rules) == 4
    for rule in rules:
        assert rule.inputs["source"] == {"owner": "AWS", "sourceIdentifier": "REQUIRED_TAGS"}
        assert rule.inputs["scope"]["complianceResourceTypes"] == [
            "AWS::EC2::Instance",
            "AWS::AutoScaling::AutoScalingGroup",
        ]
        parameters = json.loads(rule.inputs["inputParameters"])
        assert parameters == required_tags_parameters()
        assert parameters["tag1Key"] == contract.MAINTENANCE_WINDOW_TAG
        assert "tag1Value" not in parameters  # team windows are named by teams (docs/teams.md)
        assert set(parameters["tag2Value"].split(",")) == set(contract.PATCH_GROUPS)


def test_only_noncompliant_changes_of_our_rule() -> None:
    pattern = compliance_event_pattern()
    assert pattern["detail"]["configRuleName"] == [naming.CONFIG_RULE]
    assert pattern["detail"]["newEvaluationResult"] == {"complianceType": ["NON_COMPLIANT"]}


def test_home_region_remediates_other_regions_forward(child_capture: Any) -> None:
    targets = in_region(child_capture, "aws:cloudwatch/eventTarget:EventTarget", "us-east-1")
    # the patch-event forwarding to the hub has its own tests (tests/spoke/test_event_forwarding.py)
    home = [t for t in targets if t.inputs["rule"] != naming.PATCH_EVENT_FORWARDING_RULE]
    function = next(
        f
        for f in in_region(child_capture, "aws:lambda/function:Function", "us-east-1")
        if f.inputs["name"] == naming.TAG_REMEDIATION_FUNCTION
    )
    assert {t.inputs["arn"] for t in home} == {function.outputs["arn"]}
    sweeps = {json.loads(t.inputs["input"])["region"] for t in home if "input" in t.inputs}
    assert sweeps == {"us-east-1", "eu-west-1"}
    assert sweep_event(ACCOUNT, "eu-west-1")["detail-type"] == "Scheduled Event"
    (forward,) = [
        t
        for t in in_region(child_capture, "aws:cloudwatch/eventTarget:EventTarget", "eu-west-1")
        if t.inputs["rule"] != naming.PATCH_EVENT_FORWARDING_RULE
    ]
    assert forward.inputs["arn"] == f"arn:aws:events:us-east-1:{ACCOUNT}:event-bus/default"
    assert forward.inputs["roleArn"].endswith(":role/org-patching-event-forwarding")
    assert not [
        f
        for f in in_region(child_capture, "aws:lambda/function:Function", "eu-west-1")
        if f.inputs["name"] == naming.TAG_REMEDIATION_FUNCTION
    ]


def test_functions_are_packaged_with_the_contract_and_logged(child_capture: Any) -> None:
    groups = {
        (child_capture.account_of(g), g.inputs["region"]): g
        for g in child_capture.of_type("aws:cloudwatch/logGroup:LogGroup")
    }
    for function in child_capture.of_type("aws:lambda/function:Function"):
        region = function.inputs["region"]
        assert function.inputs["runtime"] == "python3.12"
        assert function.inputs["handler"] == "app.handler"
        assert function.inputs["layers"] == [packaging.powertools_layer("aws", region)]
        assert (
            f":lambda:{region}:017000801446:layer:AWSLambdaPowertoolsPythonV3-python312-x86_64:"
            in (function.inputs["layers"][0])
        )
        group = groups[(child_capture.account_of(function), region)]
        assert function.inputs["loggingConfig"]["logGroup"] == group.inputs["name"]
        assert group.inputs["retentionInDays"] > 0
        variables = function.inputs["environment"]["variables"]
        assert variables["AWS_ACCOUNT_ID"] == child_capture.account_of(function)
        # botocore reads these itself: every client of the shared runtime retries throttling 10 times
        assert (variables["AWS_RETRY_MODE"], variables["AWS_MAX_ATTEMPTS"]) == ("standard", "10")
    for name in ("tag_remediation", "window_tagging", "override_list"):
        archive = packaging.archive(name)
        assert {"app.py", "tag_contract.py", "lambda_shared/__init__.py", "lambda_shared/tagging.py"} <= set(
            archive.assets
        )


def test_tag_remediation_has_a_dead_letter_queue(child_capture: Any) -> None:
    (function,) = [
        f
        for f in in_region(child_capture, "aws:lambda/function:Function", "us-east-1")
        if f.inputs["name"] == naming.TAG_REMEDIATION_FUNCTION
    ]
    (queue,) = in_region(child_capture, "aws:sqs/queue:Queue", "us-east-1")
    assert queue.inputs["sqsManagedSseEnabled"] is True
    assert function.inputs["deadLetterConfig"]["targetArn"] == queue.outputs["arn"]


def test_window_tagging_function_in_every_region(child_capture: Any) -> None:
    found = {
        (child_capture.account_of(f), f.inputs["region"])
        for f in child_capture.of_type("aws:lambda/function:Function")
        if f.inputs["name"] == naming.WINDOW_TAGGING_FUNCTION
    }
    assert found == {(a, r) for a in ("222222222222", "333333333333") for r in ("us-east-1", "eu-west-1")}


def test_window_tasks_run_the_hubs_shared_runbooks_with_declared_parameters(
    child_capture: Any, central_capture: Any, central_config: Any
) -> None:
    from components.runbooks import declared_parameters, load_runbooks

    lists = central_capture.outputs["compliance"]["patchListBucket"]
    override = f"s3://{lists}/baseline-overrides/child.json"  # the shard's file, passed by every default window
    runbooks = load_runbooks()
    assert set(runbooks) == {naming.RUNBOOK_STANDALONE, naming.RUNBOOK_ASG}
    # no copy of the runbooks in any child account-region: the hub's shared copy of each Region (by ARN)
    assert not child_capture.of_type("aws:ssm/document:Document")
    hub_copies = {
        (d.inputs.get("region") or central_config.home_region, d.inputs["name"]): d
        for d in central_capture.of_type("aws:ssm/document:Document")
    }
    windows = {w.id: w for w in child_capture.of_type("aws:ssm/maintenanceWindow:MaintenanceWindow")}
    tasks = child_capture.of_type("aws:ssm/maintenanceWindowTask:MaintenanceWindowTask")
    assert len(tasks) == 2 * 2 * 2
    log_bucket = central_capture.outputs["compliance"]["patchLogBucket"]
    for task in tasks:
        account, region = child_capture.account_of(task), task.inputs["region"]
        assert windows[task.inputs["windowId"]].inputs["region"] == region
        assert task.inputs["taskType"] == "AUTOMATION"
        assert task.inputs["serviceRoleArn"] == f"arn:aws:iam::{account}:role/{naming.MAINTENANCE_WINDOW_ROLE}"
        automation = task.inputs["taskInvocationParameters"]["automationParameters"]
        parameters = {p["name"]: p["values"][0] for p in automation["parameters"]}
        prefix = f"arn:aws:ssm:{region}:{central_config.central_account_id}:document/"
        assert task.inputs["taskArn"].startswith(prefix)
        runbook = task.inputs["taskArn"].removeprefix(prefix)
        copy = hub_copies[(region, runbook)]  # the hub has this Region's copy, shared with the account
        assert copy.inputs["content"] == runbooks[runbook]
        assert account in copy.inputs["permissions"]["account_ids"].split(",")
        # every parameter the window must pin is passed (a dropped one would run with the runbook's default)
        pinned = {"AutomationAssumeRole", "MaintenanceWindow", "Operation", "OutputS3BucketName", "OutputS3KeyPrefix"}
        pinned |= {"BaselineOverride", "ChangeCalendar"}
        if runbook == naming.RUNBOOK_STANDALONE:
            pinned |= {"RebootOption", "MaxConcurrency", "MaxErrors"}
        else:
            pinned |= {"MinHealthyPercentage"}
        assert set(parameters) == pinned & declared_parameters(runbooks[runbook])
        assert pinned - {"OutputS3BucketName", "OutputS3KeyPrefix"} <= declared_parameters(runbooks[runbook])
        assert parameters["AutomationAssumeRole"].endswith(f"{account}:role/{naming.AUTOMATION_EXECUTION_ROLE}")
        assert parameters["MaintenanceWindow"] == "Default_maintenance_window"
        assert parameters["Operation"] == "Install"
        assert parameters["BaselineOverride"] == override
        # the hub's change calendar of the task's Region (the shared copy's default is empty: no freeze check)
        assert parameters["ChangeCalendar"] == naming.change_calendar_arn(
            "aws", region, central_config.central_account_id
        )
        if runbook == naming.RUNBOOK_STANDALONE:
            assert parameters["RebootOption"] == "RebootIfNeeded"
            assert (parameters["MaxConcurrency"], parameters["MaxErrors"]) == ("10%", "10%")
            assert parameters["OutputS3BucketName"] == log_bucket
            # the runbook puts the account id in front (the instance role writes only under its own prefix)
            assert parameters["OutputS3KeyPrefix"] == "patching"
        else:
            assert parameters["MinHealthyPercentage"] == "90"


def test_the_execution_role_carries_the_shards_baselines_for_windows_that_pass_none(
    child_capture: Any, central_capture: Any, render_child: Any
) -> None:
    from components.runbooks.baseline_choice import ROLE_TAG

    lists = central_capture.outputs["compliance"]["patchListBucket"]
    roles = [
        r for r in child_capture.of_type("aws:iam/role:Role") if r.inputs["name"] == naming.AUTOMATION_EXECUTION_ROLE
    ]
    assert len(roles) == 2
    assert {r.inputs["tags"][ROLE_TAG] for r in roles} == {f"s3://{lists}/baseline-overrides/child.json"}
    staged = render_child(patching={"stagedApproval": True, "operatingSystems": ["WINDOWS"]})
    for role in staged.of_type("aws:iam/role:Role"):
        assert ROLE_TAG not in (role.inputs.get("tags") or {})


def test_override_list_writes_under_its_account(child_capture: Any, central_capture: Any) -> None:
    functions_found = [
        f
        for f in child_capture.of_type("aws:lambda/function:Function")
        if f.inputs["name"] == naming.OVERRIDE_LIST_FUNCTION
    ]
    assert {(child_capture.account_of(f), f.inputs["region"]) for f in functions_found} == {
        ("222222222222", "us-east-1"),
        ("333333333333", "us-east-1"),
    }
    for function in functions_found:
        variables = function.inputs["environment"]["variables"]
        assert variables["PATCH_LISTS_BUCKET"] == central_capture.outputs["compliance"]["patchListBucket"]
        assert variables["PATCH_LISTS_PREFIX"].startswith(f"{child_capture.account_of(function)}/")
