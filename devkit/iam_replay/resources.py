"""A call as IAM sees it: the action, and the resource ARNs AWS authorises it on.

The action names and the ARN formats come from the Service Authorization Reference, as the data
parliament ships (``parliament.iam_definition``): for each action, the resource types it is
authorised on (a trailing ``*`` marks a required one) and each type's ARN template. What this
module adds is where each template variable comes from in a call's parameters. A required
resource type this module cannot fill is :class:`Unmapped` — reported, never guessed.

Resources a call creates (the instance ``RunInstances`` launches, its volumes and network
interfaces) have no id yet; AWS authorises them on the type's ARN with ``*`` as the id, and so
does the replay (:data:`CREATED`).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from parliament import iam_definition

#: API operations whose IAM action has another name (Service Authorization Reference: the
#: "Actions" table of each service lists the API operations an action covers).
ACTION_NAMES: Mapping[tuple[str, str], str] = {
    ("lambda", "Invoke"): "InvokeFunction",
    ("s3", "ListObjectsV2"): "ListBucket",
    ("s3", "ListObjects"): "ListBucket",
    ("s3", "HeadObject"): "GetObject",
    ("s3", "HeadBucket"): "ListBucket",
    ("s3", "CreateMultipartUpload"): "PutObject",
    ("s3", "UploadPart"): "PutObject",
    ("s3", "CompleteMultipartUpload"): "PutObject",
    ("s3", "DeleteObjects"): "DeleteObject",
    ("s3", "GetBucketLifecycleConfiguration"): "GetLifecycleConfiguration",
    ("s3", "PutBucketLifecycleConfiguration"): "PutLifecycleConfiguration",
    ("s3", "GetBucketEncryption"): "GetEncryptionConfiguration",
    ("s3", "PutBucketEncryption"): "PutEncryptionConfiguration",
}

#: Calls that need no permission at all (Service Authorization Reference: "no permissions are
#: required to perform this operation"), so they are not judged.
NO_PERMISSION_NEEDED: frozenset[tuple[str, str]] = frozenset({("sts", "GetCallerIdentity")})

#: (action, resource type) pairs whose resource the call itself creates: authorised with id ``*``.
CREATED: frozenset[tuple[str, str]] = frozenset(
    {
        ("ec2:RunInstances", "instance"),
        ("ec2:RunInstances", "network-interface"),
        ("ec2:RunInstances", "volume"),
        ("ec2:RunInstances", "security-group"),
        ("ec2:RunInstances", "subnet"),
        ("ec2:CreateImage", "image"),
        ("ec2:CreateImage", "snapshot"),
        ("ec2:CopyImage", "image"),
        ("ec2:CreateLaunchTemplate", "launch-template"),
        ("ssm:SendCommand", "instance"),
        ("ssm:StartAutomationExecution", "automation-execution"),
    }
)


@dataclass(frozen=True)
class Unmapped:
    """A required resource type of ``action`` that the call's parameters do not name."""

    action: str
    resource_type: str

    def __str__(self) -> str:
        return f"{self.action}: cannot tell the {self.resource_type} resource from the call's parameters"


@functools.cache
def _services() -> dict[str, dict[str, Any]]:
    return {service["prefix"]: service for service in iam_definition}


@functools.cache
def _privilege(prefix: str, name: str) -> dict[str, Any] | None:
    service = _services().get(prefix)
    if service is None:
        return None
    lowered = name.lower()
    return next((p for p in service["privileges"] if p["privilege"].lower() == lowered), None)


@functools.cache
def _arn_template(prefix: str, resource_type: str) -> str | None:
    service = _services().get(prefix)
    if service is None:
        return None
    return next((r["arn"] for r in service["resources"] if r["resource"] == resource_type), None)


def action_of(prefix: str, operation: str) -> str:
    """``prefix:Action`` for an API operation of the service whose signing name is ``prefix``."""
    return f"{prefix}:{ACTION_NAMES.get((prefix, operation), operation)}"


def is_known_action(action: str) -> bool:
    prefix, _, name = action.partition(":")
    return _privilege(prefix, name) is not None


def _listed(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list | tuple):
        return [str(v) for v in value]
    return [str(value)]


def _name_from_arn(value: str, marker: str) -> str:
    """The last part of an ARN after ``marker`` (``document/``, ``function:``), or the value itself."""
    if value.startswith("arn:") and marker in value:
        return value.split(marker, 1)[1]
    return value


Ids = list[dict[str, str]]
Extractor = Callable[[Mapping[str, Any]], Ids]


def _ids(variable: str, values: Iterable[str]) -> Ids:
    return [{variable: value} for value in values]


def _prefixed(params: Mapping[str, Any], key: str, prefix: str) -> list[str]:
    return [r for r in _listed(params.get(key)) if r.startswith(prefix)]


def _launch_template_ids(params: Mapping[str, Any]) -> list[str]:
    direct = _listed(params.get("LaunchTemplateId"))
    nested = params.get("LaunchTemplate") or {}
    return direct + _listed(nested.get("LaunchTemplateId")) + _prefixed(params, "Resources", "lt-")


