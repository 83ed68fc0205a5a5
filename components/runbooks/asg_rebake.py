"""The ``aws:executeScript`` steps of the ASG runbook (``patch_asgs.yaml``): rebake each group's AMI, then refresh.

One handler per step, ``handler(events, context)`` as SSM Automation calls it. ``render_runbook()`` inlines into each
script step the part of this file its handler needs, with the definitions of the tag contract it imports
(``from tag_contract import ...``: only where they are used), so the deployed document has no attachment, stays under
SSM's 64 KB document limit, and the tests run the exact text SSM runs.

Why it is built this way (docs/aws-rules.md, "ASG rebake"; docs/reliability.md, "Rebake interruption"):

* **No step waits.** An ``aws:executeScript`` step may run 600 s; an AMI build or a refresh takes longer. Every
  ``poll_*`` handler looks ONCE and answers ``State`` ``waiting``/``done``; the runbook sleeps (``aws:sleep``) and
  loops back until the deadline the starting step computed. A step can never outlive its limit.
* **Only the AMI changes.** The new launch template version is ``SourceVersion`` + ``{"ImageId": new}`` (a described
  version cannot be sent back: ``MetadataOptions.State`` and other response-only fields make botocore raise
  ``ParamValidationError``). The group is moved by the refresh itself: ``DesiredConfiguration`` names the template
  id and the new version number, with ``AutoRollback`` (AWS refuses AutoRollback without a desired configuration or
  with ``$Latest``/``$Default``). ``UpdateAutoScalingGroup`` and ``ModifyLaunchTemplate`` are never called: a shared
  template's default does not move under other groups, and the group is only on the new version once the refresh
  succeeded. A refresh that fails or rolls back gets its version deleted, so ``$Latest`` points back at the source.
* **The contract, before anything changes.** A group is rebaked only when it carries a ``Patch Group`` of the
  contract and no exemption/managed marker, its launch template carries a ``Patch Group`` tag, and the template's
  instance profile is the patching one or has its roles under ``APP_ROLE_PATH`` (the refresh's launch-template check
  needs ``iam:PassRole`` on it, which the automation role has only there). ``TargetASG`` outside the contract fails
  the execution in ``findAsgs``, before any write.
* **Interruption-safe and exclusive.** ``findAsgs`` takes a per-group lock (an SSM parameter created with
  ``Overwrite=False``: atomic) holding the execution id; a lock whose execution still runs refuses the group, a lock
  of a finished or unknown execution is taken over. Then it reads where an earlier, interrupted run stopped, from
  the resources' own markers (the rebake key ``<template>:<source version>`` on builders and AMIs, the version
  description), and resumes from there: one AMI, one version and one refresh per rebake, whatever step was cut.
  Builders of dead executions are terminated, failed AMIs deregistered.
* launch templates only (seed bug 5: launch configurations); exempt and managed groups (EKS, ECS) are skipped by the
  tag contract; the builder uses the group's own instance type (arm64 safe) in its subnets (the next one on a
  capacity error), with the patching profile; every describe pages; clients retry throttling (``standard``).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Mapping
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError
from tag_contract import (
    ALARMS_TAG,
    DEFAULT,
    MAINTENANCE_WINDOW_TAG,
    PATCH_GROUP_TAG,
    PATCH_GROUPS,
    alarm_names,
    skip_reason,
)

RETRIES = Config(retries={"mode": "standard", "max_attempts": 10})  # type: ignore[typeddict-item]
#: Tag keys on builders and AMIs (operational markers, not part of the patching tag contract).
BUILDER_TAG = "org-patching:builder-for"
EXECUTION_TAG = "org-patching:execution-id"
SOURCE_AMI_TAG = "org-patching:source-ami"
ASG_TAG = "org-patching:asg"
#: ``<launch template id>:<source version>``: what one rebake is of, on its builder and its AMI.
REBAKE_KEY_TAG = "org-patching:rebake-of"
#: Start of the description of every version the rebake creates: ``org-patching rebake <source>-><ami>``.
VERSION_MARKER = "org-patching rebake "
#: The one SSM parameter prefix the automation role may read besides /aws/service/ (AMI ids a template resolves
#: with resolve:ssm:) and write under LOCK_PREFIX (components/spoke/automation_policy.py).
PARAMETER_PREFIX = "/org-patching/"
LOCK_PREFIX = PARAMETER_PREFIX + "rebake-lock/"
#: IAM path of app-owned instance roles whose groups may be rebaked (the refresh passes them to EC2).
APP_ROLE_PATH = "/org-patching-app/"
#: Capacity errors after which the next subnet of the group is tried.
CAPACITY_ERRORS = ("InsufficientInstanceCapacity", "Unsupported", "InsufficientFreeAddressesInSubnet")
#: How long each wait may last in total (the runbook loops poll -> aws:sleep -> poll until then).
BUILDER_DEADLINE_SECONDS = 900
IMAGE_DEADLINE_SECONDS = 3600
REFRESH_DEADLINE_SECONDS = 7200
#: Automation statuses of an execution that still runs (botocore AutomationExecutionStatus; the rest are final).
RUNNING = (
    "Pending",
    "InProgress",
    "Waiting",
    "Cancelling",
    "PendingApproval",
    "Approved",
    "Scheduled",
    "RunbookInProgress",
    "PendingChangeCalendarOverride",
    "ChangeCalendarOverrideApproved",
    "Exiting",
)
ACTIVE_REFRESH = ("Pending", "InProgress", "Baking", "Cancelling", "RollbackInProgress")


def _client(service: str) -> Any:
    return boto3.client(service, config=RETRIES)


def _tags(items: list[Mapping[str, Any]] | None) -> dict[str, str]:
    return {t["Key"]: t.get("Value", "") for t in items or []}


def _failures(events: Mapping[str, Any]) -> list[str]:
    """Failures carried from earlier steps (a StringList; SSM passes an empty list as [] or [""])."""
    return [f for f in events.get("Failures") or [] if f]


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def _template_spec(group: Mapping[str, Any]) -> dict[str, str] | None:
    """The group's launch template (id/name + version), from LaunchTemplate or MixedInstancesPolicy."""
    spec = group.get("LaunchTemplate")
    if spec is None:
        spec = group.get("MixedInstancesPolicy", {}).get("LaunchTemplate", {}).get("LaunchTemplateSpecification")
    if not spec:
        return None
    return {
        "LaunchTemplateId": spec.get("LaunchTemplateId", ""),
        "LaunchTemplateName": spec.get("LaunchTemplateName", ""),
        "Version": spec.get("Version") or "$Default",
    }


