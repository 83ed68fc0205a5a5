"""The SSM Automation extension behaves like the API reference says (validation, TargetLocations
bookkeeping, rate control, error threshold, filters, stop)."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from devkit.moto_extensions.ssm.models import automation as ssm_automation
from tests import aws

A, B, C = "111111111111", "222222222222", "333333333333"
REGIONS = ["us-east-1", "eu-west-1"]

DOCUMENT = {
    "schemaVersion": "0.3",
    "parameters": {
        "AutomationAssumeRole": {"type": "String", "default": ""},
        "Operation": {"type": "String", "allowedValues": ["Scan", "Install"]},
        "Environment": {"type": "String", "allowedPattern": "^(Dev|Test|Prod|Default)$", "default": "Default"},
    },
    "mainSteps": [{"name": "s", "action": "aws:sleep", "inputs": {"Duration": "PT1S"}}],
}


@pytest.fixture
def ssm(moto_aws: None) -> Any:
    client = boto3.client("ssm", region_name="us-east-1")
    client.create_document(Name="Patch", Content=json.dumps(DOCUMENT), DocumentType="Automation", DocumentFormat="JSON")
    # a custom runbook runs in another account only when shared with it (test_unshared_runbook_fails_in_the_target)
    client.modify_document_permission(Name="Patch", PermissionType="Share", AccountIdsToAdd=[A, B, C])
    return client


def _start(ssm: Any, locations: list[dict[str, Any]] | None = None, **kwargs: Any) -> str:
    request: dict[str, Any] = {"DocumentName": "Patch", "Parameters": {"Operation": ["Scan"]}, **kwargs}
    if locations is not None:
        request["TargetLocations"] = locations
    return ssm.start_automation_execution(**request)["AutomationExecutionId"]


def _location(accounts: list[str], concurrency: str = "10", errors: str = "0", **extra: Any) -> dict[str, Any]:
    return {
        "Accounts": accounts,
        "Regions": REGIONS,
        "TargetLocationMaxConcurrency": concurrency,
        "TargetLocationMaxErrors": errors,
        "ExecutionRoleName": "exec-role",
        **extra,
    }


def _error(call: Any) -> tuple[str, str]:
    with pytest.raises(ClientError) as caught:
        call()
    return caught.value.response["Error"]["Code"], caught.value.response["Error"]["Message"]


# --------------------------------------------------------------------------- validation


def test_document_must_exist_unless_aws_owned(ssm: Any) -> None:
    code, message = _error(lambda: ssm.start_automation_execution(DocumentName="Missing"))
    assert code == "AutomationDefinitionNotFoundException" and "Missing" in message
    assert ssm.start_automation_execution(DocumentName="AWS-RestartEC2Instance", Parameters={"InstanceId": ["i-1"]})


def test_command_documents_are_not_runbooks(ssm: Any) -> None:
    ssm.create_document(
        Name="Cmd",
        Content=json.dumps({"schemaVersion": "2.2", "mainSteps": []}),
        DocumentType="Command",
        DocumentFormat="JSON",
    )
    code, _ = _error(lambda: ssm.start_automation_execution(DocumentName="Cmd"))
    assert code == "AutomationDefinitionNotFoundException"


@pytest.mark.parametrize(
    ("parameters", "words"),
    [
        ({"Operation": ["Scan"], "Typo": ["x"]}, "Typo is not defined"),
        ({}, "Operation is required"),
        ({"Operation": ["Patch"]}, "not one of Scan, Install"),
        ({"Operation": ["Scan", "Install"]}, "exactly one value"),
        ({"Operation": ["Scan"], "Environment": ["Staging"]}, "does not match the pattern"),
    ],
)
def test_parameters_are_checked_against_the_document(ssm: Any, parameters: dict[str, Any], words: str) -> None:
    code, message = _error(lambda: ssm.start_automation_execution(DocumentName="Patch", Parameters=parameters))
    assert code == "InvalidAutomationExecutionParametersException"
    assert words in message


def test_target_locations_are_validated_by_the_service(moto_aws: None) -> None:
    # Step Functions' SDK clients skip botocore's validation: the emulator must check like SSM.
    ssm = boto3.client("ssm", region_name="us-east-1", config=Config(parameter_validation=False))
    ssm.create_document(Name="Patch", Content=json.dumps(DOCUMENT), DocumentType="Automation", DocumentFormat="JSON")
    for location, words in [
        (_location(["12345"]), "is not an account id"),
        (_location([A], concurrency="0"), "TargetLocationMaxConcurrency"),
        (_location([A], errors="x"), "TargetLocationMaxErrors"),
        ({**_location([A]), "Regions": ["moon-1"]}, "is not a Region"),
        (_location([str(100000000000 + i) for i in range(51)]), "1 to 50"),
    ]:
        code, message = _error(lambda location=location: _start(ssm, [location]))
        assert code == "ValidationException" and words in message, message


# --------------------------------------------------------------------------- bookkeeping


def test_one_child_per_account_and_region_in_the_target_account(ssm: Any) -> None:
    parent_id = _start(ssm, [_location([A, B])])
    parent = ssm.get_automation_execution(AutomationExecutionId=parent_id)["AutomationExecution"]

    assert parent["AutomationExecutionStatus"] == "Success"
    assert parent["ProgressCounters"]["TotalSteps"] == 4
    locations = {
        (s["TargetLocation"]["Accounts"][0], s["TargetLocation"]["Regions"][0]) for s in parent["StepExecutions"]
    }
    assert locations == {(a, r) for a in (A, B) for r in REGIONS}
    for account in (A, B):
        for region in REGIONS:
            children = (
                aws.session(account, region)
                .client("ssm")
                .describe_automation_executions()["AutomationExecutionMetadataList"]
            )
            [child] = children
            assert child["ParentAutomationExecutionId"] == parent_id
            assert child["AutomationExecutionStatus"] == "Success"
            assert ":assumed-role/exec-role/" in child["ExecutedBy"]
    steps = ssm.describe_automation_step_executions(AutomationExecutionId=parent_id)["StepExecutions"]
    assert len(steps) == 4 and {s["StepStatus"] for s in steps} == {"Success"}


def test_rate_control_runs_one_batch_per_read(ssm: Any) -> None:
    parent_id = _start(ssm, [_location([A, B], concurrency="1")])  # 4 locations, 1 at a time
    statuses = [
        ssm.get_automation_execution(AutomationExecutionId=parent_id)["AutomationExecution"][
            "AutomationExecutionStatus"
        ]
        for _ in range(5)
    ]
    assert statuses == ["InProgress", "InProgress", "InProgress", "Success", "Success"]


def test_error_threshold_stops_queueing_and_fails_the_parent(ssm: Any) -> None:
    with ssm_automation.fail_locations((A, "eu-west-1"), (B, "us-east-1")):
        parent_id = _start(ssm, [_location([A, B, C], concurrency="1", errors="1")])  # 6 locations
        parent: dict[str, Any] = {}
        for _ in range(10):
            parent = ssm.get_automation_execution(AutomationExecutionId=parent_id)["AutomationExecution"]
            if parent["AutomationExecutionStatus"] != "InProgress":
                break

    assert parent["AutomationExecutionStatus"] == "Failed"
    assert "TargetLocationMaxErrors exceeded" in parent["FailureMessage"]
    # order A/us-east-1 ok, A/eu-west-1 fails, B/us-east-1 fails (2 > 1): stop; B/eu-west-1, C never start
    ran = [
        (s["TargetLocation"]["Accounts"][0], s["TargetLocation"]["Regions"][0], s["StepStatus"])
        for s in parent["StepExecutions"]
    ]
    assert ran == [(A, "us-east-1", "Success"), (A, "eu-west-1", "Failed"), (B, "us-east-1", "Failed")]
    assert parent["ProgressCounters"] == {
        "TotalSteps": 6,
        "SuccessSteps": 1,
        "FailedSteps": 2,
        "CancelledSteps": 0,
        "TimedOutSteps": 0,
    }
    assert (
        aws.session(C, "us-east-1").client("ssm").describe_automation_executions()["AutomationExecutionMetadataList"]
        == []
    )


def test_errors_within_a_percentage_threshold_succeed(ssm: Any) -> None:
    with ssm_automation.fail_locations((A, None)):  # both of A's Regions fail: 2 of 4 = 50%
        parent_id = _start(ssm, [_location([A, B], errors="50%")])
        parent = ssm.get_automation_execution(AutomationExecutionId=parent_id)["AutomationExecution"]
    assert parent["AutomationExecutionStatus"] == "Success"
    assert parent["ProgressCounters"]["FailedSteps"] == 2
    failed = ssm.describe_automation_step_executions(
        AutomationExecutionId=parent_id, Filters=[{"Key": "StepExecutionStatus", "Values": ["Failed"]}]
    )["StepExecutions"]
    assert {s["TargetLocation"]["Accounts"][0] for s in failed} == {A}
    assert all("injected" in s["FailureMessage"] for s in failed)


def test_organizational_units_expand_to_their_accounts(ssm: Any) -> None:
    org = boto3.client("organizations", region_name="us-east-1")
    org.create_organization(FeatureSet="ALL")
    root = org.list_roots()["Roots"][0]["Id"]
    ou = org.create_organizational_unit(ParentId=root, Name="Workloads")["OrganizationalUnit"]["Id"]
    members = []
    for index in range(3):
        status = org.create_account(AccountName=f"m{index}", Email=f"m{index}@example.com")["CreateAccountStatus"]
        account = org.describe_create_account_status(CreateAccountRequestId=status["Id"])["CreateAccountStatus"][
            "AccountId"
        ]
        org.move_account(AccountId=account, SourceParentId=root, DestinationParentId=ou)
        members.append(account)

    parent_id = _start(ssm, [_location([ou], ExcludeAccounts=[members[0]])])
    steps = ssm.get_automation_execution(AutomationExecutionId=parent_id)["AutomationExecution"]["StepExecutions"]
    assert {s["TargetLocation"]["Accounts"][0] for s in steps} == set(members[1:])

    code, _ = _error(lambda: _start(ssm, [_location(["ou-abcd-abcdefgh"])]))
    assert code == "InvalidTarget"


def test_local_execution_and_its_failure_hook(ssm: Any) -> None:
    ok = _start(ssm)
    with ssm_automation.fail_locations(("123456789012", "us-east-1"), document="Patch"):
        bad = _start(ssm)
    assert (
        ssm.get_automation_execution(AutomationExecutionId=ok)["AutomationExecution"]["AutomationExecutionStatus"]
        == "Success"
    )
    failed = ssm.get_automation_execution(AutomationExecutionId=bad)["AutomationExecution"]
    assert failed["AutomationExecutionStatus"] == "Failed" and "injected" in failed["FailureMessage"]


# --------------------------------------------------------------------------- reads and stop


def test_describe_filters_and_pages(ssm: Any) -> None:
    ssm.create_document(Name="Other", Content=json.dumps(DOCUMENT), DocumentType="Automation", DocumentFormat="JSON")
    ids = [_start(ssm) for _ in range(3)]
    other = ssm.start_automation_execution(DocumentName="Other", Parameters={"Operation": ["Scan"]})[
        "AutomationExecutionId"
    ]
    cross = _start(ssm, [_location([A, B, C], concurrency="1")])  # 6 locations: 6 reads to finish

    def ids_for(filters: list[dict[str, Any]]) -> set[str]:
        kwargs: dict[str, Any] = {"Filters": filters} if filters else {}
        pages = ssm.get_paginator("describe_automation_executions").paginate(**kwargs, PaginationConfig={"PageSize": 2})
        return {m["AutomationExecutionId"] for page in pages for m in page["AutomationExecutionMetadataList"]}

    assert ids_for([{"Key": "ExecutionStatus", "Values": ["InProgress"]}]) == {cross}
    assert ids_for([{"Key": "ExecutionStatus", "Values": ["Success"]}]) == {*ids, other}
    assert ids_for([]) == {*ids, other, cross}
    assert ids_for([{"Key": "DocumentNamePrefix", "Values": ["Oth"]}]) == {other}
    assert ids_for([{"Key": "AutomationType", "Values": ["CrossAccount"]}]) == {cross}
    assert ids_for([{"Key": "ExecutionId", "Values": ids[:2]}]) == set(ids[:2])
    # each read that returned the parent ran one location: A/us-east-1 has its child by now
    children = (
        aws.session(A, "us-east-1")
        .client("ssm")
        .describe_automation_executions(Filters=[{"Key": "ParentExecutionId", "Values": [cross]}])
    )
    assert len(children["AutomationExecutionMetadataList"]) == 1


def test_stop_cancels_what_has_not_run(ssm: Any) -> None:
    parent_id = _start(ssm, [_location([A, B], concurrency="1")])
    ssm.get_automation_execution(AutomationExecutionId=parent_id)  # runs the first location
    ssm.stop_automation_execution(AutomationExecutionId=parent_id)
    parent = ssm.get_automation_execution(AutomationExecutionId=parent_id)["AutomationExecution"]
    assert parent["AutomationExecutionStatus"] == "Cancelled"
    assert parent["ProgressCounters"]["SuccessSteps"] == 1
    assert parent["ProgressCounters"]["CancelledSteps"] == 3

    code, _ = _error(lambda: ssm.stop_automation_execution(AutomationExecutionId=parent_id))
    assert code == "InvalidAutomationStatusUpdateException"
    code, _ = _error(lambda: ssm.get_automation_execution(AutomationExecutionId="00000000-0000-0000-0000-000000000000"))
    assert code == "AutomationExecutionNotFoundException"


def test_empty_parameter_values_are_rejected_like_the_service_does() -> None:
    """AutomationParameterValue is 1..512 characters in SSM's model: "" fails even with a default of ""."""
    import boto3
    import pytest as _pytest
    from moto import mock_aws

    from devkit import moto_extensions

    with mock_aws():
        moto_extensions.install()
        from botocore.config import Config

        # Step Functions' SDK integration validates nothing client-side: neither does this client.
        ssm = boto3.client(
            "ssm",
            region_name="us-east-1",
            aws_access_key_id="x",
            aws_secret_access_key="x",
            config=Config(parameter_validation=False),
        )
        ssm.create_document(
            Name="Doc",
            DocumentType="Automation",
            Content='{"schemaVersion": "0.3", "parameters": {"List": {"type": "String", "default": ""}},'
            ' "mainSteps": [{"name": "s", "action": "aws:sleep", "inputs": {"Duration": "PT1S"}}]}',
        )
        with _pytest.raises(ssm.exceptions.ClientError, match="length between 1 and 512"):
            ssm.start_automation_execution(DocumentName="Doc", Parameters={"List": [""]})
        assert ssm.start_automation_execution(DocumentName="Doc")["AutomationExecutionId"]