def _documents(params: Mapping[str, Any]) -> Ids:
    result: Ids = []
    # GetCalendarState names its calendars (documents, or shared ones by ARN) in CalendarNames.
    for name in (
        _listed(params.get("DocumentName")) + _listed(params.get("Name")) + _listed(params.get("CalendarNames"))
    ):
        if name.startswith("arn:"):
            # A shared document by ARN: authorised in the owner's account.
            account = name.split(":")[4]
            result.append({"DocumentName": _name_from_arn(name, "document/"), "Account": account})
        elif name.startswith("AWS-"):
            # AWS-owned documents: arn:aws:ssm:<region>::document/AWS-... (no account).
            result.append({"DocumentName": name, "Account": ""})
        else:
            result.append({"DocumentName": name})
    return result


def _automation_definitions(params: Mapping[str, Any]) -> Ids:
    return [
        {**doc, "AutomationDefinitionName": doc.pop("DocumentName"), "VersionId": "$DEFAULT"}
        for doc in _documents(params)
    ]


def _parameters(params: Mapping[str, Any]) -> Ids:
    result: Ids = []
    for name in _listed(params.get("Name")) + _listed(params.get("Names")):
        stripped = _name_from_arn(name, "parameter/").lstrip("/")
        public = stripped.startswith("aws/service/")
        result.append({"ParameterNameWithoutLeadingSlash": stripped, **({"Account": ""} if public else {})})
    return result


def _groups(params: Mapping[str, Any]) -> Ids:
    names = _listed(params.get("AutoScalingGroupName")) + _listed(params.get("AutoScalingGroupNames"))
    names += [tag["ResourceId"] for tag in params.get("Tags") or [] if isinstance(tag, dict) and "ResourceId" in tag]
    return _ids("GroupFriendlyName", dict.fromkeys(names))


def _roles(params: Mapping[str, Any]) -> Ids:
    names = _listed(params.get("RoleName")) + [_name_from_arn(a, ":role/") for a in _listed(params.get("RoleArn"))]
    return _ids("RoleNameWithPath", names)


def _assumed_roles(params: Mapping[str, Any]) -> Ids:
    """AssumeRole's role, in the account its ARN names (the hub's notices assume a role in each child account)."""
    result: Ids = []
    for arn in _listed(params.get("RoleArn")):
        parts = arn.split(":", 5)
        if len(parts) == 6 and parts[5].startswith("role/"):
            result.append({"Account": parts[4], "RoleNameWithPath": parts[5][len("role/") :]})
    return result


def _buckets(params: Mapping[str, Any]) -> Ids:
    return _ids("BucketName", _listed(params.get("Bucket")))


def _objects(params: Mapping[str, Any]) -> Ids:
    bucket, key = params.get("Bucket"), params.get("Key")
    if bucket and key is not None:
        return [{"BucketName": str(bucket), "ObjectName": str(key)}]
    if bucket and params.get("Delete"):
        return [{"BucketName": str(bucket), "ObjectName": str(o["Key"])} for o in params["Delete"].get("Objects", [])]
    return []


def _functions(params: Mapping[str, Any]) -> Ids:
    return _ids(
        "FunctionName", [_name_from_arn(f, "function:").split(":")[0] for f in _listed(params.get("FunctionName"))]
    )


def _topics(params: Mapping[str, Any]) -> Ids:
    return _ids("TopicName", [a.rsplit(":", 1)[-1] for a in _listed(params.get("TopicArn"))])


def _event_buses(params: Mapping[str, Any]) -> Ids:
    names = [_name_from_arn(e.get("EventBusName") or "default", "event-bus/") for e in params.get("Entries") or []]
    return _ids("EventBusName", dict.fromkeys(names))


def _executions(params: Mapping[str, Any]) -> Ids:
    result: Ids = []
    for arn in _listed(params.get("executionArn")):
        machine, _, execution = arn.split(":execution:", 1)[-1].partition(":")
        result.append({"StateMachineName": machine, "ExecutionId": execution})
    return result


def _state_machines(params: Mapping[str, Any]) -> Ids:
    return _ids("StateMachineName", [a.rsplit(":", 1)[-1] for a in _listed(params.get("stateMachineArn"))])


def _keys(params: Mapping[str, Any]) -> Ids:
    return _ids("KeyId", [_name_from_arn(k, "key/") for k in _listed(params.get("KeyId"))])


