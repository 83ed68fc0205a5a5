"""``guard_compute``: Lambda runtimes and log retention, maintenance window cutoff."""

from __future__ import annotations

from policy_testing import R, U, provider, run_resource, run_stack

GR = "org-patching"
FN = "aws:lambda/function:Function"
LG = "aws:cloudwatch/logGroup:LogGroup"


def test_lambda_runtime_allow_list_and_config() -> None:
    fn = "aws:lambda/function:Function"
    assert run_resource("lambda-runtime-allowed", fn, {"runtime": "python3.12"}, project=GR) == []
    [message] = run_resource("lambda-runtime-allowed", fn, {"runtime": "python3.8"}, project=GR, resource_name="f")
    assert message == "Lambda function 'f' uses runtime 'python3.8'; allowed: python3.12, python3.13."
    config = {"runtimes": ["python3.8"]}
    assert run_resource("lambda-runtime-allowed", fn, {"runtime": "python3.8"}, project=GR, config=config) == []
    assert run_resource("lambda-runtime-allowed", fn, {"packageType": "Image"}, project=GR) == []
    assert run_resource("lambda-runtime-allowed", fn, {"runtime": U}, project=GR) == []


def test_maintenance_window_cutoff() -> None:
    mw = "aws:ssm/maintenanceWindow:MaintenanceWindow"
    assert run_resource("maintenance-window-cutoff", mw, {"duration": 4.0, "cutoff": 1.0}, project=GR) == []
    [message] = run_resource("maintenance-window-cutoff", mw, {"duration": 2.0, "cutoff": 2.0}, project=GR)
    assert "cutoff 2h >= duration 2h" in message
    assert run_resource("maintenance-window-cutoff", mw, {"duration": U, "cutoff": 3.0}, project=GR) == []


def test_lambda_log_retention() -> None:
    fn = R(FN, "tagger", {"name": "org-patching-tag-remediation", "runtime": "python3.12"}, GR)
    group = R(LG, "tagger-logs", {"name": "/aws/lambda/org-patching-tag-remediation", "retentionInDays": 365.0}, GR)
    assert run_stack("lambda-log-retention", [fn, group]) == []
    [(name, message)] = run_stack("lambda-log-retention", [fn])
    assert name == "tagger" and "/aws/lambda/org-patching-tag-remediation" in message
    forever = R(LG, "tagger-logs", {"name": "/aws/lambda/org-patching-tag-remediation"}, GR)
    [(name, message)] = run_stack("lambda-log-retention", [fn, forever])
    assert name == "tagger-logs" and "retention_in_days" in message
    custom = R(FN, "f", {"name": "f", "loggingConfig": {"logGroup": U}}, GR, deps={"loggingConfig": ["tagger-logs"]})
    assert run_stack("lambda-log-retention", [custom, group]) == []
    assert run_stack("lambda-log-retention", [R(FN, "f", {"name": U}, GR)]) == []


def test_lambda_log_group_must_be_in_the_functions_account_and_region() -> None:
    shared = {"logGroup": "/org-patching/functions"}
    east = R(FN, "east-fn", {"name": "f", "loggingConfig": shared, "region": "us-east-1"}, GR)
    west_group = R(
        LG, "west-logs", {"name": "/org-patching/functions", "retentionInDays": 30.0, "region": "eu-west-1"}, GR
    )
    [(name, _)] = run_stack("lambda-log-retention", [east, west_group])
    assert name == "east-fn"
    east_group = R(
        LG, "east-logs", {"name": "/org-patching/functions", "retentionInDays": 30.0, "region": "us-east-1"}, GR
    )
    assert run_stack("lambda-log-retention", [east, west_group, east_group]) == []
    other_account = provider("333333333333", {}, project=GR)
    east_group.provider = other_account
    assert len(run_stack("lambda-log-retention", [east, west_group, east_group])) == 1