# --------------------------------------------------------------------------- sharing (issue 12 item 9)


def test_unshared_runbook_fails_in_the_target_account_only(moto_aws: None) -> None:
    ssm = boto3.client("ssm", region_name="us-east-1")
    ssm.create_document(Name="Solo", Content=json.dumps(DOCUMENT), DocumentType="Automation", DocumentFormat="JSON")
    caller = boto3.client("sts").get_caller_identity()["Account"]
    ssm.modify_document_permission(Name="Solo", PermissionType="Share", AccountIdsToAdd=[B])
    request = {"DocumentName": "Solo", "Parameters": {"Operation": ["Scan"]}}
    parent = ssm.start_automation_execution(**request, TargetLocations=[_location([caller, B, C], errors="100%")])
    execution_id = parent["AutomationExecutionId"]
    for _ in range(10):
        if ssm.get_automation_execution(AutomationExecutionId=execution_id)["AutomationExecution"][
            "AutomationExecutionStatus"
        ] not in ("Pending", "InProgress"):
            break
    failed = {
        (step["TargetLocation"]["Accounts"][0], step.get("FailureMessage", ""))
        for step in ssm.describe_automation_step_executions(AutomationExecutionId=execution_id)["StepExecutions"]
        if step["StepStatus"] == "Failed"
    }
    assert {account for account, _ in failed} == {C}
    assert all("is not shared with account 333333333333" in message for _, message in failed)


def test_sharing_takes_at_most_20_accounts_per_call_and_1000_in_all(moto_aws: None) -> None:
    ssm = boto3.client("ssm", region_name="us-east-1")
    ssm.create_document(Name="Wide", Content=json.dumps(DOCUMENT), DocumentType="Automation", DocumentFormat="JSON")
    accounts = [str(200000000000 + i) for i in range(1001)]
    client = boto3.client("ssm", region_name="us-east-1", config=Config(parameter_validation=False))
    code, message = _error(
        lambda: client.modify_document_permission(Name="Wide", PermissionType="Share", AccountIdsToAdd=accounts[:21])
    )
    assert code == "ValidationException" and "less than or equal to 20" in message
    for start in range(0, 1000, 20):
        ssm.modify_document_permission(
            Name="Wide", PermissionType="Share", AccountIdsToAdd=accounts[start : start + 20]
        )
    code, message = _error(
        lambda: ssm.modify_document_permission(Name="Wide", PermissionType="Share", AccountIdsToAdd=accounts[1000:])
    )
    assert code == "DocumentPermissionLimit" and "at most 1000" in message
