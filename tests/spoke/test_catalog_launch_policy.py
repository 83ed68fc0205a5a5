"""The catalog launch role allows every call a launch, an update and a termination of the product make.

The calls are derived, not listed by hand:

* Service Catalog's own CloudFormation calls on the product's stack (AWS's documented launch-constraint role:
  CreateStack, UpdateStack, DeleteStack, DescribeStacks, DescribeStackEvents, SetStackPolicy, ValidateTemplate,
  GetTemplateSummary with a TemplateURL, and the template object it reads);
* for each resource of the product's template, the permissions of its CloudFormation handlers (create, read,
  update, delete) from the resource schemas cfn-lint ships, which are AWS's registry schemas;
* the custom resource's invocation of its ServiceToken, and iam:PassRole of each task's ServiceRoleArn.

Each call's resource ARNs come from the Service Authorization Reference (parliament's ``iam_definition.json``):
an action without a required resource type is authorized against ``*``, an action with one against the ARN of
that type built from the SAR's ARN format. The rendered policy is evaluated with moto's IAM policy evaluator.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import parliament
import pytest
from cfnlint.schema import PROVIDER_SCHEMA_MANAGER
from moto.iam.access_control import IAMPolicy, PermissionResult

from components import naming
from devkit.catalog_launch import Evaluator, product_template
from tests.policy_eval import role_policy_documents

ACCOUNT, REGION = "222222222222", "eu-west-1"
HANDLERS = ("create", "read", "update", "delete")
#: Handler permissions that no call of this template needs, each with the reason.
NOT_CALLED = {
    # SSM creates its service-linked role only for a task without ServiceRoleArn; every task names one
    # (test_every_task_names_its_service_role).
    "iam:CreateServiceLinkedRole",
}
#: The ids a launch produces (the shapes botocore and the SAR document).
IDS = {
    "maintenancewindow": "mw-0123456789abcdef0",
    "windowtarget": "e32eecb2-646c-4f4b-8ed1-205fbEXAMPLE",
    "windowtask": "b5e7b6a2-9b1f-4c4f-a8c4-0c6f4EXAMPLE",
}
STACK = f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/SC-{ACCOUNT}-pp-abcdefghijklm/0f1e2d3c-4b5a-6978-8796"


@dataclass(frozen=True)
class Call:
    action: str
    resources: tuple[str, ...]
    context: dict[str, str] = field(default_factory=dict, hash=False)
    why: str = ""


@cache
def sar() -> dict[str, Any]:
    return {service["prefix"]: service for service in parliament.iam_definition}


def resource_types(action: str) -> list[str]:
    prefix, name = action.split(":")
    [privilege] = [p for p in sar()[prefix]["privileges"] if p["privilege"] == name]
    return [r["resource_type"] for r in privilege["resource_types"]]


def arn_of(prefix: str, resource_type: str) -> str:
    [resource] = [r for r in sar()[prefix]["resources"] if r["resource"] == resource_type]
    values = {"Partition": "aws", "Region": REGION, "Account": ACCOUNT}

    def fill(match: re.Match[str]) -> str:
        return values.get(match[1], IDS.get(resource_type, "id"))

    return re.sub(r"\$\{(\w+)\}", fill, resource["arn"])


def sar_resources(action: str, in_play: tuple[str, ...]) -> tuple[str, ...]:
    """The ARNs IAM checks for ``action`` on the resources ``in_play`` (SAR types; ``*`` without a type)."""
    prefix = action.split(":")[0]
    types = resource_types(action)
    required = [t.rstrip("*") for t in types if t.endswith("*")]
    optional = [t for t in types if t and not t.endswith("*") and t in in_play]
    chosen = required or optional[:1]
    return tuple(arn_of(prefix, t) for t in chosen) or ("*",)


def template_calls() -> list[Call]:
    """Every call CloudFormation makes for the product's resources, with ALL optional resources present."""
    parameters = {"Team": "payments", "Environment": "Prod", "IncludeASG": "Yes"}
    pseudo = {"AWS::Partition": "aws", "AWS::Region": REGION, "AWS::AccountId": ACCOUNT, "AWS::StackName": "SC-x"}
    resources = Evaluator(parameters, pseudo).resources()
    template = product_template()["Resources"]
    calls: list[Call] = []
    for logical_id, properties in resources.items():
        kind = template[logical_id]["Type"]
        if kind.startswith("Custom::"):
            calls.append(Call("lambda:InvokeFunction", (properties["ServiceToken"],), why=f"{logical_id} (custom)"))
            continue
        in_play = {
            "AWS::SSM::MaintenanceWindow": ("maintenancewindow",),
            "AWS::SSM::MaintenanceWindowTarget": ("maintenancewindow", "windowtarget"),
            "AWS::SSM::MaintenanceWindowTask": ("maintenancewindow", "windowtask"),
        }[kind]
        handlers = PROVIDER_SCHEMA_MANAGER.get_resource_schema(REGION, kind).schema["handlers"]
        for handler in HANDLERS:
            for action in handlers[handler]["permissions"]:
                if action in NOT_CALLED:
                    continue
                if action == "iam:PassRole":
                    context = {"iam:PassedToService": "ssm.amazonaws.com"}
                    calls.append(Call(action, (properties["ServiceRoleArn"],), context, f"{logical_id} {handler}"))
                    continue
                calls.append(Call(action, sar_resources(action, in_play), why=f"{logical_id} {handler}"))
    return calls