def _template_version(ec2: Any, spec: Mapping[str, str]) -> dict[str, Any]:
    """The launch template version the group really uses (``$Default``/``$Latest``/a number)."""
    kwargs: dict[str, Any] = {"Versions": [spec["Version"]]}
    if spec.get("LaunchTemplateId"):
        kwargs["LaunchTemplateId"] = spec["LaunchTemplateId"]
    else:
        kwargs["LaunchTemplateName"] = spec["LaunchTemplateName"]
    versions = ec2.describe_launch_template_versions(**kwargs)["LaunchTemplateVersions"]
    if not versions:
        raise ValueError(f"launch template {spec} has no version {spec['Version']}")
    return dict(versions[0])


def _all_versions(ec2: Any, template: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for page in ec2.get_paginator("describe_launch_template_versions").paginate(LaunchTemplateId=template):
        out.extend(page.get("LaunchTemplateVersions", []))
    return out


def _resolve_image(image_id: str) -> str:
    """``resolve:ssm:`` image ids are resolved through SSM, as EC2 does at launch (only /aws/service/ and
    PARAMETER_PREFIX are readable by the automation role)."""
    if image_id.startswith("resolve:ssm:"):
        name = image_id.removeprefix("resolve:ssm:")
        return str(_client("ssm").get_parameter(Name=name)["Parameter"]["Value"])
    return image_id


def _groups(autoscaling: Any, names: list[str] | None, tag: tuple[str, str] | None = None) -> Iterator[dict[str, Any]]:
    """Groups by name, or by one tag (filtered by Auto Scaling itself), every page."""
    kwargs: dict[str, Any] = {"PaginationConfig": {"PageSize": 100}}
    if names:
        kwargs["AutoScalingGroupNames"] = names
    elif tag:
        kwargs["Filters"] = [{"Name": f"tag:{tag[0]}", "Values": [tag[1]]}]
    for page in autoscaling.get_paginator("describe_auto_scaling_groups").paginate(**kwargs):
        yield from page.get("AutoScalingGroups", [])


def _refreshes(autoscaling: Any, name: str) -> list[dict[str, Any]]:
    """Every refresh of the group (botocore has no paginator for this operation: NextToken by hand)."""
    out: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"AutoScalingGroupName": name}
    while True:
        page = autoscaling.describe_instance_refreshes(**kwargs)
        out.extend(page.get("InstanceRefreshes", []))
        if not page.get("NextToken"):
            return out
        kwargs["NextToken"] = page["NextToken"]


def _desired_version(refresh: Mapping[str, Any]) -> str:
    desired = refresh.get("DesiredConfiguration") or {}
    spec = desired.get("LaunchTemplate") or (
        desired.get("MixedInstancesPolicy", {}).get("LaunchTemplate", {}).get("LaunchTemplateSpecification", {})
    )
    return str((spec or {}).get("Version", ""))


# --------------------------------------------------------------------------------------------------------------
# The per-group lock (an SSM parameter: PutParameter with Overwrite=False is atomic)
# --------------------------------------------------------------------------------------------------------------


def _lock_name(group: str) -> str:
    return LOCK_PREFIX + group


