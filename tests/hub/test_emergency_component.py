"""``EmergencyPatching`` rendered under Pulumi's mocks: what it creates, with which provider,
and whether its IAM is as narrow as the module says."""

from __future__ import annotations

import json
from typing import Any

import parliament
import pulumi
import pulumi_aws as aws
import pytest

from components import naming, packaging
from components.config import CentralConfig
from components.hub.emergency_patching import EmergencyPatching, EmergencyPatchingArgs
from patchctl.offline.render import Capture, render

HUB = "999999999999"
ORG = "o-exampleorg01"


def config(**emergency: Any) -> CentralConfig:
    return CentralConfig.model_validate(
        {
            "stack": "central",
            "org_id": ORG,
            "central_account_id": HUB,
            "home_region": "eu-west-1",
            "regions": ["eu-west-1", "us-east-1"],
            "accounts": ["111111111111"],
            "bootstrap": {"enabled": False},  # tested in test_deploy_role_bootstrap.py
            "emergency": {"approvers": ["sec@example.com", "ops@example.com"], **emergency},
        }
    )


def build(cfg: CentralConfig, **args: Any) -> Capture:
    def program() -> EmergencyPatching:
        hub = aws.Provider(
            HUB,
            region="eu-west-1",
            allowed_account_ids=[HUB],
            assume_roles=[aws.ProviderAssumeRoleArgs(role_arn=f"arn:aws:iam::{HUB}:role/deploy")],
        )
        return EmergencyPatching(
            "emergency",
            EmergencyPatchingArgs(
                emergency=cfg.emergency,
                org_id=cfg.org_id,
                account_id=cfg.central_account_id,
                home_region=cfg.home_region,
                log_retention_days=cfg.compliance.cloudwatch_log_retention_days,
                regions=cfg.regions,
                **{"patch_log_bucket": "org-patching-patch-logs-123456789012", **args},
            ),
            opts=pulumi.ResourceOptions(providers=[hub]),
        )

    return render(program)


@pytest.fixture(scope="module")
def capture() -> Capture:
    return build(config())


def one(capture: Capture, type_token: str, name: str) -> dict[str, Any]:
    return capture.one(type_token, name).inputs


def test_every_resource_is_a_child_on_the_hub_provider(capture: Capture) -> None:
    component = capture.one("org-patching:hub:EmergencyPatching")
    children = capture.descendants_of(component.urn)
    assert {r.type for r in children} >= {
        "aws:sfn/stateMachine:StateMachine",
        "aws:iam/role:Role",
        "aws:cloudwatch/logGroup:LogGroup",
        "aws:sns/topic:Topic",
        "aws:sns/topicSubscription:TopicSubscription",
        "aws:lambda/function:Function",
        "aws:dynamodb/table:Table",
        "aws:sns/topicPolicy:TopicPolicy",
    }
    for record in children:
        assert record.provider_urn.endswith(f"pulumi:providers:aws::{HUB}"), record.urn
        assert capture.account_of(record) == HUB


def test_state_machine_logs_without_execution_data_traces_and_runs_the_asl_file(capture: Capture) -> None:
    machine = one(capture, "aws:sfn/stateMachine:StateMachine", "emergency-state-machine")
    assert machine["name"] == naming.EMERGENCY_STATE_MACHINE
    assert machine["type"] == "STANDARD"
    assert machine["loggingConfiguration"]["level"] == "ALL"
    # no execution data: the approval step's input carries the task token (issue 13 item 7)
    assert machine["loggingConfiguration"]["includeExecutionData"] is False
    assert machine["loggingConfiguration"]["logDestination"].endswith(":*")
    assert machine["tracingConfiguration"] == {"enabled": True}
    definition = json.loads(machine["definition"])
    tasks = json.dumps(definition)
    assert "${" not in tasks
    function = capture.one("aws:lambda/function:Function", "emergency-validate")
    gate = capture.one("aws:lambda/function:Function", "emergency-approval-gate-function")
    assert definition["States"]["ValidateInput"]["Parameters"]["FunctionName"] == function.outputs["arn"]
    assert definition["States"]["RequestApproval"]["Parameters"]["FunctionName"] == gate.outputs["arn"]
    assert "Token" not in json.dumps(definition["States"]["RequestApproval"]["Parameters"]["Payload"]).replace(
        '"task_token.$": "$$.Task.Token"', ""
    )  # the token goes to the gate only
    log_group = one(capture, "aws:cloudwatch/logGroup:LogGroup", "emergency-state-machine")
    assert log_group["retentionInDays"] == 365.0
    # the validation function parses the request with Powertools (the layer brings pydantic) and
    # reads the waves from the tag contract, which its archive carries
    assert function.inputs["architectures"] == ["arm64"]
    assert function.inputs["layers"] == [packaging.powertools_layer("aws", "eu-west-1", "arm64")]
    assert "AWSLambdaPowertoolsPythonV3-python312-arm64" in function.inputs["layers"][0]
    assert {"app.py", "tag_contract.py", "lambda_shared/validation.py"} <= set(
        packaging.archive("emergency_validate").assets
    )


