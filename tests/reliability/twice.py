"""What "run twice equals run once" measures (issue 18 item 4): the AWS writes of a run, and the emulator's state.

Writes are counted the way the fuzz suite counts them (``tests/fuzz/emulator.py``: every operation that does not
only read), with botocore's own events, but added to ``botocore.handlers.BUILTIN_HANDLERS`` like the IAM replay's
hooks (``devkit/iam_replay/recorder.py``): every session created afterwards carries them, so the count covers the
sessions a handler builds for itself (an assumed reader role, the Lambda a function invokes in-process, a runbook's
step) and not only the one the test hands it. Each write is kept with AWS's answer (``after-call``): a conditional
write that AWS refused (``ConditionalCheckFailedException``, ``ParameterAlreadyExists``...) is told apart from one
that changed something.

The state is read back through the emulator's API (and, for what no API lists, moto's backend: the messages a
topic published), for the account-regions a path touches: everything a path of this program writes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from botocore.handlers import BUILTIN_HANDLERS

#: Operations that only read (``tests/fuzz/emulator.py``); everything else is a write.
READ_PREFIXES = ("Describe", "List", "Get", "Head", "Search", "Select", "Lookup", "BatchGet", "Scan", "Query")
#: How the emulator picks an account (``devkit/emulator.py``), not something the code under test changes.
NOT_WRITES = frozenset({"AssumeRole", "GetCallerIdentity"})


def is_write(operation: str) -> bool:
    return not operation.startswith(READ_PREFIXES) and operation not in NOT_WRITES


@dataclass(frozen=True)
class Write:
    """One write call and how AWS answered it ('' when it succeeded, else the error code)."""

    operation: str
    refused: str


@dataclass
class WriteLog:
    writes: list[Write] = field(default_factory=list)

    def operations(self) -> list[str]:
        return sorted(w.operation for w in self.writes)

    def accepted(self) -> list[str]:
        return sorted(w.operation for w in self.writes if not w.refused)


_ACTIVE: list[WriteLog] = []


def _after_call(model: Any, parsed: Any = None, **_: Any) -> None:
    if not _ACTIVE or not is_write(model.name):
        return
    code = ""
    if isinstance(parsed, dict):
        code = str((parsed.get("Error") or {}).get("Code") or "")
    for log in _ACTIVE:
        log.writes.append(Write(model.name, code))


def install() -> None:
    """Add the hook to every botocore session created from now on (idempotent)."""
    entry = ("after-call", _after_call)
    if entry not in BUILTIN_HANDLERS:
        BUILTIN_HANDLERS.append(entry)


install()


@contextmanager
def recording() -> Iterator[WriteLog]:
    log = WriteLog()
    _ACTIVE.append(log)
    try:
        yield log
    finally:
        _ACTIVE.remove(log)


# --------------------------------------------------------------------------------------------------------------
# The state a run leaves
# --------------------------------------------------------------------------------------------------------------


def _tags(items: list[dict[str, Any]] | None) -> tuple[tuple[str, str], ...]:
    return tuple(sorted((t["Key"], t.get("Value", "")) for t in items or []))


def ec2_state(session: Any) -> dict[str, Any]:
    ec2 = session.client("ec2")
    instances = {
        i["InstanceId"]: (i["State"]["Name"], i["ImageId"], _tags(i.get("Tags")))
        for page in ec2.get_paginator("describe_instances").paginate()
        for r in page["Reservations"]
        for i in r["Instances"]
        if i["State"]["Name"] not in ("terminated", "shutting-down")
    }
    images = {i["ImageId"]: (i["State"], _tags(i.get("Tags"))) for i in ec2.describe_images(Owners=["self"])["Images"]}
    templates = {}
    for template in ec2.describe_launch_templates()["LaunchTemplates"]:
        versions = ec2.describe_launch_template_versions(LaunchTemplateId=template["LaunchTemplateId"])
        templates[template["LaunchTemplateId"]] = sorted(
            (v["VersionNumber"], v.get("VersionDescription", ""), v["LaunchTemplateData"].get("ImageId", ""))
            for v in versions["LaunchTemplateVersions"]
        )
    return {"instances": instances, "images": images, "launchTemplates": templates}


def autoscaling_state(session: Any) -> dict[str, Any]:
    autoscaling = session.client("autoscaling")
    groups = {}
    for group in autoscaling.describe_auto_scaling_groups()["AutoScalingGroups"]:
        name = group["AutoScalingGroupName"]
        refreshes = autoscaling.describe_instance_refreshes(AutoScalingGroupName=name)["InstanceRefreshes"]
        groups[name] = {
            "tags": tuple(sorted((t["Key"], t.get("Value", "")) for t in group.get("Tags", []))),
            "template": group.get("LaunchTemplate"),
            "instances": sorted(i["InstanceId"] for i in group.get("Instances", [])),
            "refreshes": sorted((r["InstanceRefreshId"], r["Status"]) for r in refreshes),
        }
    return groups


def ssm_state(session: Any) -> dict[str, Any]:
    from devkit.moto_extensions.ssm.models import automation

    ssm = session.client("ssm")
    parameters = {
        p["Name"]: p["Version"]
        for page in ssm.get_paginator("describe_parameters").paginate()
        for p in page["Parameters"]
    }
    windows = {}
    for window in ssm.describe_maintenance_windows()["WindowIdentities"]:
        wid = window["WindowId"]
        targets = ssm.describe_maintenance_window_targets(WindowId=wid)["Targets"]
        tasks = ssm.describe_maintenance_window_tasks(WindowId=wid)["Tasks"]
        windows[wid] = {
            "name": window["Name"],
            "enabled": window["Enabled"],
            "targets": sorted(t["WindowTargetId"] for t in targets),
            "tasks": sorted((t["WindowTaskId"], t["TaskArn"]) for t in tasks),
        }
    account = session.client("sts").get_caller_identity()["Account"]
    executions = sorted(e["AutomationExecutionId"] for e in automation.executions_in(account, session.region_name))
    return {"parameters": parameters, "windows": windows, "automations": executions}


def ssm_parameters(session: Any) -> dict[str, int]:
    """Parameters and their versions only (a runbook path: its execution records are the runs themselves)."""
    pages = session.client("ssm").get_paginator("describe_parameters").paginate()
    return {p["Name"]: p["Version"] for page in pages for p in page["Parameters"]}


def ssm_commands(session: Any) -> list[str]:
    """Run Command's commands (a patch run: AWS-RunPatchBaseline)."""
    return sorted(c["CommandId"] for c in session.client("ssm").list_commands()["Commands"])