def _holder(ssm: Any, group: str) -> str | None:
    try:
        return str(json.loads(ssm.get_parameter(Name=_lock_name(group))["Parameter"]["Value"])["execution"])
    except ClientError as error:
        if _code(error) == "ParameterNotFound":
            return None
        raise


def _running(ssm: Any, execution: str) -> bool:
    try:
        found = ssm.get_automation_execution(AutomationExecutionId=execution)["AutomationExecution"]
    except ClientError as error:
        if _code(error) in ("AutomationExecutionNotFoundException", "InvalidAutomationExecutionId"):
            return False
        raise
    return str(found.get("AutomationExecutionStatus")) in RUNNING


def acquire_lock(ssm: Any, group: str, execution: str) -> tuple[str | None, str | None]:
    """Take the group's lock for ``execution``. Returns ``(running, previous)``: the id of a running execution that
    holds it (refused), or of a finished one whose lock was taken over (its rebake did not end cleanly)."""
    value = json.dumps({"execution": execution, "since": int(time.time())})
    previous: str | None = None
    for _ in range(3):
        try:
            ssm.put_parameter(Name=_lock_name(group), Value=value, Type="String", Overwrite=False)
            return None, previous
        except ClientError as error:
            if _code(error) != "ParameterAlreadyExists":
                raise
        holder = _holder(ssm, group)
        if holder == execution:
            return None, previous
        if holder is not None and _running(ssm, holder):
            return holder, None
        # the holder finished or never existed: take over, then make sure no one else did at the same time
        previous = holder
        ssm.put_parameter(Name=_lock_name(group), Value=value, Type="String", Overwrite=True)
        if _holder(ssm, group) == execution:
            return None, previous
    return _holder(ssm, group) or "unknown", None


def release_locks(ssm: Any, groups: list[str], execution: str) -> list[str]:
    released = []
    for group in groups:
        if _holder(ssm, group) == execution:
            ssm.delete_parameter(Name=_lock_name(group))
            released.append(group)
    return released


# --------------------------------------------------------------------------------------------------------------
# What an earlier run already did (resume)
# --------------------------------------------------------------------------------------------------------------


def _marker_source(version: Mapping[str, Any]) -> str | None:
    """The source version a rebake version was made from (its description), or None for other versions."""
    description = str(version.get("VersionDescription") or "")
    if not description.startswith(VERSION_MARKER):
        return None
    return description.removeprefix(VERSION_MARKER).split("->", 1)[0]


def _rebake_images(ec2: Any, group: str, key: str) -> list[dict[str, Any]]:
    found = ec2.describe_images(
        Owners=["self"],
        Filters=[{"Name": f"tag:{ASG_TAG}", "Values": [group]}, {"Name": f"tag:{REBAKE_KEY_TAG}", "Values": [key]}],
    )["Images"]
    return [dict(i) for i in found]


def _plan(ec2: Any, autoscaling: Any, group: str, template: str, resolved: Mapping[str, Any]) -> dict[str, Any]:
    """Where this group's rebake stands: ``build``, ``image`` (AMI exists), ``refresh`` (version exists) or
    ``wait`` (its refresh runs); ``done`` never appears: a completed rebake is a new source."""
    number = str(resolved["VersionNumber"])
    source = _marker_source(resolved)
    candidate: dict[str, Any] | None = dict(resolved) if source is not None else None
    if candidate is None:
        source = number
        ours = [v for v in _all_versions(ec2, template) if _marker_source(v) == number]
        candidate = max(ours, key=lambda v: v["VersionNumber"]) if ours else None
    if candidate is not None:
        version = str(candidate["VersionNumber"])
        refreshes = [r for r in _refreshes(autoscaling, group) if _desired_version(r) == version]
        if any(r["Status"] == "Successful" for r in refreshes):  # finished: the rebake version is the new source
            return {"phase": "build", "sourceVersion": version, "completed": True}
        active = [r for r in refreshes if r["Status"] in ACTIVE_REFRESH]
        if active:
            return {
                "phase": "wait",
                "sourceVersion": source,
                "newVersion": version,
                "refreshId": active[0]["InstanceRefreshId"],
            }
        if refreshes:  # rolled back or failed, and the cleanup was cut off: finish it, rebake again from the source
            ec2.delete_launch_template_versions(LaunchTemplateId=template, Versions=[version])
            return {"phase": "build", "sourceVersion": str(source)}
        new_image = str(candidate.get("LaunchTemplateData", {}).get("ImageId", ""))
        return {"phase": "refresh", "sourceVersion": source, "newVersion": version, "image": new_image}
    for found in _rebake_images(ec2, group, f"{template}:{number}"):
        if found.get("State") in ("pending", "available"):
            return {"phase": "image", "sourceVersion": number, "image": found["ImageId"]}
        ec2.deregister_image(ImageId=found["ImageId"])  # failed/invalid: nothing can use it
    return {"phase": "build", "sourceVersion": number}


