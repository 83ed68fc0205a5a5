"""The opt-in Inspector rule on the emulator: the component's own pattern, policy and environment
(``components/hub/inspector_rule.py``), the function's real handler, and Inspector's documented finding event.

``inspector_finding.json`` (beside this file) has the shape of the documented example "Amazon EC2 package
vulnerability finding" (Amazon Inspector User Guide, "Amazon EventBridge event schema for Amazon Inspector events":
https://docs.aws.amazon.com/inspector/latest/user/eventbridge-integration.html); :func:`finding_event` fills in
the instance, account, Region, vulnerability and severity of a scenario. Findings are put on the hub's default bus
(where the delegated administrator receives the organization's findings) and reach the function through the rule.
"""

from __future__ import annotations

import copy
import io
import json
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tag_contract

from components import naming, packaging
from components.config import InspectorConfig
from components.hub.inspector_rule import event_pattern, function_environment, function_statements

FINDING_FILE = Path(__file__).with_name("inspector_finding.json")
APPROVER = "bob"  # devkit/demo/emergency.py's approver (never the requester: here the function's role)


def finding_event(
    account: str,
    region: str,
    instance_id: str,
    *,
    vulnerability: str = "CVE-2023-38408",
    severity: str = "CRITICAL",
    tags: dict[str, str] | None = None,
    finding_id: str = "0a1b2c3d4e5f60718293a4b5c6d7e8f9",
    **detail: Any,
) -> dict[str, Any]:
    """The documented finding event for one instance (``detail`` overrides top-level detail fields)."""
    event: dict[str, Any] = copy.deepcopy(json.loads(FINDING_FILE.read_text()))
    event["account"], event["region"], event["resources"] = account, region, [instance_id]
    finding = event["detail"]
    finding["awsAccountId"] = account
    finding["findingArn"] = f"arn:aws:inspector2:{region}:{account}:finding/{finding_id}"
    finding["severity"] = severity
    finding["packageVulnerabilityDetails"]["vulnerabilityId"] = vulnerability
    finding["title"] = f"{vulnerability} - openssh"
    [resource] = finding["resources"]
    resource.update({"id": instance_id, "region": region, "tags": dict(tags or {})})
    finding.update(detail)
    return event


@dataclass
class InspectorDeployment:
    session: Any
    function_name: str
    table_name: str

    def put(self, event: dict[str, Any]) -> None:
        """Inspector publishing a finding: onto the hub's default bus (the rule picks what it acts on)."""
        entry = {
            "Source": event["source"],
            "DetailType": event["detail-type"],
            "Detail": json.dumps(event["detail"]),
            "Resources": event["resources"],
        }
        failed = self.session.client("events").put_events(Entries=[entry])["FailedEntryCount"]
        assert failed == 0, "the default bus refused the finding"

    def handle(self, event: dict[str, Any]) -> dict[str, Any]:
        """The function's answer to one event (invoked as EventBridge would, to read its outcome)."""
        response = self.session.client("lambda").invoke(
            FunctionName=self.function_name, Payload=json.dumps(event).encode()
        )
        answer: dict[str, Any] = json.loads(response["Payload"].read())
        if response.get("FunctionError"):
            raise RuntimeError(f"{self.function_name} failed: {answer}")
        return answer

    def claims(self) -> list[dict[str, Any]]:
        items = self.session.resource("dynamodb").Table(self.table_name).scan()["Items"]
        return [item for item in items if str(item["pk"]).startswith("inspector#")]


def deploy_inspector_rule(
    session: Any, config: InspectorConfig, approval_function: str, state_machine_arn: str
) -> InspectorDeployment:
    """What ``InspectorRule`` deploys, in the hub account of ``session`` (the failure-alert table is reused:
    created here when the hub's events part has not made it)."""
    dynamodb = session.client("dynamodb")
    if naming.FAILURE_ALERTS_TABLE not in dynamodb.list_tables()["TableNames"]:
        dynamodb.create_table(
            TableName=naming.FAILURE_ALERTS_TABLE,
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            BillingMode="PAY_PER_REQUEST",
        )
    table_arn = dynamodb.describe_table(TableName=naming.FAILURE_ALERTS_TABLE)["Table"]["TableArn"]
    lam, iam = session.client("lambda"), session.client("iam")
    gate_arn = lam.get_function_configuration(FunctionName=approval_function)["FunctionArn"]
    account = state_machine_arn.split(":")[4]
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "lambda.amazonaws.com"},
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"aws:SourceAccount": account}},
            }
        ],
    }
    role = iam.create_role(RoleName=naming.INSPECTOR_FINDINGS_FUNCTION, AssumeRolePolicyDocument=json.dumps(trust))
    statements = function_statements(table_arn, gate_arn, state_machine_arn)  # the IAM replay judges these
    iam.put_role_policy(
        RoleName=naming.INSPECTOR_FINDINGS_FUNCTION,
        PolicyName=naming.INLINE_POLICY,
        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": statements}),
    )
    package = io.BytesIO()
    with zipfile.ZipFile(package, "w") as archive:
        for name, path in packaging.archive_files("inspector_findings").items():
            archive.write(path, name)
    function_arn = lam.create_function(
        FunctionName=naming.INSPECTOR_FINDINGS_FUNCTION,
        Runtime="python3.12",
        Role=role["Role"]["Arn"],
        Handler="app.handler",
        Code={"ZipFile": package.getvalue()},
        Environment={
            "Variables": function_environment(config, naming.FAILURE_ALERTS_TABLE, approval_function, state_machine_arn)
        },
    )["FunctionArn"]
    events = session.client("events")
    events.put_rule(Name=naming.INSPECTOR_FINDINGS_RULE, EventPattern=json.dumps(event_pattern(config)))
    events.put_targets(Rule=naming.INSPECTOR_FINDINGS_RULE, Targets=[{"Id": "inspector-findings", "Arn": function_arn}])
    return InspectorDeployment(session, naming.INSPECTOR_FINDINGS_FUNCTION, naming.FAILURE_ALERTS_TABLE)


