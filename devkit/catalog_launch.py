"""Launch the "Patching maintenance window" product on the emulator, as CloudFormation would.

moto cannot provision this template (no Service Catalog provisioning, and its CloudFormation
would need Docker to run the custom resource's Lambda). So this module evaluates the
product's own template — the intrinsics it uses: Ref, Fn::Sub, Fn::FindInMap, Fn::If,
Fn::Equals — for a set of parameter values, validates the values against the template's
constraints like CloudFormation does, creates the window, its target and tasks through the
SSM API, and sends the custom resource's Create/Delete request to the window-tagging Lambda
with CloudFormation's https response URL, which the emulator routes to a loopback endpoint
(``devkit.cfn_response``). A custom resource that answers FAILED rolls the stack back like
CloudFormation: the window (with its target and tasks) is deleted again.

Used by ``python -m devkit demo`` and by the template's tests: nothing about the template is
written twice.
"""

from __future__ import annotations

import http.server
import json
import re
import threading
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any

from cfnlint.decode import decode_str

from components.hub.self_service_catalog import TEMPLATE_FILE, product_template_text
from devkit import cfn_response

DEFAULT_PSEUDO = {"AWS::Partition": "aws"}


def stack_name(account: str) -> str:
    """Service Catalog's name for a provisioned product's stack: ``SC-<account>-pp-<provisioned product id>``."""
    return f"SC-{account}-pp-{uuid.uuid4().hex[:13]}"


class UnsupportedIntrinsic(ValueError):
    """The template uses an intrinsic function the evaluator does not resolve."""


class TemplateParameterError(ValueError):
    """A parameter value CloudFormation would reject (one line: which parameter and why)."""


@cache
def product_template(hub_account: str | None = None) -> dict[str, Any]:
    """The product's template: as uploaded by the central stack of ``hub_account`` (its runbooks' owner filled
    in, ``product_template_text``), or the file as written when ``None`` (for checks that need no account)."""
    text = Path(TEMPLATE_FILE).read_text()
    template, matches = decode_str(text if hub_account is None else product_template_text(hub_account, text))
    if template is None:
        raise ValueError(f"{TEMPLATE_FILE}: cannot be parsed: {matches}")
    return dict(template)


#: What ``Ref: AWS::NoValue`` evaluates to: the enclosing property or list item is left out.
NO_VALUE = object()


class Evaluator:
    """Resolve the template's intrinsics for one set of parameter values (CloudFormation's rules)."""

    def __init__(
        self,
        parameters: Mapping[str, Any],
        pseudo: Mapping[str, str],
        template: Mapping[str, Any] | None = None,
        physical_ids: Mapping[str, str] | None = None,
    ) -> None:
        self.template = template or product_template()
        declared = self.template["Parameters"]
        unknown = set(parameters) - set(declared)
        if unknown:
            raise TemplateParameterError(f"parameters {sorted(unknown)} do not exist in the template")
        self.values: dict[str, Any] = {name: spec.get("Default") for name, spec in declared.items()}
        self.values.update(parameters)
        for name, spec in declared.items():
            self.values[name] = _checked(name, spec, self.values[name])
        self.values.update(pseudo)
        self.physical_ids = dict(physical_ids or {})

    def condition(self, name: str) -> bool:
        return bool(self.eval(self.template["Conditions"][name]))

    def eval(self, node: Any) -> Any:
        if isinstance(node, list):
            return [item for item in (self.eval(item) for item in node) if item is not NO_VALUE]
        if not isinstance(node, dict):
            return node
        if len(node) != 1:
            return {key: v for key, v in ((key, self.eval(value)) for key, value in node.items()) if v is not NO_VALUE}
        [(key, value)] = node.items()
        if key == "Ref":
            if value == "AWS::NoValue":  # the property is removed (CloudFormation, "Pseudo parameters")
                return NO_VALUE
            if value in self.values:
                return self.values[value]
            return self.physical_ids.get(value, f"<id of {value}>")
        if key == "Fn::Sub":
            text, variables = (value, {}) if isinstance(value, str) else (value[0], self.eval(value[1]))
            scope = {**self.values, **variables}
            return re.sub(r"\$\{([^}]+)\}", lambda m: str(scope[m[1]]), text)
        if key == "Fn::FindInMap":
            table, top, second = self.eval(value)
            return self.template["Mappings"][table][top][second]
        if key == "Fn::If":
            name, when_true, when_false = value
            return self.eval(when_true if self.condition(name) else when_false)
        if key == "Fn::Equals":
            left, right = self.eval(value)
            return str(left) == str(right)
        if key.startswith("Fn::"):
            raise UnsupportedIntrinsic(f"the evaluator does not know {key}: extend it when the template uses it")
        evaluated = self.eval(value)
        return {} if evaluated is NO_VALUE else {key: evaluated}

    def resources(self) -> dict[str, dict[str, Any]]:
        """Properties of every resource the template creates for these parameters."""
        return {
            name: self.eval(resource.get("Properties", {}))
            for name, resource in self.template["Resources"].items()
            if "Condition" not in resource or self.condition(resource["Condition"])
        }

    def output(self, name: str) -> Any:
        return self.eval(self.template["Outputs"][name]["Value"])