def s3_state(session: Any) -> dict[str, Any]:
    s3 = session.client("s3")
    buckets: dict[str, Any] = {}
    for bucket in s3.list_buckets()["Buckets"]:
        name = bucket["Name"]
        versions = s3.list_object_versions(Bucket=name)
        buckets[name] = sorted((v["Key"], v["VersionId"], v["ETag"]) for v in versions.get("Versions", [])) + sorted(
            (d["Key"], d["VersionId"], "delete marker") for d in versions.get("DeleteMarkers", [])
        )
    return buckets


def dynamodb_state(session: Any) -> dict[str, Any]:
    dynamodb = session.client("dynamodb")
    tables = {}
    for name in dynamodb.list_tables()["TableNames"]:
        items = dynamodb.scan(TableName=name)["Items"]
        tables[name] = sorted(repr(sorted(item.items())) for item in items)
    return tables


def sns_state(account: str, region: str) -> dict[str, int]:
    """Messages each topic published (moto keeps them; no API lists them)."""
    from moto.sns.models import sns_backends

    backend = sns_backends[account][region]
    return {arn: len(topic.sent_notifications) for arn, topic in backend.topics.items()}


def stepfunctions_state(session: Any) -> dict[str, Any]:
    sfn = session.client("stepfunctions")
    machines = {}
    for machine in sfn.list_state_machines()["stateMachines"]:
        executions = sfn.list_executions(stateMachineArn=machine["stateMachineArn"])["executions"]
        machines[machine["name"]] = sorted((e["name"], e["status"]) for e in executions)
    return machines


#: What a path's snapshot reads, by name.
READERS: dict[str, Callable[[Any], Any]] = {
    "ec2": ec2_state,
    "autoscaling": autoscaling_state,
    "ssm": ssm_state,
    "ssm-parameters": ssm_parameters,
    "ssm-commands": ssm_commands,
    "s3": s3_state,
    "dynamodb": dynamodb_state,
    "stepfunctions": stepfunctions_state,
}


def snapshot(emulator: Any, places: list[tuple[str, str]], services: tuple[str, ...]) -> dict[str, Any]:
    """The state of ``services`` (keys of :data:`READERS`, and ``sns``) in each account-region of ``places``."""
    state: dict[str, Any] = {}
    for account, region in places:
        session = emulator.session(account, region)
        for service in services:
            key = f"{account}/{region}/{service}"
            state[key] = sns_state(account, region) if service == "sns" else READERS[service](session)
    return state


def differences(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    """One line per place and service whose state changed (for the assertion message)."""
    return [
        f"{key}: {before.get(key)!r} -> {after.get(key)!r}"
        for key in sorted(set(before) | set(after))
        if before.get(key) != after.get(key)
    ]