def step_inspector(emu: Any, world: Any, say: Any) -> dict[str, Any]:
    """An Inspector finding on one Prod instance becomes an approved emergency wave for exactly that instance,
    and ``patchctl emergency status`` shows it (issue 16's "Done when")."""
    from components.config import InspectorConfig
    from components.runbooks import render_runbook
    from devkit.demo.operator import subscribe_operator
    from devkit.demo.run import failing_patches
    from devkit.moto_extensions.ssm.models.automation import run_children_with
    from devkit.run_command import RunCommandAgent
    from devkit.runbook_interpreter import run_runbook
    from patchctl.emergency import follow

    session = emu.session(world.hub_account, world.home_region)
    outputs = world.central_outputs["emergency"]
    hub = subscribe_operator(session, outputs)
    # The opt-in rule (org-patching:inspector.enabled), deployed from the component's pattern, policy and environment.
    rule = deploy_inspector_rule(
        session, InspectorConfig(enabled=True), str(outputs["approvalFunctionName"]), str(outputs["stateMachineArn"])
    )
    # The configured poll interval is 60 s of wall time on the emulator: the operator shortens it for the demo.
    lam = session.client("lambda")
    validate = naming.EMERGENCY_VALIDATE_FUNCTION
    variables = lam.get_function_configuration(FunctionName=validate)["Environment"]["Variables"]
    lam.update_function_configuration(
        FunctionName=validate, Environment={"Variables": {**variables, "POLL_SECONDS": "0"}}
    )

    account, region = world.locations[0]
    instance = min(i for i, kind in world.kinds.items() if kind == "prod" and world.placement[i] == (account, region))
    finding = finding_event(account, region, instance, tags={"Name": "web", tag_contract.PATCH_GROUP_TAG: "Prod"})
    rule.put(finding)  # Inspector publishes; the rule invokes the function, which starts through the gate
    [claim] = [c for c in rule.claims() if c["pk"] == f"inspector#CVE-2023-38408#{instance}"]
    execution = str(claim["execution_arn"])
    say.fact(f"Inspector finding CVE-2023-38408 (CRITICAL, fix available) on {instance} in {account}/{region}")
    rule.put(copy.deepcopy(finding))  # Inspector re-publishes it: no second rollout while this one is pending
    duplicates = len([c for c in rule.claims() if c["pk"].endswith(instance)])

    runbooks = {name: render_runbook(name) for name in (naming.RUNBOOK_STANDALONE, naming.RUNBOOK_ASG)}
    agent = RunCommandAgent(emu, failing_patches(world))

    def run_child(child_account: str, child_region: str, document: str, parameters: dict[str, list[str]]) -> str | None:
        values = {k: v for k, v in parameters.items() if k != "AutomationAssumeRole"}
        run = run_runbook(
            runbooks[document],
            values,
            child_account,
            child_region,
            as_account=emu.as_account,
            run_command=agent.runner(child_account, child_region),
        )
        return None if run["status"] == "Success" else str(run["error"])

    approvals: list[str] = []

    def approve(body: dict[str, Any]) -> None:
        approvals.append(body["wave"])
        hub.approve(body)

    with run_children_with(run_child):
        outcome = hub.finish(execution, approve, timeout_seconds=300)
    patched = sorted(i.instance_id for c in agent.commands for i in c.invocations if i.status == "Success")
    status = follow.status(session, hub.ref, execution)
    locations = [
        (location["account"], location["region"], location["status"])
        for wave in status["waves"]
        for automation in wave["automations"]
        for location in automation["locations"]
    ]
    say.fact(
        f"rollout {outcome['status']} for exactly {patched} (wave Prod, approved by {APPROVER}); "
        f"patchctl emergency status: {[w['wave'] for w in status['waves']]} {locations}"
    )
    return {
        "status": outcome["status"],
        "execution": execution,
        "instance": instance,
        "patched": patched,
        "approvals": approvals,
        "claims_for_instance": duplicates,
        "status_waves": [w["wave"] for w in status["waves"]],
        "status_locations": locations,
        "status_findings": status["findings"],
        "requested_by": status["requested_by"],
        "finding_arn": finding["detail"]["findingArn"],
    }