def _orphan_builders(ec2: Any, group: str, execution: str) -> list[str]:
    """Builders of this group left by executions that no longer run (the caller holds the group's lock)."""
    ids: list[str] = []
    for page in ec2.get_paginator("describe_instances").paginate(
        Filters=[
            {"Name": f"tag:{BUILDER_TAG}", "Values": [group]},
            {"Name": "instance-state-name", "Values": ["pending", "running", "stopping", "stopped"]},
        ]
    ):
        for reservation in page.get("Reservations", []):
            for instance in reservation.get("Instances", []):
                if _tags(instance.get("Tags")).get(EXECUTION_TAG) != execution:
                    ids.append(instance["InstanceId"])
    if ids:
        ec2.terminate_instances(InstanceIds=sorted(ids))
    return sorted(ids)


def _contract_problem(ec2: Any, iam: Any, tags: Mapping[str, str], version: Mapping[str, Any], profile: str) -> str:
    """Why a group is outside what the rebake may touch (empty: inside)."""
    reason = skip_reason(dict(tags), "asg")
    if reason:
        return reason
    if tags.get(PATCH_GROUP_TAG) not in PATCH_GROUPS:
        return f"no {PATCH_GROUP_TAG} tag of the contract ({', '.join(PATCH_GROUPS)})"
    template = ec2.describe_launch_templates(LaunchTemplateIds=[version["LaunchTemplateId"]])["LaunchTemplates"][0]
    if _tags(template.get("Tags")).get(PATCH_GROUP_TAG) not in PATCH_GROUPS:
        return (
            f"launch template {version['LaunchTemplateId']} has no {PATCH_GROUP_TAG} tag of the contract: "
            "the automation role may not add versions to it"
        )
    wanted = version.get("LaunchTemplateData", {}).get("IamInstanceProfile") or {}
    name = str(wanted.get("Name") or str(wanted.get("Arn") or "").rsplit("/", 1)[-1])
    if name and name != profile:
        roles = iam.get_instance_profile(InstanceProfileName=name)["InstanceProfile"].get("Roles", [])
        outside = [r["RoleName"] for r in roles if r.get("Path") != APP_ROLE_PATH]
        if outside:
            return (
                f"instance profile {name} has role(s) {', '.join(outside)} outside IAM path {APP_ROLE_PATH}: the "
                "refresh needs iam:PassRole on them, which the automation role has only there"
            )
    return ""


# --------------------------------------------------------------------------------------------------------------
# Steps
# --------------------------------------------------------------------------------------------------------------