def _checked(name: str, spec: Mapping[str, Any], value: Any) -> str:
    if value is None:
        raise TemplateParameterError(f"{name}: a value is required")
    text = str(value)  # CloudFormation hands every parameter over as a string
    if "AllowedValues" in spec and text not in [str(v) for v in spec["AllowedValues"]]:
        raise TemplateParameterError(f"{name}: {text!r} is not one of {spec['AllowedValues']}")
    if "MinValue" in spec or "MaxValue" in spec:
        try:
            number = float(text)
        except ValueError:
            raise TemplateParameterError(f"{name}: {text!r} is not a number") from None
        if not spec.get("MinValue", number) <= number <= spec.get("MaxValue", number):
            raise TemplateParameterError(f"{name}: {text} is outside {spec.get('MinValue')}..{spec.get('MaxValue')}")
    if "AllowedPattern" in spec and not re.fullmatch(spec["AllowedPattern"], text):
        raise TemplateParameterError(f"{name}: {text!r} does not match {spec['AllowedPattern']}")
    return text


# --------------------------------------------------------------------------- provisioning


@contextmanager
def response_endpoint(region: str = "us-east-1") -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """A loopback HTTP endpoint standing in for CloudFormation's pre-signed response URL of ``region``."""
    received: list[dict[str, Any]] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_PUT(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            received.append(json.loads(self.rfile.read(length) or b"{}"))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: Any) -> None:  # keep the demo's output readable
            return None

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    token = cfn_response.route(server.server_port)
    try:
        yield cfn_response.response_url(token, region), received
    finally:
        cfn_response.unroute(token)
        server.shutdown()
        server.server_close()


def custom_resource_event(
    request_type: str,
    stack_id: str,
    logical_id: str,
    properties: Mapping[str, Any],
    response_url: str,
    physical_id: str | None,
) -> dict[str, Any]:
    event = {
        "RequestType": request_type,
        "ServiceToken": properties["ServiceToken"],
        "ResponseURL": response_url,
        "StackId": stack_id,
        "RequestId": str(uuid.uuid4()),
        "LogicalResourceId": logical_id,
        "ResourceType": "Custom::WindowTagging",
        "ResourceProperties": dict(properties),
    }
    if physical_id:
        event["PhysicalResourceId"] = physical_id
    return event


