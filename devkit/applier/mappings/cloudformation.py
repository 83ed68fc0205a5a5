"""CloudFormation: the hub's service-managed StackSet (the child deploy role) and its instances.

pulumi-aws creates a StackSet with ``CreateStackSet`` and its instances with
``CreateStackInstances`` (deployment targets = OUs or the root, one region); both take the same
``CallAs`` (``SELF`` in the management account, ``DELEGATED_ADMIN`` in a StackSets delegated
administrator). Inputs map one to one onto the API members (botocore ``cloudformation`` shapes
``CreateStackSetInput`` and ``CreateStackInstancesInput``).
"""

from __future__ import annotations

from typing import Any

import boto3

from ..registry import Created, Target, arn, mapping, missing_is_none


def _call_as(inputs: dict[str, Any]) -> dict[str, Any]:
    return {"CallAs": inputs["callAs"]} if inputs.get("callAs") else {}


def _read_stack_set(session: boto3.session.Session, name: str, outputs: dict[str, Any]) -> Any:
    cloudformation = session.client("cloudformation")
    return missing_is_none(
        lambda: cloudformation.describe_stack_set(StackSetName=name)["StackSet"], "StackSetNotFoundException"
    )


@mapping("aws:cloudformation/stackSet:StackSet", _read_stack_set)
def stack_set(target: Target) -> Created:
    i = target.inputs
    name = target.autoname()
    request: dict[str, Any] = {"StackSetName": name, "TemplateBody": str(i["templateBody"]), **_call_as(i)}
    if i.get("description"):
        request["Description"] = i["description"]
    if i.get("parameters"):
        request["Parameters"] = [{"ParameterKey": k, "ParameterValue": str(v)} for k, v in i["parameters"].items()]
    if i.get("capabilities"):
        request["Capabilities"] = list(i["capabilities"])
    if i.get("permissionModel"):
        request["PermissionModel"] = i["permissionModel"]
    auto = i.get("autoDeployment")
    if auto:
        request["AutoDeployment"] = {
            "Enabled": bool(auto.get("enabled")),
            "RetainStacksOnAccountRemoval": bool(auto.get("retainStacksOnAccountRemoval")),
        }
    if i.get("managedExecution"):
        request["ManagedExecution"] = {"Active": bool(i["managedExecution"].get("active"))}
    if target.tags:
        request["Tags"] = target.tag_list()
    stack_set_id = target.client("cloudformation").create_stack_set(**request)["StackSetId"]
    return Created(
        name,
        {
            "name": name,
            "stackSetId": stack_set_id,
            "arn": arn("cloudformation", target.region, target.account, f"stackset/{stack_set_id}"),
        },
    )


def _read_instances(session: boto3.session.Session, physical_id: str, outputs: dict[str, Any]) -> Any:
    """The CreateStackInstances operation the apply started (its id is in the outputs)."""
    cloudformation = session.client("cloudformation")
    return missing_is_none(
        lambda: cloudformation.describe_stack_set_operation(
            StackSetName=outputs["stackSetName"], OperationId=outputs["operationId"]
        )["StackSetOperation"],
        "StackSetNotFoundException",
        "OperationNotFoundException",
    )


@mapping("aws:cloudformation/stackSetInstance:StackSetInstance", _read_instances)
def stack_set_instance(target: Target) -> Created:
    i = target.inputs
    targets = i.get("deploymentTargets") or {}
    request: dict[str, Any] = {
        "StackSetName": i["stackSetName"],
        "Regions": [i.get("stackSetInstanceRegion") or target.region],
        **_call_as(i),
    }
    if targets.get("organizationalUnitIds"):
        request["DeploymentTargets"] = {"OrganizationalUnitIds": list(targets["organizationalUnitIds"])}
    elif i.get("accountId"):
        request["Accounts"] = [i["accountId"]]
    preferences = i.get("operationPreferences") or {}
    keys = {
        "concurrencyMode": "ConcurrencyMode",
        "failureTolerancePercentage": "FailureTolerancePercentage",
        "maxConcurrentPercentage": "MaxConcurrentPercentage",
        "regionConcurrencyType": "RegionConcurrencyType",
    }
    if preferences:
        # numbers arrive from the engine as floats; the API's percentages are integers
        request["OperationPreferences"] = {
            api: int(preferences[key]) if isinstance(preferences[key], float) else preferences[key]
            for key, api in keys.items()
            if key in preferences
        }
    operation = target.client("cloudformation").create_stack_instances(**request)["OperationId"]
    return Created(
        f"{i['stackSetName']},{request['Regions'][0]}", {"stackSetName": i["stackSetName"], "operationId": operation}
    )