def find_asgs(events: Mapping[str, Any], context: Any) -> dict[str, Any]:
    """The groups to rebake: ``TargetASG``, else those tagged ``Patch Group=<PatchGroup>`` when ``PatchGroup`` is set
    (an emergency wave), else those tagged ``maintenance_window=<MaintenanceWindow>`` (a window's task). Groups
    outside the contract are skipped with the reason; a ``TargetASG`` outside it fails the execution before anything
    changes. Each kept group is locked for this execution and planned from where an earlier run stopped.
    """
    window = str(events.get("MaintenanceWindow") or "").strip()
    patch_group = str(events.get("PatchGroup") or "").strip()
    target = str(events.get("TargetASG") or "").strip()
    execution = str(events.get("ExecutionId") or "manual")
    profile = str(events.get("InstanceProfileName") or "")
    if not window and not patch_group and not target:
        raise ValueError("MaintenanceWindow, PatchGroup or TargetASG is required")
    if patch_group and patch_group not in PATCH_GROUPS:
        raise ValueError(f"PatchGroup: {patch_group!r} is not one of {', '.join(PATCH_GROUPS)}")
    selector = (PATCH_GROUP_TAG, patch_group) if patch_group else (MAINTENANCE_WINDOW_TAG, window)
    autoscaling, ec2, ssm, iam = _client("autoscaling"), _client("ec2"), _client("ssm"), _client("iam")
    calendar = events.get("ChangeCalendar")
    if calendar and ssm.get_calendar_state(CalendarNames=[calendar])["State"] == "CLOSED":
        # change freeze (components/runbooks/change_gate.py): nothing is locked, built or refreshed
        return {"asgs": [], "count": 0, "skipped": {}, "failures": []}
    candidates: list[tuple[dict[str, Any], dict[str, str], dict[str, Any]]] = []
    skipped: dict[str, str] = {}
    failures = _failures(events)
    groups = list(_groups(autoscaling, [target] if target else None, selector))
    if target and not groups:
        raise ValueError(f"TargetASG {target}: no such Auto Scaling group")
    for group in groups:
        name = group["AutoScalingGroupName"]
        tags = _tags(group.get("Tags"))
        if not target and tags.get(selector[0]) != selector[1]:
            continue
        spec = _template_spec(group)
        if spec is None:
            problem = "launch configuration: not supported (migrate the group to a launch template)"
            version: dict[str, Any] = {}
        else:
            try:
                version = _template_version(ec2, spec)
            except (ClientError, ValueError) as error:
                failures.append(f"{name}: cannot read launch template {spec}: {error}")
                continue
            problem = _contract_problem(ec2, iam, tags, version, profile)
        if problem and target:
            raise ValueError(f"TargetASG {name} is outside the patching contract: {problem}; nothing was changed")
        if problem:
            skipped[name] = problem
            continue
        candidates.append((group, tags, version))
    found: list[dict[str, Any]] = []
    for group, tags, version in candidates:
        name = group["AutoScalingGroupName"]
        holder, previous = acquire_lock(ssm, name, execution)
        if holder is not None:
            failures.append(f"{name}: another rebake of this group is running (execution {holder}); refused")
            continue
        orphans = _orphan_builders(ec2, name, execution)
        data = version.get("LaunchTemplateData", {})
        mixed = group.get("MixedInstancesPolicy")
        overrides = (mixed or {}).get("LaunchTemplate", {}).get("Overrides", [])
        instance_type = data.get("InstanceType") or next(
            (o["InstanceType"] for o in overrides if o.get("InstanceType")), ""
        )
        groups_ = list(data.get("SecurityGroupIds", []))
        for interface in data.get("NetworkInterfaces", []):
            groups_.extend(interface.get("Groups", []))
        subnets = [s.strip() for s in (group.get("VPCZoneIdentifier") or "").split(",") if s.strip()]
        plan = _plan(ec2, autoscaling, name, version["LaunchTemplateId"], version)
        if previous is not None and plan.pop("completed", False):
            # an interrupted run got as far as a successful refresh: finish it (release the lock), rebake nothing
            plan = {"phase": "done", "sourceVersion": str(version["VersionNumber"])}
        plan.pop("completed", None)
        if plan["phase"] == "build" and plan["sourceVersion"] != str(version["VersionNumber"]):
            version = _template_version(
                ec2, {"LaunchTemplateId": version["LaunchTemplateId"], "Version": plan["sourceVersion"]}
            )
            data = version.get("LaunchTemplateData", {})
        if not data.get("ImageId"):
            failures.append(f"{name}: launch template version {version['VersionNumber']} has no ImageId")
            continue
        if not subnets:
            failures.append(f"{name}: the group has no VPC subnets to launch a builder in")
            continue
        source = str(plan["sourceVersion"])
        found.append(
            {
                "name": name,
                "templateId": version["LaunchTemplateId"],
                "sourceVersion": source,
                "rebakeKey": f"{version['LaunchTemplateId']}:{source}",
                "sourceImage": _resolve_image(data["ImageId"]),
                "instanceType": instance_type,
                "securityGroups": sorted(set(groups_)),
                "subnets": subnets,
                "patchGroup": tags.get(PATCH_GROUP_TAG, DEFAULT),
                # the later steps get the contract's key from here (only this step carries the contract's code)
                "patchGroupTag": PATCH_GROUP_TAG,
                # the team's alarms (tag contract): the refresh's AlarmSpecification
                "alarms": alarm_names(tags.get(ALARMS_TAG)),
                "mixed": _mixed_policy(mixed) if mixed else {},
                # AWS refuses AutoRollback for $Latest/$Default groups and SSM-parameter images
                "canRollBack": str((_template_spec(group) or {}).get("Version")) not in ("$Latest", "$Default")
                and not str(data["ImageId"]).startswith("resolve:ssm:"),
                "orphansTerminated": orphans,
                **{k: v for k, v in plan.items() if k not in ("sourceVersion",)},
            }
        )
    return {"asgs": found, "count": len(found), "skipped": skipped, "failures": failures}


def _mixed_policy(policy: Mapping[str, Any]) -> dict[str, Any]:
    """The group's mixed instances policy as a DesiredConfiguration takes it (overrides and distribution kept)."""
    template = dict(policy.get("LaunchTemplate") or {})
    out: dict[str, Any] = {"LaunchTemplate": {"Overrides": list(template.get("Overrides") or [])}}
    if policy.get("InstancesDistribution"):
        out["InstancesDistribution"] = dict(policy["InstancesDistribution"])
    return out