def launch_window_product(
    session: Any,
    account: str,
    region: str,
    parameters: Mapping[str, Any],
    invoke: Callable[[dict[str, Any]], Any],
    hub_account: str | None = None,
) -> dict[str, Any]:
    """Create what the product's stack creates, in order, and run the custom resource.

    ``session``: boto3 session in the launching account/region; ``invoke(event)`` runs the
    window-tagging Lambda (in that account and region); ``hub_account``: the central account whose
    uploaded template is launched (its shared runbooks are what the tasks run). Returns the stack's
    outputs and the custom resource's CloudFormation response.
    """
    pseudo = {**DEFAULT_PSEUDO, "AWS::StackName": stack_name(account), "AWS::AccountId": account, "AWS::Region": region}
    evaluator = Evaluator(parameters, pseudo, template=product_template(hub_account))
    resources = evaluator.resources()
    ssm = session.client("ssm")
    window = resources["MaintenanceWindow"]
    window_id = ssm.create_maintenance_window(
        Name=window["Name"],
        Description=window["Description"],
        Schedule=window["Schedule"],
        ScheduleTimezone=window["ScheduleTimezone"],
        Duration=int(window["Duration"]),
        Cutoff=int(window["Cutoff"]),
        AllowUnassociatedTargets=bool(window["AllowUnassociatedTargets"]),
        Tags=window.get("Tags", []),
    )["WindowId"]
    evaluator.physical_ids["MaintenanceWindow"] = window_id
    resources = evaluator.resources()
    target = resources["WindowTarget"]
    ssm.register_target_with_maintenance_window(
        WindowId=window_id,
        ResourceType=target["ResourceType"],
        Targets=target["Targets"],
        Name=target["Name"],
        Description=target["Description"],
    )
    tasks = []
    for logical_id, properties in resources.items():
        if self_type(evaluator, logical_id) != "AWS::SSM::MaintenanceWindowTask":
            continue
        ssm.register_task_with_maintenance_window(
            WindowId=window_id,
            TaskArn=properties["TaskArn"],
            TaskType=properties["TaskType"],
            ServiceRoleArn=properties["ServiceRoleArn"],
            Priority=int(properties["Priority"]),
            Name=properties["Name"],
            Description=properties["Description"],
            CutoffBehavior=properties["CutoffBehavior"],
            TaskInvocationParameters={
                "Automation": {
                    "DocumentVersion": properties["TaskInvocationParameters"]["MaintenanceWindowAutomationParameters"][
                        "DocumentVersion"
                    ],
                    "Parameters": properties["TaskInvocationParameters"]["MaintenanceWindowAutomationParameters"][
                        "Parameters"
                    ],
                }
            },
        )
        tasks.append(properties["TaskArn"])
    name = pseudo["AWS::StackName"]
    stack_id = f"arn:{pseudo['AWS::Partition']}:cloudformation:{region}:{account}:stack/{name}/{uuid.uuid4()}"
    with response_endpoint(region) as (url, received):
        invoke(custom_resource_event("Create", stack_id, "WindowTagging", resources["WindowTagging"], url, None))
    if not received:
        raise RuntimeError("the window-tagging function never answered CloudFormation")
    answer = received[-1]
    status = "CREATE_COMPLETE"
    if answer.get("Status") != "SUCCESS":
        # CloudFormation rolls the stack back: a custom resource whose Create failed gets no Delete, the
        # window goes (DeleteMaintenanceWindow removes its targets and tasks with it).
        ssm.delete_maintenance_window(WindowId=window_id)
        status = "ROLLBACK_COMPLETE"
    return {
        "WindowId": window_id,
        "WindowName": evaluator.output("WindowName"),
        "Schedule": evaluator.output("Schedule"),
        "Tasks": tasks,
        "StackId": stack_id,
        "StackStatus": status,
        "CustomResource": answer,
        "Properties": resources["WindowTagging"],
        "PhysicalResourceId": answer.get("PhysicalResourceId"),
    }


def terminate_window_product(
    session: Any, region: str, launched: Mapping[str, Any], invoke: Callable[[dict[str, Any]], Any]
) -> dict[str, Any]:
    """Terminate a launched product like CloudFormation deletes its stack: the custom resource first (it
    depends on the window), then the window. Returns the custom resource's answer."""
    with response_endpoint(region) as (url, received):
        invoke(
            custom_resource_event(
                "Delete",
                launched["StackId"],
                "WindowTagging",
                launched["Properties"],
                url,
                launched.get("PhysicalResourceId"),
            )
        )
    if not received:
        raise RuntimeError("the window-tagging function never answered CloudFormation")
    session.client("ssm").delete_maintenance_window(WindowId=launched["WindowId"])
    return received[-1]


def self_type(evaluator: Evaluator, logical_id: str) -> str:
    return str(evaluator.template["Resources"][logical_id]["Type"])