def test_administration_role_trusts_ssm_of_this_account_and_reaches_only_org_execution_roles(
    capture: Capture,
) -> None:
    role = one(capture, "aws:iam/role:Role", "emergency-automation-administration")
    assert role["name"] == naming.AUTOMATION_ADMINISTRATION_ROLE
    [trust] = json.loads(role["assumeRolePolicy"])["Statement"]
    assert trust["Principal"] == {"Service": "ssm.amazonaws.com"}
    assert trust["Condition"]["StringEquals"] == {"aws:SourceAccount": HUB}
    assert trust["Condition"]["ArnLike"]["aws:SourceArn"] == f"arn:aws:ssm:eu-west-1:{HUB}:automation-execution/*"
    policy = json.loads(one(capture, "aws:iam/rolePolicy:RolePolicy", "emergency-automation-administration")["policy"])
    assume = next(s for s in policy["Statement"] if s["Action"] == ["sts:AssumeRole"])
    assert assume["Resource"] == [f"arn:aws:iam::*:role/{naming.AUTOMATION_EXECUTION_ROLE}"]
    assert assume["Condition"] == {"StringEquals": {"aws:ResourceOrgID": ORG}}


def test_state_machine_role_is_least_privilege(capture: Capture) -> None:
    role = one(capture, "aws:iam/role:Role", "emergency-state-machine")
    [trust] = json.loads(role["assumeRolePolicy"])["Statement"]
    assert trust["Principal"] == {"Service": "states.amazonaws.com"}
    assert trust["Condition"]["ArnLike"]["aws:SourceArn"].endswith(f":stateMachine:{naming.EMERGENCY_STATE_MACHINE}")
    statements = {
        s["Sid"]: s
        for s in json.loads(one(capture, "aws:iam/rolePolicy:RolePolicy", "emergency-state-machine")["policy"])[
            "Statement"
        ]
    }
    assert statements["StartRunbooks"]["Resource"] == [
        f"arn:aws:ssm:eu-west-1:{HUB}:automation-definition/{naming.RUNBOOK_STANDALONE}:*",
        f"arn:aws:ssm:eu-west-1:{HUB}:automation-definition/{naming.RUNBOOK_ASG}:*",
    ]
    admin = capture.one("aws:iam/role:Role", "emergency-automation-administration").outputs["arn"]
    assert statements["PassAdministrationRoleToSsm"]["Resource"] == [admin]
    assert statements["PassAdministrationRoleToSsm"]["Condition"] == {
        "StringEquals": {"iam:PassedToService": "ssm.amazonaws.com"}
    }
    assert statements["AnnounceResult"]["Condition"] == {"StringEquals": {"events:source": naming.EVENT_SOURCE}}
    wildcard = sorted(sid for sid, s in statements.items() if s["Resource"] == "*")
    assert wildcard == ["PollExecutions", "Tracing", "VendedLogDelivery"]  # AWS offers no resource ARNs for these
    assert "AskApprovers" not in statements  # the gate publishes now, not the machine
    assert "AskApprovalGate" in statements