def launch_builders(events: Mapping[str, Any], context: Any) -> dict[str, Any]:
    """One builder per group still to ``build``, from the group's source AMI, with the patching instance profile."""
    ec2 = _client("ec2")
    execution = str(events.get("ExecutionId") or "manual")
    profile = str(events.get("InstanceProfileName") or "")
    override_type = str(events.get("InstanceType") or "")
    failures = _failures(events)
    builds: list[dict[str, Any]] = []
    for asg in events.get("Asgs") or []:
        if asg.get("phase") != "build":
            builds.append(asg)
            continue
        instance_type = override_type or asg.get("instanceType") or ""
        if not instance_type:
            failures.append(f"{asg['name']}: no instance type in its launch template; set InstanceType")
            continue
        tags = [
            {"Key": "Name", "Value": f"org-patching-builder-{asg['name']}"[:255]},
            {"Key": BUILDER_TAG, "Value": asg["name"]},
            {"Key": EXECUTION_TAG, "Value": execution},
            {"Key": REBAKE_KEY_TAG, "Value": asg["rebakeKey"]},
            {"Key": asg["patchGroupTag"], "Value": asg["patchGroup"]},
        ]
        kwargs: dict[str, Any] = {
            "ImageId": asg["sourceImage"],
            "InstanceType": instance_type,
            "MinCount": 1,
            "MaxCount": 1,
            "MetadataOptions": {"HttpTokens": "required"},
            "TagSpecifications": [{"ResourceType": "instance", "Tags": tags}, {"ResourceType": "volume", "Tags": tags}],
        }
        if profile:
            kwargs["IamInstanceProfile"] = {"Name": profile}
        if asg.get("securityGroups"):
            kwargs["SecurityGroupIds"] = asg["securityGroups"]
        last_error: Exception | None = None
        for subnet in asg["subnets"]:
            try:
                instance = ec2.run_instances(SubnetId=subnet, **kwargs)["Instances"][0]
            except ClientError as error:
                last_error = error
                if _code(error) in CAPACITY_ERRORS:
                    continue
                break
            builds.append({**asg, "builder": instance["InstanceId"], "subnet": subnet})
            last_error = None
            break
        if last_error is not None:
            failures.append(f"{asg['name']}: cannot launch a builder: {last_error}")
    return {"builds": builds, "deadline": int(time.time()) + BUILDER_DEADLINE_SECONDS, "failures": failures}


def _online(ssm: Any, ids: list[str]) -> set[str]:
    online: set[str] = set()
    for start in range(0, len(ids), 50):
        page = ssm.describe_instance_information(
            InstanceInformationFilterList=[{"key": "InstanceIds", "valueSet": ids[start : start + 50]}]
        )
        online.update(i["InstanceId"] for i in page["InstanceInformationList"] if i.get("PingStatus") == "Online")
    return online


def poll_builders(events: Mapping[str, Any], context: Any) -> dict[str, Any]:
    """One look: are the builders' SSM agents Online (seed bug 6: runCommand ran before the agent registered)?
    ``waiting`` until all are or the deadline passed; then the ones still offline are failures."""
    builds = list(events.get("Builds") or [])
    ids = [b["builder"] for b in builds if b.get("builder")]
    online = _online(_client("ssm"), ids) if ids else set()
    late = [b for b in builds if b.get("builder") and b["builder"] not in online]
    if late and time.time() < float(events.get("Deadline") or 0):
        return {
            "state": "waiting",
            "builds": builds,
            "instanceIds": [],
            "builderCount": 0,
            "failures": _failures(events),
        }
    failures = _failures(events) + [f"{b['name']}: builder {b['builder']} never came online in SSM" for b in late]
    ready = [b for b in builds if b not in late]
    ready_ids = [b["builder"] for b in ready if b.get("builder")]
    return {
        "state": "done",
        "builds": ready,
        "instanceIds": ready_ids,
        "builderCount": len(ready_ids),
        "failures": failures,
    }


def create_images(events: Mapping[str, Any], context: Any) -> dict[str, Any]:
    """A tagged AMI of each patched builder (CreateImage reboots it for a consistent file system; no wait here)."""
    ec2 = _client("ec2")
    execution = str(events.get("ExecutionId") or "manual")
    failures = _failures(events)
    images: list[dict[str, Any]] = []
    for build in events.get("Builds") or []:
        if build.get("phase") != "build":
            images.append(build)
            continue
        existing = [
            i for i in _rebake_images(ec2, build["name"], build["rebakeKey"]) if i["State"] in ("pending", "available")
        ]
        if existing:  # re-entrant: this execution already asked for it
            images.append({**build, "image": existing[0]["ImageId"]})
            continue
        name = f"org-patching-{build['name']}-{build['rebakeKey'].replace(':', '-v')}-{execution[:8]}"[:128]
        tags = [
            {"Key": "Name", "Value": name},
            {"Key": ASG_TAG, "Value": build["name"]},
            {"Key": SOURCE_AMI_TAG, "Value": build["sourceImage"]},
            {"Key": REBAKE_KEY_TAG, "Value": build["rebakeKey"]},
            {"Key": EXECUTION_TAG, "Value": execution},
            {"Key": build["patchGroupTag"], "Value": build["patchGroup"]},
        ]
        try:
            image = ec2.create_image(
                InstanceId=build["builder"],
                Name=name,
                Description=f"org-patching: {build['sourceImage']} patched for Auto Scaling group {build['name']}",
                TagSpecifications=[{"ResourceType": "image", "Tags": tags}, {"ResourceType": "snapshot", "Tags": tags}],
            )
        except ClientError as error:
            failures.append(f"{build['name']}: create_image failed: {error}")
            continue
        images.append({**build, "phase": "image", "image": image["ImageId"]})
    return {"images": images, "deadline": int(time.time()) + IMAGE_DEADLINE_SECONDS, "failures": failures}