def service_catalog_calls() -> list[Call]:
    stack = (STACK,)
    return [
        Call("cloudformation:GetTemplateSummary", ("*",), why="launch: with the artifact's TemplateURL"),
        Call("cloudformation:ValidateTemplate", ("*",), why="launch"),
        Call("cloudformation:CreateStack", stack, why="launch"),
        Call("cloudformation:DescribeStacks", stack, why="launch/update/terminate"),
        Call("cloudformation:DescribeStackEvents", stack, why="launch/update/terminate"),
        Call("cloudformation:SetStackPolicy", stack, why="launch"),
        Call("cloudformation:GetTemplateSummary", stack, why="update"),
        Call("cloudformation:UpdateStack", stack, why="update"),
        Call("cloudformation:DeleteStack", stack, why="terminate"),
        Call(
            "s3:GetObject",
            ("arn:aws:s3:::cf-templates-servicecatalog-internal/provisioning/template.json",),
            {"s3:ExistingObjectTag/servicecatalog:provisioning": "true"},
            "launch/update: Service Catalog's copy of the template",
        ),
    ]


@pytest.fixture(scope="module")
def launch_policy(child_capture: Any) -> str:
    [role] = [
        r
        for r in child_capture.of_type("aws:iam/role:Role")
        if r.inputs["name"] == naming.CATALOG_LAUNCH_ROLE and child_capture.account_of(r) == ACCOUNT
    ]
    (text,) = role_policy_documents(child_capture, role)
    return text


def denied(policy: str, calls: list[Call]) -> list[str]:
    evaluator = IAMPolicy(policy)
    found = []
    for call in calls:
        for resource in call.resources:
            result = evaluator.is_action_permitted(call.action, resource, incoming_condition_values=call.context)
            if result != PermissionResult.PERMITTED:
                found.append(f"{call.action} on {resource} ({call.why}): {result.name}")
    return found


def test_every_call_of_launch_update_and_termination_is_allowed(launch_policy: str) -> None:
    calls = template_calls() + service_catalog_calls()
    actions = {c.action for c in calls}
    # the rules of issue 12 item 4 are among the derived calls
    assert {"ssm:CreateMaintenanceWindow", "ssm:ListTagsForResource", "ssm:DeregisterTargetFromMaintenanceWindow"} <= (
        actions
    )
    assert ("ssm:CreateMaintenanceWindow", ("*",)) in {(c.action, c.resources) for c in calls}
    assert any(c.action == "ssm:UpdateMaintenanceWindowTask" and len(c.resources) == 2 for c in calls)
    assert denied(launch_policy, calls) == []


def test_nothing_else_is_allowed(launch_policy: str) -> None:
    """Least privilege: every allowed action is one of the derived calls (or a read CloudFormation needs)."""
    calls = template_calls() + service_catalog_calls()
    needed = {c.action for c in calls}
    granted = {a for s in json.loads(launch_policy)["Statement"] for a in s["Action"]}
    assert granted - needed == set()
    # and a window of another account, or a stack not Service Catalog's, is out of reach
    other = "arn:aws:ssm:eu-west-1:333333333333:maintenancewindow/mw-0123456789abcdef0"
    assert denied(launch_policy, [Call("ssm:DeleteMaintenanceWindow", (other,))])
    mine = f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/payments-app/0f1e"
    assert denied(launch_policy, [Call("cloudformation:DeleteStack", (mine,))])
    assert denied(
        launch_policy,
        [
            Call(
                "iam:PassRole",
                (f"arn:aws:iam::{ACCOUNT}:role/{naming.MAINTENANCE_WINDOW_ROLE}",),
                {"iam:PassedToService": "ec2.amazonaws.com"},
            )
        ],
    )


def test_every_task_names_its_service_role() -> None:
    """Why iam:CreateServiceLinkedRole is not needed (NOT_CALLED)."""
    template = product_template()["Resources"]
    tasks = [r for r in template.values() if r["Type"] == "AWS::SSM::MaintenanceWindowTask"]
    assert tasks and all("ServiceRoleArn" in t["Properties"] for t in tasks)