#: Where each resource type's id comes from, by (service prefix, resource type).
EXTRACTORS: Mapping[tuple[str, str], Extractor] = {
    ("ec2", "instance"): lambda p: _ids(
        "InstanceId", _listed(p.get("InstanceIds")) + _listed(p.get("InstanceId")) + _prefixed(p, "Resources", "i-")
    ),
    ("ec2", "image"): lambda p: _ids(
        "ImageId", _listed(p.get("ImageId")) + _listed(p.get("ImageIds")) + _prefixed(p, "Resources", "ami-")
    ),
    ("ec2", "snapshot"): lambda p: _ids("SnapshotId", _prefixed(p, "Resources", "snap-")),
    ("ec2", "launch-template"): lambda p: _ids("LaunchTemplateId", _launch_template_ids(p)),
    # A key pair is authorised only when the launch names one (KeyName).
    ("ec2", "key-pair"): lambda p: _ids("KeyPairName", _listed(p.get("KeyName"))),
    ("ssm", "document"): _documents,
    ("ssm", "automation-definition"): _automation_definitions,
    ("ssm", "automation-execution"): lambda p: _ids("AutomationExecutionId", _listed(p.get("AutomationExecutionId"))),
    ("ssm", "instance"): lambda p: _ids("InstanceId", _listed(p.get("InstanceIds")) + _listed(p.get("InstanceId"))),
    ("ssm", "managed-instance"): lambda p: _ids(
        "InstanceId", [i for i in _listed(p.get("InstanceIds")) + _listed(p.get("InstanceId")) if i.startswith("mi-")]
    ),
    ("ssm", "parameter"): _parameters,
    ("ssm", "maintenancewindow"): lambda p: _ids("ResourceId", _listed(p.get("WindowId"))),
    ("ssm", "windowtarget"): lambda p: _ids("WindowTargetId", _listed(p.get("WindowTargetId"))),
    ("ssm", "windowtask"): lambda p: _ids("WindowTaskId", _listed(p.get("WindowTaskId"))),
    ("autoscaling", "autoScalingGroup"): _groups,
    ("s3", "bucket"): _buckets,
    ("s3", "object"): _objects,
    ("lambda", "function"): _functions,
    ("sns", "topic"): _topics,
    ("events", "event-bus"): _event_buses,
    ("states", "execution"): _executions,
    ("states", "stateMachine"): _state_machines,
    ("iam", "role"): _roles,
    ("iam", "instance-profile"): lambda p: _ids("InstanceProfileNameWithPath", _listed(p.get("InstanceProfileName"))),
    ("sts", "role"): _assumed_roles,
    ("kms", "key"): _keys,
    ("cloudwatch", "alarm"): lambda p: _ids("AlarmName", _listed(p.get("AlarmNames")) + _listed(p.get("AlarmName"))),
    ("firehose", "deliverystream"): lambda p: _ids("DeliveryStreamName", _listed(p.get("DeliveryStreamName"))),
    # the dedupe claims of the failure alerts and the pre-patch notices (PutItem, DeleteItem: TableName)
    ("dynamodb", "table"): lambda p: _ids(
        "TableName", [_name_from_arn(t, "table/") for t in _listed(p.get("TableName"))]
    ),
}

#: Resource types an action lists as required side by side where a call names only one: SSM's
#: EC2 instances and hybrid managed instances (``mi-``) are either/or targets.
ALTERNATIVES: Mapping[str, frozenset[str]] = {
    "instance": frozenset({"managed-instance"}),
    "managed-instance": frozenset({"instance"}),
    # Step Functions: an execution is of a Standard or an Express state machine (DescribeExecution lists both).
    "execution": frozenset({"express"}),
    "express": frozenset({"execution"}),
}

_VARIABLE = re.compile(r"\$\{([A-Za-z0-9]+)\}")


def _fill(template: str, values: Mapping[str, str]) -> str:
    return _VARIABLE.sub(lambda m: values.get(m.group(1), "*"), template)


@dataclass(frozen=True)
class Authorised:
    """One resource an action is authorised on: its ARN and resource type (``*`` when none)."""

    arn: str
    resource_type: str


def resources_of(
    action: str, params: Mapping[str, Any], account: str, region: str
) -> tuple[list[Authorised], list[Unmapped]]:
    """The resources AWS authorises ``action`` on for this call, and the required ones it cannot name.

    An action with no resource types (``ssm:DescribeInstanceInformation``, ``ec2:Describe*``) is
    authorised on ``*``. Optional types are included when the call names them.
    """
    prefix, _, name = action.partition(":")
    privilege = _privilege(prefix, name)
    if privilege is None:
        return [], [Unmapped(action, "(unknown action)")]
    found: list[Authorised] = []
    unmapped: list[Unmapped] = []
    typed = [t for t in privilege["resource_types"] if t["resource_type"]]
    if not typed:
        return [Authorised("*", "*")], []
    base = {"Partition": "aws", "Region": region, "Account": account}
    for entry in typed:
        resource_type = entry["resource_type"].rstrip("*")
        required = entry["resource_type"].endswith("*")
        template = _arn_template(prefix, resource_type)
        extractor = EXTRACTORS.get((prefix, resource_type))
        ids = extractor(params) if extractor and template else []
        if not ids and (action, resource_type) in CREATED and template:
            ids = [{}]
        if ids and template:
            found += [Authorised(_fill(template, {**base, **one}), resource_type) for one in ids]
        elif required:
            unmapped.append(Unmapped(action, resource_type))
    named = {f.resource_type for f in found}
    unmapped = [u for u in unmapped if not (ALTERNATIVES.get(u.resource_type, frozenset()) & named)]
    if not found and not unmapped:
        # Only optional types, none named by the call: AWS authorises the action on "*".
        found.append(Authorised("*", "*"))
    return found, unmapped