def poll_images(events: Mapping[str, Any], context: Any) -> dict[str, Any]:
    """One look at the new AMIs: ``waiting`` while any is pending (until the deadline); a failed or late AMI is
    deregistered (nothing is left that no version uses) and its group fails."""
    ec2 = _client("ec2")
    items = list(events.get("Images") or [])
    ids = sorted({i["image"] for i in items if i.get("phase") == "image"})
    states = {i["ImageId"]: i["State"] for i in ec2.describe_images(ImageIds=ids)["Images"]} if ids else {}
    pending = [i for i in items if i.get("phase") == "image" and states.get(i["image"]) == "pending"]
    if pending and time.time() < float(events.get("Deadline") or 0):
        return {"state": "waiting", "images": items, "failures": _failures(events)}
    failures = _failures(events)
    ready: list[dict[str, Any]] = []
    for item in items:
        if item.get("phase") != "image" or states.get(item["image"]) == "available":
            ready.append(item)
            continue
        state = states.get(item["image"], "missing")
        if state != "missing":
            ec2.deregister_image(ImageId=item["image"])
        failures.append(f"{item['name']}: AMI {item['image']} ended {state}; deregistered")
    return {"state": "done", "images": ready, "failures": failures}


def update_launch_templates(events: Mapping[str, Any], context: Any) -> dict[str, Any]:
    """A new template version: ``SourceVersion`` + only the new ``ImageId`` (nothing copied back from a describe).
    The group does not move here: the refresh's DesiredConfiguration moves it."""
    ec2 = _client("ec2")
    failures = _failures(events)
    updated: list[dict[str, Any]] = []
    for item in events.get("Images") or []:
        if item.get("phase") != "image":
            updated.append(item)
            continue
        try:
            ours = [v for v in _all_versions(ec2, item["templateId"]) if _marker_source(v) == item["sourceVersion"]]
            if ours:  # re-entrant: this execution already made it
                number = str(max(v["VersionNumber"] for v in ours))
            else:
                created = ec2.create_launch_template_version(
                    LaunchTemplateId=item["templateId"],
                    SourceVersion=item["sourceVersion"],
                    VersionDescription=f"{VERSION_MARKER}{item['sourceVersion']}->{item['image']}"[:255],
                    LaunchTemplateData={"ImageId": item["image"]},
                )["LaunchTemplateVersion"]
                number = str(created["VersionNumber"])
        except ClientError as error:
            failures.append(f"{item['name']}: launch template update failed: {error}")
            continue
        updated.append({**item, "phase": "refresh", "newVersion": number})
    return {"updated": updated, "failures": failures}


def _desired_configuration(item: Mapping[str, Any]) -> dict[str, Any]:
    spec = {"LaunchTemplateId": item["templateId"], "Version": item["newVersion"]}
    if item.get("mixed"):
        policy = json.loads(json.dumps(item["mixed"]))
        policy["LaunchTemplate"]["LaunchTemplateSpecification"] = spec
        return {"MixedInstancesPolicy": policy}
    return {"LaunchTemplate": spec}


def start_instance_refreshes(events: Mapping[str, Any], context: Any) -> dict[str, Any]:
    """A rolling refresh per group to the new version (DesiredConfiguration), with MinHealthyPercentage, warm-up and
    AutoRollback: on success Auto Scaling moves the group to the version, on failure it rolls back."""
    autoscaling = _client("autoscaling")
    failures = _failures(events)
    rollback = str(events.get("AutoRollback", True)).lower() == "true"
    preferences: dict[str, Any] = {
        "MinHealthyPercentage": int(events.get("MinHealthyPercentage") or 90),
        "SkipMatching": False,
    }
    if events.get("InstanceWarmup") not in (None, ""):
        preferences["InstanceWarmup"] = int(events["InstanceWarmup"])
    refreshes: list[dict[str, Any]] = []
    for item in events.get("Updated") or []:
        if item.get("phase") in ("wait", "done"):
            refreshes.append(item)
            continue
        group_preferences = {**preferences, "AutoRollback": rollback and bool(item.get("canRollBack"))}
        alarms = item.get("alarms")
        if alarms:
            # The team's alarms (the group's patch_alarms tag): one in ALARM fails the refresh,
            # and AutoRollback rolls the group back (botocore autoscaling, RefreshPreferences.AlarmSpecification and
            # .AutoRollback: "if the instance refresh fails or a CloudWatch alarm threshold is met").
            group_preferences["AlarmSpecification"] = {"Alarms": list(alarms)}
        try:
            refresh_id = autoscaling.start_instance_refresh(
                AutoScalingGroupName=item["name"],
                Strategy="Rolling",
                DesiredConfiguration=_desired_configuration(item),
                Preferences=group_preferences,
            )["InstanceRefreshId"]
        except ClientError as error:
            failures.append(f"{item['name']}: instance refresh not started: {error}")
            continue
        refreshes.append({**item, "phase": "wait", "refreshId": refresh_id})
    return {"refreshes": refreshes, "deadline": int(time.time()) + REFRESH_DEADLINE_SECONDS, "failures": failures}