def test_policies_lint_clean_with_parliament(capture: Capture) -> None:
    problems = []
    for record in capture.resources:
        prop = {"aws:iam/role:Role": "assumeRolePolicy", "aws:iam/rolePolicy:RolePolicy": "policy"}.get(record.type)
        if not prop:
            continue
        for finding in parliament.analyze_policy_string(record.inputs[prop], include_community_auditors=False).findings:
            if finding.issue != "RESOURCE_STAR" and finding.severity in ("HIGH", "MEDIUM", "CRITICAL"):
                problems.append(f"{record.name}: {finding.issue} {finding.detail}")
    assert problems == []


def test_approval_topic_is_encrypted_has_a_policy_and_mails_the_approvers(capture: Capture) -> None:
    topic = one(capture, "aws:sns/topic:Topic", "emergency-approval")
    assert topic["kmsMasterKeyId"] == "alias/aws/sns"  # without the hub key (the hub passes it)
    policy = json.loads(
        one(capture, "aws:sns/topicPolicy:TopicPolicy", "emergency-approval-gate-topic-policy")["policy"]
    )
    sids = {s["Sid"]: s for s in policy["Statement"]}
    gate_role = capture.one("aws:iam/role:Role", "emergency-approval-gate-role").outputs["arn"]
    assert sids["GatePublishes"]["Principal"] == {"AWS": gate_role}
    assert sids["DenyOtherPublishers"]["Condition"] == {"ArnNotEquals": {"aws:PrincipalArn": gate_role}}
    assert sids["DenyInsecureTransport"]["Effect"] == "Deny"
    subscriptions = capture.of_type("aws:sns/topicSubscription:TopicSubscription")
    assert sorted((s.inputs["protocol"], s.inputs["endpoint"]) for s in subscriptions) == [
        ("email", "ops@example.com"),
        ("email", "sec@example.com"),
    ]


def test_validation_lambda_gets_the_configured_defaults() -> None:
    capture = build(
        config(waves=["Test", "Prod"], approval_before=["Test", "Prod"], poll_seconds=30), topic_kms_key_arn="arn:k"
    )
    variables = one(capture, "aws:lambda/function:Function", "emergency-validate")["environment"]["variables"]
    assert variables["DEFAULT_WAVES"] == "Test,Prod"
    assert variables["APPROVAL_BEFORE"] == "Test,Prod"
    assert variables["DEFAULT_REGIONS"] == "eu-west-1,us-east-1"
    assert variables["POLL_SECONDS"] == "30"
    assert variables["EXECUTION_ROLE_NAME"] == naming.AUTOMATION_EXECUTION_ROLE
    assert variables["ADMINISTRATION_ROLE_ARN"].endswith(f":role/{naming.AUTOMATION_ADMINISTRATION_ROLE}")
    assert variables["PATCH_LOG_BUCKET"] == "org-patching-patch-logs-123456789012"
    policy = json.loads(one(capture, "aws:iam/rolePolicy:RolePolicy", "emergency-approval-gate-policy")["policy"])
    kms = next(s for s in policy["Statement"] if s["Sid"] == "EncryptedTableAndTopic")
    assert kms["Resource"] == ["arn:k"]
    assert one(capture, "aws:sns/topic:Topic", "emergency-approval")["kmsMasterKeyId"] == "arn:k"
    table = one(capture, "aws:dynamodb/table:Table", "emergency-approval-gate-table")
    assert table["serverSideEncryption"] == {"enabled": True, "kmsKeyArn": "arn:k"}
    answer = next(s for s in policy["Statement"] if s["Sid"] == "AnswerApproval")
    assert answer["Resource"] == "*"  # SAR: SendTaskSuccess/Failure have no resource type


def test_runbooks_given_to_the_hub_become_automation_documents() -> None:
    content = "schemaVersion: '0.3'\nmainSteps: []\n"
    capture = build(config(), runbooks={naming.RUNBOOK_STANDALONE: content, naming.RUNBOOK_ASG: content})
    documents = {d.inputs["name"]: d.inputs for d in capture.of_type("aws:ssm/document:Document")}
    assert set(documents) == {naming.RUNBOOK_STANDALONE, naming.RUNBOOK_ASG}
    assert all(d["documentType"] == "Automation" and d["documentFormat"] == "YAML" for d in documents.values())
    with pytest.raises(Exception, match="not a runbook the waves start"):
        build(config(), runbooks={"Other": content})
    assert build(config()).of_type("aws:ssm/document:Document") == []
