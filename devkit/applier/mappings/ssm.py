"""SSM: documents, patch baselines (and the default registration), maintenance windows and
their tasks, associations and resource data sync."""

from __future__ import annotations

from typing import Any

import boto3

from ..registry import Created, Target, mapping, missing_is_none


def _targets(items: Any) -> list[dict[str, Any]]:
    return [{"Key": t["key"], "Values": list(t["values"])} for t in items or []]


def _read_document(session: boto3.session.Session, name: str, _: dict[str, Any]) -> Any:
    return missing_is_none(lambda: session.client("ssm").describe_document(Name=name)["Document"], "InvalidDocument")


@mapping("aws:ssm/document:Document", _read_document)
def document(target: Target) -> Created:
    i = target.inputs
    name = target.autoname()
    request: dict[str, Any] = {
        "Name": name,
        "Content": str(i["content"]),
        "DocumentType": i["documentType"],
        "DocumentFormat": i.get("documentFormat") or "JSON",
    }
    for source, dest in (("targetType", "TargetType"), ("versionName", "VersionName")):
        if i.get(source):
            request[dest] = i[source]
    if target.tags:
        request["Tags"] = target.tag_list()
    ssm = target.client("ssm")
    described = ssm.create_document(**request)["DocumentDescription"]
    # ``permissions`` is a plain map in pulumi-aws's schema (keys ``type`` and ``account_ids``, as the
    # Terraform provider names them), so its keys reach the engine unchanged.
    permissions = i.get("permissions") or {}
    if permissions.get("type") == "Share" and permissions.get("account_ids"):
        ids = [a for a in str(permissions["account_ids"]).split(",") if a]
        for start in range(0, len(ids), 20):  # AccountIdsToAdd: at most 20 per call (botocore's model)
            ssm.modify_document_permission(Name=name, PermissionType="Share", AccountIdsToAdd=ids[start : start + 20])
    return Created(
        name,
        {
            "name": name,
            "arn": f"arn:aws:ssm:{target.region}:{target.account}:document/{name}",
            "defaultVersion": described.get("DefaultVersion", "1"),
            "latestVersion": described.get("LatestVersion", "1"),
            "documentVersion": described.get("DocumentVersion", "1"),
            "hash": described.get("Hash", ""),
            "status": described.get("Status", "Active"),
        },
    )


def _read_baseline(session: boto3.session.Session, baseline_id: str, _: dict[str, Any]) -> Any:
    return missing_is_none(lambda: session.client("ssm").get_patch_baseline(BaselineId=baseline_id))


@mapping("aws:ssm/patchBaseline:PatchBaseline", _read_baseline)
def patch_baseline(target: Target) -> Created:
    i = target.inputs
    name = target.autoname()
    request: dict[str, Any] = {"Name": name, "OperatingSystem": i.get("operatingSystem") or "WINDOWS"}
    if i.get("description"):
        request["Description"] = i["description"]
    if i.get("approvedPatchesComplianceLevel"):
        request["ApprovedPatchesComplianceLevel"] = i["approvedPatchesComplianceLevel"]
    for source, dest in (("approvedPatches", "ApprovedPatches"), ("rejectedPatches", "RejectedPatches")):
        if i.get(source):
            request[dest] = list(i[source])
    rules = []
    for rule in i.get("approvalRules") or []:
        rendered: dict[str, Any] = {
            "PatchFilterGroup": {
                "PatchFilters": [{"Key": f["key"], "Values": list(f["values"])} for f in rule.get("patchFilters") or []]
            }
        }
        if rule.get("approveAfterDays") is not None:
            rendered["ApproveAfterDays"] = int(rule["approveAfterDays"])
        if rule.get("approveUntilDate"):
            rendered["ApproveUntilDate"] = rule["approveUntilDate"]
        if rule.get("complianceLevel"):
            rendered["ComplianceLevel"] = rule["complianceLevel"]
        if rule.get("enableNonSecurity") is not None:
            rendered["EnableNonSecurity"] = bool(rule["enableNonSecurity"])
        rules.append(rendered)
    if rules:
        request["ApprovalRules"] = {"PatchRules": rules}
    if target.tags:
        request["Tags"] = target.tag_list()
    baseline_id = target.client("ssm").create_patch_baseline(**request)["BaselineId"]
    return Created(
        baseline_id,
        {"name": name, "arn": f"arn:aws:ssm:{target.region}:{target.account}:patchbaseline/{baseline_id}"},
    )