def poll_refreshes(events: Mapping[str, Any], context: Any) -> dict[str, Any]:
    """One look at the refreshes: ``waiting`` while any is active (until the deadline). A refresh that failed,
    was cancelled or rolled back fails its group, and its version is deleted (``$Latest`` is the source again)."""
    autoscaling, ec2 = _client("autoscaling"), _client("ec2")
    items = [i for i in events.get("Refreshes") or [] if i.get("phase") == "wait"]
    states: dict[str, dict[str, Any]] = {}
    for item in items:
        found = autoscaling.describe_instance_refreshes(
            AutoScalingGroupName=item["name"], InstanceRefreshIds=[item["refreshId"]]
        )["InstanceRefreshes"]
        states[item["name"]] = dict(found[0]) if found else {"Status": "Unknown"}
    active = [i for i in items if states[i["name"]]["Status"] in ACTIVE_REFRESH]
    if active and time.time() < float(events.get("Deadline") or 0):
        return {"state": "waiting", "states": {}, "stillRunning": [], "failures": _failures(events)}
    failures = _failures(events)
    for item in items:
        status, reason = states[item["name"]]["Status"], states[item["name"]].get("StatusReason", "")
        if status == "Successful" or status in ACTIVE_REFRESH:
            continue
        failures.append(f"{item['name']}: instance refresh {item['refreshId']} ended {status} {reason}".strip())
        try:
            ec2.delete_launch_template_versions(LaunchTemplateId=item["templateId"], Versions=[item["newVersion"]])
        except ClientError as error:
            failures.append(f"{item['name']}: version {item['newVersion']} not deleted: {error}")
    still = sorted(i["name"] for i in active)
    failures.extend(f"{name}: instance refresh still running at the deadline" for name in still)
    return {
        "state": "done",
        "states": {name: s["Status"] for name, s in states.items()},
        "stillRunning": still,
        "failures": failures,
    }


def terminate_builders(events: Mapping[str, Any], context: Any) -> dict[str, Any]:
    """Terminate every builder of this execution, found by its execution-id tag (works on every path).

    ``FailAfterCleanup`` true (the failure path): also deregister this execution's AMIs that no version uses,
    release its locks, and raise, so the execution ends Failed.
    """
    ec2 = _client("ec2")
    execution = str(events.get("ExecutionId") or "manual")
    ids: list[str] = []
    for page in ec2.get_paginator("describe_instances").paginate(
        Filters=[
            {"Name": f"tag:{EXECUTION_TAG}", "Values": [execution]},
            {"Name": "tag-key", "Values": [BUILDER_TAG]},
            {"Name": "instance-state-name", "Values": ["pending", "running", "stopping", "stopped"]},
        ]
    ):
        for reservation in page.get("Reservations", []):
            ids.extend(i["InstanceId"] for i in reservation.get("Instances", []))
    if ids:
        ec2.terminate_instances(InstanceIds=sorted(ids))
    if str(events.get("FailAfterCleanup", False)).lower() == "true":
        images = ec2.describe_images(Owners=["self"], Filters=[{"Name": f"tag:{EXECUTION_TAG}", "Values": [execution]}])
        for image in images["Images"]:
            template = _tags(image.get("Tags")).get(REBAKE_KEY_TAG, "").split(":", 1)[0]
            used = template and any(
                str(v.get("VersionDescription") or "").endswith("->" + image["ImageId"])
                for v in _all_versions(ec2, template)
            )
            if not used:  # a version that uses it is resumed by the next run (its refresh is started then)
                ec2.deregister_image(ImageId=image["ImageId"])
        groups = [str(a.get("name")) for a in events.get("Asgs") or [] if a]
        release_locks(_client("ssm"), groups, execution)
        raise RuntimeError(f"a step failed; builders of execution {execution} terminated: {sorted(ids)}")
    return {"terminated": sorted(ids)}


def release_and_report(events: Mapping[str, Any], context: Any) -> dict[str, Any]:
    """Last step of a rebake: release this execution's locks, then :func:`report_outcome`."""
    groups = [str(a.get("name")) for a in events.get("Asgs") or [] if a]
    if groups:
        release_locks(_client("ssm"), groups, str(events.get("ExecutionId") or "manual"))
    return report_outcome(events, context)


def report_outcome(events: Mapping[str, Any], context: Any) -> dict[str, Any]:
    """The execution fails when any group failed, after every other group was handled."""
    failures = _failures(events)
    if failures:
        raise RuntimeError(f"{len(failures)} Auto Scaling group(s) not rebaked: " + "; ".join(failures))
    return {"status": "Success"}
