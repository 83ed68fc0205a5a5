"""The ``aws:executeScript`` steps of the ASG runbook (``patch_asgs.yaml``): rebake each group's AMI, then refresh.

One handler per step, ``handler(events, context)`` as SSM Automation calls it. ``render_runbook()`` inlines into each
script step the part of this file its handler needs, with the definitions of the tag contract it imports
(``from tag_contract import ...``: only where they are used), so the deployed document has no attachment, stays under
SSM's 64 KB document limit, and the tests run the exact text SSM runs.

Why it is built this way (what went wrong in the aws-samples solution this replaces; docs/migration.md):

* launch templates only: a new template version that changes ONLY the ``ImageId`` (the full data of the source
  version is copied, so nothing else is lost, on AWS and on moto alike), then an instance refresh with
  ``MinHealthyPercentage`` and ``AutoRollback``. Launch configurations are never created (seed bug 5: accounts
  created after 2024-10-01 cannot create them) and mixed instances policies are supported;
* the builder instance uses the group's own instance type (arm64/Nitro safe: no hard-coded ``m3.large``), the
  template's security groups, the patching instance profile, and one of the group's subnets (the next one is tried
  when a subnet has no capacity);
* every builder is tagged with the execution id, and ``terminate_builders`` finds them by that tag: it runs on the
  success path AND on the failure path (``onFailure: step:cleanupAfterFailure``), so no instance is leaked;
* exempt and managed groups (EKS node groups, ECS capacity) are skipped by the tag contract (seed bug 2 broke EKS);
* every describe pages; clients use botocore standard retries because ``aws:executeScript`` does not retry
  throttling itself; one group's failure is recorded and the others continue; ``report_outcome`` fails the
  execution at the end if any group failed.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError
from tag_contract import DEFAULT, MAINTENANCE_WINDOW_TAG, PATCH_GROUP_TAG, PATCH_GROUPS, skip_reason

RETRIES = Config(retries={"mode": "standard", "max_attempts": 10})  # type: ignore[typeddict-item]
#: Tag keys on builders and AMIs (operational markers, not part of the patching tag contract).
BUILDER_TAG = "org-patching:builder-for"
EXECUTION_TAG = "org-patching:execution-id"
SOURCE_AMI_TAG = "org-patching:source-ami"
ASG_TAG = "org-patching:asg"
#: Capacity errors after which the next subnet of the group is tried.
CAPACITY_ERRORS = ("InsufficientInstanceCapacity", "Unsupported", "InsufficientFreeAddressesInSubnet")
#: aws:executeScript steps may run up to 600 s; polling loops stop before that.
POLL_BUDGET_SECONDS = 540.0
POLL_INTERVAL_SECONDS = 15.0


def _client(service: str) -> Any:
    return boto3.client(service, config=RETRIES)


def _tags(items: list[Mapping[str, Any]] | None) -> dict[str, str]:
    return {t["Key"]: t.get("Value", "") for t in items or []}


def _failures(events: Mapping[str, Any]) -> list[str]:
    """Failures carried from earlier steps (a StringList; SSM passes an empty list as [] or [""])."""
    return [f for f in events.get("Failures") or [] if f]


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


def _resolve_image(image_id: str) -> str:
    """``resolve:ssm:/aws/service/...`` image ids are resolved through SSM, as EC2 does at launch."""
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


# --------------------------------------------------------------------------------------------------------------
# Steps
# --------------------------------------------------------------------------------------------------------------


def find_asgs(events: Mapping[str, Any], context: Any) -> dict[str, Any]:
    """The groups to rebake: ``TargetASG``, else those tagged ``Patch Group=<PatchGroup>`` when ``PatchGroup`` is set
    (an emergency wave means an environment, whatever window its groups are on), else those tagged
    ``maintenance_window=<MaintenanceWindow>`` (a window's task). Exempt, EKS and ECS groups are skipped.

    Returns ``{"asgs": [...], "count": n, "skipped": {...}, "failures": [...]}``; each ASG item carries what the
    next steps need (template, version, source AMI, subnets, instance type, security groups, patch group).
    """
    window = str(events.get("MaintenanceWindow") or "").strip()
    patch_group = str(events.get("PatchGroup") or "").strip()
    target = str(events.get("TargetASG") or "").strip()
    if not window and not patch_group and not target:
        raise ValueError("MaintenanceWindow, PatchGroup or TargetASG is required")
    if patch_group and patch_group not in PATCH_GROUPS:
        raise ValueError(f"PatchGroup: {patch_group!r} is not one of {', '.join(PATCH_GROUPS)}")
    # one selector, in this precedence: TargetASG, then PatchGroup, then MaintenanceWindow
    selector = (PATCH_GROUP_TAG, patch_group) if patch_group else (MAINTENANCE_WINDOW_TAG, window)
    autoscaling, ec2 = _client("autoscaling"), _client("ec2")
    found: list[dict[str, Any]] = []
    skipped: dict[str, str] = {}
    failures = _failures(events)
    for group in _groups(autoscaling, [target] if target else None, selector):
        name = group["AutoScalingGroupName"]
        tags = _tags(group.get("Tags"))
        if not target and tags.get(selector[0]) != selector[1]:
            continue
        reason = skip_reason(tags, "asg")
        if reason:
            skipped[name] = reason
            continue
        spec = _template_spec(group)
        if spec is None:
            skipped[name] = "launch configuration: not supported (migrate the group to a launch template)"
            continue
        try:
            version = _template_version(ec2, spec)
        except (ClientError, ValueError) as error:
            failures.append(f"{name}: cannot read launch template {spec}: {error}")
            continue
        data = version.get("LaunchTemplateData", {})
        overrides = group.get("MixedInstancesPolicy", {}).get("LaunchTemplate", {}).get("Overrides", [])
        instance_type = data.get("InstanceType") or next(
            (o["InstanceType"] for o in overrides if o.get("InstanceType")), ""
        )
        groups_ = list(data.get("SecurityGroupIds", []))
        for interface in data.get("NetworkInterfaces", []):
            groups_.extend(interface.get("Groups", []))
        subnets = [s.strip() for s in (group.get("VPCZoneIdentifier") or "").split(",") if s.strip()]
        if not data.get("ImageId"):
            failures.append(f"{name}: launch template version {version['VersionNumber']} has no ImageId")
            continue
        if not subnets:
            failures.append(f"{name}: the group has no VPC subnets to launch a builder in")
            continue
        found.append(
            {
                "name": name,
                "templateId": version["LaunchTemplateId"],
                "groupVersion": spec["Version"],
                "sourceVersion": str(version["VersionNumber"]),
                "sourceImage": _resolve_image(data["ImageId"]),
                "instanceType": instance_type,
                "securityGroups": sorted(set(groups_)),
                "subnets": subnets,
                "patchGroup": tags.get(PATCH_GROUP_TAG, DEFAULT),
                # the later steps get the contract's key from here (only this step carries the contract's code)
                "patchGroupTag": PATCH_GROUP_TAG,
                "mixed": "MixedInstancesPolicy" in group,
            }
        )
    if target and not found and target not in skipped and not failures:
        failures.append(f"{target}: no such Auto Scaling group")
    return {"asgs": found, "count": len(found), "skipped": skipped, "failures": failures}


def launch_builders(events: Mapping[str, Any], context: Any) -> dict[str, Any]:
    """One builder per group, from the group's source AMI, with the patching instance profile."""
    ec2 = _client("ec2")
    execution = str(events.get("ExecutionId") or "manual")
    profile = str(events.get("InstanceProfileName") or "")
    override_type = str(events.get("InstanceType") or "")
    failures = _failures(events)
    builds: list[dict[str, Any]] = []
    for asg in events.get("Asgs") or []:
        instance_type = override_type or asg.get("instanceType") or ""
        if not instance_type:
            failures.append(f"{asg['name']}: no instance type in its launch template; set InstanceType")
            continue
        kwargs: dict[str, Any] = {
            "ImageId": asg["sourceImage"],
            "InstanceType": instance_type,
            "MinCount": 1,
            "MaxCount": 1,
            "MetadataOptions": {"HttpTokens": "required"},
            "TagSpecifications": [
                {
                    "ResourceType": "instance",
                    "Tags": [
                        {"Key": "Name", "Value": f"org-patching-builder-{asg['name']}"[:255]},
                        {"Key": BUILDER_TAG, "Value": asg["name"]},
                        {"Key": EXECUTION_TAG, "Value": execution},
                        {"Key": asg["patchGroupTag"], "Value": asg["patchGroup"]},
                    ],
                }
            ],
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
                if error.response.get("Error", {}).get("Code") in CAPACITY_ERRORS:
                    continue
                break
            builds.append({**asg, "builder": instance["InstanceId"], "subnet": subnet})
            last_error = None
            break
        if last_error is not None:
            failures.append(f"{asg['name']}: cannot launch a builder: {last_error}")
    return {"builds": builds, "instanceIds": [b["builder"] for b in builds], "failures": failures}


def _managed(ssm: Any, ids: list[str]) -> set[str]:
    online: set[str] = set()
    for start in range(0, len(ids), 50):
        page = ssm.describe_instance_information(
            InstanceInformationFilterList=[{"key": "InstanceIds", "valueSet": ids[start : start + 50]}]
        )
        online.update(i["InstanceId"] for i in page["InstanceInformationList"] if i.get("PingStatus") == "Online")
    return online


def wait_for_builders(events: Mapping[str, Any], context: Any) -> dict[str, Any]:
    """Wait until every builder's SSM agent is Online (seed bug 6: runCommand ran before the agent registered)."""
    ssm = _client("ssm")
    builds = list(events.get("Builds") or [])
    ids = [b["builder"] for b in builds]
    deadline = time.monotonic() + float(events.get("PollBudgetSeconds") or POLL_BUDGET_SECONDS)
    online: set[str] = set()
    while ids:
        online = _managed(ssm, ids)
        if online >= set(ids) or time.monotonic() >= deadline:
            break
        time.sleep(POLL_INTERVAL_SECONDS)
    failures = _failures(events)
    ready = [b for b in builds if b["builder"] in online]
    failures.extend(f"{b['name']}: builder {b['builder']} never came online in SSM" for b in builds if b not in ready)
    return {"builds": ready, "instanceIds": [b["builder"] for b in ready], "failures": failures}


def create_images(events: Mapping[str, Any], context: Any) -> dict[str, Any]:
    """Stop each patched builder and create a tagged AMI from it; waits until the images are available."""
    ec2 = _client("ec2")
    execution = str(events.get("ExecutionId") or "manual")
    failures = _failures(events)
    builds = list(events.get("Builds") or [])
    if builds:
        ec2.stop_instances(InstanceIds=[b["builder"] for b in builds])
        ec2.get_waiter("instance_stopped").wait(
            InstanceIds=[b["builder"] for b in builds], WaiterConfig={"Delay": 15, "MaxAttempts": 30}
        )
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    images: list[dict[str, Any]] = []
    for build in builds:
        name = f"org-patching-{build['name']}-{stamp}-{execution[:8]}"[:128]
        tags = [
            {"Key": "Name", "Value": name},
            {"Key": ASG_TAG, "Value": build["name"]},
            {"Key": SOURCE_AMI_TAG, "Value": build["sourceImage"]},
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
        images.append({**build, "image": image["ImageId"]})
    if images:
        ec2.get_waiter("image_available").wait(
            ImageIds=[i["image"] for i in images], WaiterConfig={"Delay": 15, "MaxAttempts": 34}
        )
    return {"images": images, "failures": failures}


def _request_data(ec2: Any, data: Mapping[str, Any]) -> dict[str, Any]:
    """Keep only the keys CreateLaunchTemplateVersion accepts (the describe shape has a few more)."""
    allowed = set(ec2.meta.service_model.shape_for("RequestLaunchTemplateData").members)
    return {k: v for k, v in data.items() if k in allowed}


def update_launch_templates(events: Mapping[str, Any], context: Any) -> dict[str, Any]:
    """A new template version equal to the group's version except ``ImageId``; the group then uses it.

    ``$Latest`` groups pick it up by themselves, ``$Default`` groups get it as the template's default version,
    groups pinned to a number are updated to the new number (LaunchTemplate or MixedInstancesPolicy).
    """
    ec2, autoscaling = _client("ec2"), _client("autoscaling")
    failures = _failures(events)
    updated: list[dict[str, Any]] = []
    for item in events.get("Images") or []:
        try:
            source = _template_version(ec2, {"LaunchTemplateId": item["templateId"], "Version": item["sourceVersion"]})
            data = _request_data(ec2, source.get("LaunchTemplateData", {}))
            data["ImageId"] = item["image"]
            created = ec2.create_launch_template_version(
                LaunchTemplateId=item["templateId"],
                SourceVersion=item["sourceVersion"],
                VersionDescription=f"org-patching: {item['image']} (was {item['sourceImage']})"[:255],
                LaunchTemplateData=data,
            )["LaunchTemplateVersion"]
            number = str(created["VersionNumber"])
            if item["groupVersion"] == "$Default":
                ec2.modify_launch_template(LaunchTemplateId=item["templateId"], DefaultVersion=number)
            elif item["groupVersion"] != "$Latest":
                spec = {"LaunchTemplateId": item["templateId"], "Version": number}
                if item.get("mixed"):
                    autoscaling.update_auto_scaling_group(
                        AutoScalingGroupName=item["name"],
                        MixedInstancesPolicy={"LaunchTemplate": {"LaunchTemplateSpecification": spec}},
                    )
                else:
                    autoscaling.update_auto_scaling_group(AutoScalingGroupName=item["name"], LaunchTemplate=spec)
        except ClientError as error:
            failures.append(f"{item['name']}: launch template update failed: {error}")
            continue
        updated.append({**item, "newVersion": number})
    return {"updated": updated, "failures": failures}


def start_instance_refreshes(events: Mapping[str, Any], context: Any) -> dict[str, Any]:
    """Start a rolling instance refresh per group (MinHealthyPercentage, InstanceWarmup, AutoRollback)."""
    autoscaling = _client("autoscaling")
    failures = _failures(events)
    preferences: dict[str, Any] = {
        "MinHealthyPercentage": int(events.get("MinHealthyPercentage") or 90),
        "AutoRollback": str(events.get("AutoRollback", True)).lower() == "true",
        "SkipMatching": False,
    }
    if events.get("InstanceWarmup") not in (None, ""):
        preferences["InstanceWarmup"] = int(events["InstanceWarmup"])
    refreshes: list[dict[str, Any]] = []
    for item in events.get("Updated") or []:
        try:
            refresh_id = autoscaling.start_instance_refresh(
                AutoScalingGroupName=item["name"], Strategy="Rolling", Preferences=preferences
            )["InstanceRefreshId"]
        except ClientError as error:
            failures.append(f"{item['name']}: instance refresh not started: {error}")
            continue
        refreshes.append({"name": item["name"], "refreshId": refresh_id, "image": item["image"]})
    return {"refreshes": refreshes, "failures": failures}


def terminate_builders(events: Mapping[str, Any], context: Any) -> dict[str, Any]:
    """Terminate every builder of this execution, found by its execution-id tag (works on every path).

    ``FailAfterCleanup`` true (the failure path): raise after terminating, so the execution ends Failed.
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
        raise RuntimeError(f"a step failed; builders of execution {execution} terminated: {sorted(ids)}")
    return {"terminated": sorted(ids)}


def wait_for_refreshes(events: Mapping[str, Any], context: Any) -> dict[str, Any]:
    """Poll the refreshes (within the step's time budget): failed, cancelled or rolled back ones are failures."""
    autoscaling = _client("autoscaling")
    failures = _failures(events)
    pending = {r["name"]: r["refreshId"] for r in events.get("Refreshes") or []}
    states: dict[str, str] = {}
    deadline = time.monotonic() + float(events.get("PollBudgetSeconds") or POLL_BUDGET_SECONDS)
    while pending:
        for name, refresh_id in list(pending.items()):
            found = autoscaling.describe_instance_refreshes(AutoScalingGroupName=name, InstanceRefreshIds=[refresh_id])
            status = found["InstanceRefreshes"][0]["Status"] if found["InstanceRefreshes"] else "Unknown"
            states[name] = status
            if status == "Successful":
                del pending[name]
            elif status in ("Failed", "Cancelled", "RollbackSuccessful", "RollbackFailed", "Unknown"):
                reason = found["InstanceRefreshes"][0].get("StatusReason", "") if found["InstanceRefreshes"] else ""
                failures.append(f"{name}: instance refresh {refresh_id} ended {status} {reason}".strip())
                del pending[name]
        if not pending or time.monotonic() >= deadline:
            break
        time.sleep(POLL_INTERVAL_SECONDS)
    return {"states": states, "stillRunning": sorted(pending), "failures": failures}


def report_outcome(events: Mapping[str, Any], context: Any) -> dict[str, Any]:
    """Last step: the execution fails when any group failed, after every other group was handled."""
    failures = _failures(events)
    if failures:
        raise RuntimeError(f"{len(failures)} Auto Scaling group(s) not rebaked: " + "; ".join(failures))
    return {"status": "Success"}