def _read_default_baseline(session: boto3.session.Session, baseline_id: str, outputs: dict[str, Any]) -> Any:
    client = session.client("ssm")
    found = client.get_default_patch_baseline(OperatingSystem=str(outputs["operatingSystem"]))
    return found if found.get("BaselineId") == baseline_id else None


@mapping("aws:ssm/defaultPatchBaseline:DefaultPatchBaseline", _read_default_baseline)
def default_patch_baseline(target: Target) -> Created:
    baseline_id = str(target.inputs["baselineId"])
    target.client("ssm").register_default_patch_baseline(BaselineId=baseline_id)
    return Created(baseline_id)


def _read_service_setting(session: boto3.session.Session, setting_id: str, _: dict[str, Any]) -> Any:
    found = session.client("ssm").get_service_setting(SettingId=setting_id)["ServiceSetting"]
    return found if found.get("Status") == "Customized" else None


@mapping("aws:ssm/serviceSetting:ServiceSetting", _read_service_setting)
def service_setting(target: Target) -> Created:
    setting_id = str(target.inputs["settingId"])
    target.client("ssm").update_service_setting(SettingId=setting_id, SettingValue=str(target.inputs["settingValue"]))
    return Created(setting_id, {"arn": setting_id, "status": "Customized"})


def _read_window(session: boto3.session.Session, window_id: str, _: dict[str, Any]) -> Any:
    return missing_is_none(lambda: session.client("ssm").get_maintenance_window(WindowId=window_id))


@mapping("aws:ssm/maintenanceWindow:MaintenanceWindow", _read_window)
def maintenance_window(target: Target) -> Created:
    i = target.inputs
    name = target.autoname()
    request: dict[str, Any] = {
        "Name": name,
        "Schedule": i["schedule"],
        "Duration": int(i["duration"]),
        "Cutoff": int(i["cutoff"]),
        "AllowUnassociatedTargets": bool(i.get("allowUnassociatedTargets", False)),
    }
    for source, dest in (
        ("description", "Description"),
        ("scheduleTimezone", "ScheduleTimezone"),
        ("startDate", "StartDate"),
        ("endDate", "EndDate"),
    ):
        if i.get(source):
            request[dest] = i[source]
    if i.get("scheduleOffset") is not None:
        request["ScheduleOffset"] = int(i["scheduleOffset"])
    if target.tags:
        request["Tags"] = target.tag_list()
    window_id = target.client("ssm").create_maintenance_window(**request)["WindowId"]
    return Created(window_id, {"name": name, "enabled": True})


def _read_task(session: boto3.session.Session, task_id: str, outputs: dict[str, Any]) -> Any:
    client = session.client("ssm")
    window_id = str(outputs["windowId"])
    return missing_is_none(lambda: client.get_maintenance_window_task(WindowId=window_id, WindowTaskId=task_id))


def _invocation(params: dict[str, Any]) -> dict[str, Any]:
    rendered: dict[str, Any] = {}
    automation = params.get("automationParameters")
    if automation:
        rendered["Automation"] = {
            "Parameters": {p["name"]: list(p["values"]) for p in automation.get("parameters") or []},
        }
        if automation.get("documentVersion"):
            rendered["Automation"]["DocumentVersion"] = automation["documentVersion"]
    run_command = params.get("runCommandParameters")
    if run_command:
        command: dict[str, Any] = {
            "Parameters": {p["name"]: list(p["values"]) for p in run_command.get("parameters") or []},
        }
        for source, dest in (
            ("outputS3Bucket", "OutputS3BucketName"),
            ("outputS3KeyPrefix", "OutputS3KeyPrefix"),
            ("serviceRoleArn", "ServiceRoleArn"),
            ("comment", "Comment"),
            ("documentVersion", "DocumentVersion"),
        ):
            if run_command.get(source):
                command[dest] = run_command[source]
        if run_command.get("timeoutSeconds"):
            command["TimeoutSeconds"] = int(run_command["timeoutSeconds"])
        rendered["RunCommand"] = command
    return rendered


@mapping("aws:ssm/maintenanceWindowTask:MaintenanceWindowTask", _read_task)
def maintenance_window_task(target: Target) -> Created:
    i = target.inputs
    request: dict[str, Any] = {
        "WindowId": str(i["windowId"]),
        "TaskArn": str(i["taskArn"]),
        "TaskType": i["taskType"],
    }
    for source, dest in (
        ("name", "Name"),
        ("description", "Description"),
        ("serviceRoleArn", "ServiceRoleArn"),
        ("cutoffBehavior", "CutoffBehavior"),
        ("maxConcurrency", "MaxConcurrency"),
        ("maxErrors", "MaxErrors"),
    ):
        if i.get(source):
            request[dest] = i[source]
    if i.get("priority") is not None:
        request["Priority"] = int(i["priority"])
    if i.get("targets"):
        request["Targets"] = _targets(i["targets"])
    if i.get("taskInvocationParameters"):
        request["TaskInvocationParameters"] = _invocation(i["taskInvocationParameters"])
    task_id = target.client("ssm").register_task_with_maintenance_window(**request)["WindowTaskId"]
    return Created(
        task_id,
        {
            "windowTaskId": task_id,
            "arn": f"arn:aws:ssm:{target.region}:{target.account}:windowtask/{task_id}",
        },
    )


def _read_association(session: boto3.session.Session, association_id: str, _: dict[str, Any]) -> Any:
    client = session.client("ssm")
    return missing_is_none(
        lambda: client.describe_association(AssociationId=association_id)["AssociationDescription"],
        "AssociationDoesNotExist",
    )


@mapping("aws:ssm/association:Association", _read_association)
def association(target: Target) -> Created:
    i = target.inputs
    request: dict[str, Any] = {"Name": str(i["name"])}
    for source, dest in (
        ("associationName", "AssociationName"),
        ("scheduleExpression", "ScheduleExpression"),
        ("documentVersion", "DocumentVersion"),
        ("complianceSeverity", "ComplianceSeverity"),
        ("maxConcurrency", "MaxConcurrency"),
        ("maxErrors", "MaxErrors"),
    ):
        if i.get(source):
            request[dest] = i[source]
    if i.get("targets"):
        request["Targets"] = _targets(i["targets"])
    if i.get("parameters"):
        # pulumi-aws sends each parameter as a one-element list.
        request["Parameters"] = {k: [str(v)] for k, v in i["parameters"].items()}
    location = i.get("outputLocation")
    if location:
        s3_location = {"OutputS3BucketName": location["s3BucketName"]}
        if location.get("s3KeyPrefix"):
            s3_location["OutputS3KeyPrefix"] = location["s3KeyPrefix"]
        if location.get("s3Region"):
            s3_location["OutputS3Region"] = location["s3Region"]
        request["OutputLocation"] = {"S3Location": s3_location}
    if target.tags:
        request["Tags"] = target.tag_list()
    created = target.client("ssm").create_association(**request)["AssociationDescription"]
    association_id = created["AssociationId"]
    return Created(
        association_id,
        {
            "associationId": association_id,
            "arn": f"arn:aws:ssm:{target.region}:{target.account}:association/{association_id}",
        },
    )


def _read_sync(session: boto3.session.Session, name: str, _: dict[str, Any]) -> Any:
    syncs = session.client("ssm").list_resource_data_sync()["ResourceDataSyncItems"]
    return next((s for s in syncs if s["SyncName"] == name), None)


@mapping("aws:ssm/resourceDataSync:ResourceDataSync", _read_sync)
def resource_data_sync(target: Target) -> Created:
    name = target.autoname()
    destination = target.inputs["s3Destination"]
    rendered = {"BucketName": destination["bucketName"], "Region": destination["region"]}
    rendered["SyncFormat"] = destination.get("syncFormat") or "JsonSerDe"
    if destination.get("prefix"):
        rendered["Prefix"] = destination["prefix"]
    if destination.get("kmsKeyArn"):
        rendered["AWSKMSKeyARN"] = destination["kmsKeyArn"]
    target.client("ssm").create_resource_data_sync(SyncName=name, S3Destination=rendered)
    return Created(name, {"name": name})
