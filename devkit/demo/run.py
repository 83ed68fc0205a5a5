"""A full patch cycle for a simulated organization, on the local AWS emulator.

Each step calls the code that runs in AWS — the Lambda handlers, the runbook scripts, the
state machine definition, the report queries — against moto with several accounts.
"""

from __future__ import annotations

import shutil
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from components import naming
from components.config import MaintenanceWindowConfig
from devkit.demo.events import step_patch_events
from devkit.demo.narrative import Narrator
from devkit.demo.world import Scenario, World, build_fleet, build_organization, install_hub, install_spoke
from devkit.emulator import Emulator, load_lambda
from devkit.moto_extensions.awslambda.models import lambda_context


@dataclass
class DemoResult:
    world: World
    sweep: dict[str, Any] = field(default_factory=dict)
    second_sweep_writes: int = -1
    custom_window: dict[str, Any] = field(default_factory=dict)
    patch_run: dict[str, Any] = field(default_factory=dict)
    report: dict[str, Any] = field(default_factory=dict)
    emergency: dict[str, Any] = field(default_factory=dict)
    events: Any = None  # devkit/demo/events.py EventsResult
    report_dir: Path | None = None
    seconds: float = 0.0


def scheduled_event(account: str, region: str) -> dict[str, Any]:
    """The event an EventBridge schedule delivers to the tag-remediation Lambda."""
    return {
        "version": "0",
        "id": "demo-sweep",
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": account,
        "time": "2026-11-20T05:00:00Z",
        "region": region,
        "resources": [f"arn:aws:events:{region}:{account}:rule/org-patching-tag-sweep"],
        "detail": {},
    }


def sweep(emu: Emulator, world: World) -> tuple[dict[str, dict[str, str]], dict[str, str], dict[str, str], list[Any]]:
    """Run the tag-remediation Lambda's scheduled sweep in every account and region."""
    handler = load_lambda("tag_remediation").handler
    tagged: dict[str, dict[str, str]] = {}
    skipped: dict[str, str] = {}
    notes: dict[str, str] = {}
    errors: list[Any] = []
    for account, region in world.locations:
        with emu.as_account(account, region):
            result = handler(
                scheduled_event(account, region), lambda_context(naming.TAG_REMEDIATION_FUNCTION, account, region)
            )
        tagged.update(result["tagged"])
        skipped.update(result["skipped"])
        notes.update(result.get("notes", {}))
        errors += result["errors"]
    return tagged, skipped, notes, errors


def step_tag_sweep(emu: Emulator, world: World, say: Narrator, result: DemoResult) -> None:
    tagged, skipped, notes, errors = sweep(emu, world)
    kinds = Counter(world.kinds[i] for i in tagged if i in world.kinds)
    say.fact(f"tagged {len(tagged)} resources in {len(world.locations)} account-regions: {dict(sorted(kinds.items()))}")
    reasons = Counter(reason.split(":")[0] for reason in skipped.values())
    say.fact(f"skipped {len(skipped)}: {dict(sorted(reasons.items()))}")
    example = next((n for n in notes.values() if "Production" in n), None)
    if example:
        say.fact(f"fell back to Default with a reason, e.g. {example}")
    if errors:
        say.fact(f"errors: {errors}")
    second, _, _, _ = sweep(emu, world)
    say.fact(f"second sweep wrote {len(second)} tags (a correct tag is never rewritten)")
    result.sweep = {"tagged": len(tagged), "skipped": len(skipped), "errors": len(errors), "kinds": dict(kinds)}
    result.second_sweep_writes = len(second)


#: The patch the demo makes fail in one account-region, so the report has something to show.
FAILING_PATCH = "openssl.x86_64"


def command_runner(
    emu: Emulator, account: str, region: str, window_instances: list[str] | None = None, fail: tuple[str, ...] = ()
) -> Any:
    """``aws:runCommand`` of AWS-RunPatchBaseline on the emulator: moto's ``send_command``
    checks the request, then the moto extension records what the run reports per instance."""
    from devkit.moto_extensions.ssm.models import patch_runs

    def run(inputs: dict[str, Any]) -> dict[str, Any]:
        session = emu.session(account, region)
        ids = list(inputs.get("InstanceIds") or [])
        if not ids:
            (target,) = inputs["Targets"]
            reservations = session.client("ec2").describe_instances(
                Filters=[
                    {"Name": target["Key"], "Values": target["Values"]},
                    {"Name": "instance-state-name", "Values": ["running"]},
                ]
            )["Reservations"]
            ids = [i["InstanceId"] for r in reservations for i in r["Instances"]]
        if not ids:
            return {"CommandId": "", "Status": "Success"}
        parameters = {k: [v] for k, v in inputs["Parameters"].items() if v != ""}
        command = session.client("ssm").send_command(
            DocumentName=inputs["DocumentName"], InstanceIds=ids, Parameters=parameters
        )["Command"]
        patch_runs.simulate_patch_run(
            account,
            region,
            ids,
            inputs["Parameters"].get("Operation", "Scan"),
            reboot_option=inputs["Parameters"].get("RebootOption", "RebootIfNeeded"),
            fail=fail,
        )
        if window_instances is not None:
            window_instances.extend(ids)
        bucket, prefix = inputs.get("OutputS3BucketName"), inputs.get("OutputS3KeyPrefix")
        if bucket:
            s3 = session.client("s3")
            for instance_id in ids:
                key = f"{prefix}/{command['CommandId']}/{instance_id}/awsrunShellScript/PatchLinux/stdout"
                s3.put_object(Bucket=bucket, Key=key, Body=b"Patch operation completed\n")
        return {"CommandId": command["CommandId"], "Status": "Success"}

    return run


def step_maintenance_window(emu: Emulator, world: World, say: Narrator, result: DemoResult) -> None:
    """What the windows' tasks do when they fire: each window runs the spoke's two runbooks."""
    from components import naming
    from components.runbooks import render_runbook
    from devkit.runbook_interpreter import run_runbook

    standalone = render_runbook(naming.RUNBOOK_STANDALONE)
    asg = render_runbook(naming.RUNBOOK_ASG)
    patched: list[str] = []
    rebaked: list[str] = []
    failures: list[str] = []
    for account, region in world.locations:
        fail = (FAILING_PATCH,) if (account, region) == world.locations[-1] else ()
        ssm = emu.session(account, region).client("ssm")
        windows = sorted(w["Name"] for w in ssm.describe_maintenance_windows()["WindowIdentities"])
        for window in windows:
            run = run_runbook(
                standalone,
                {
                    "MaintenanceWindow": window,
                    "Operation": "Install",
                    "OutputS3BucketName": world.patch_log_bucket,
                    "OutputS3KeyPrefix": f"{account}/patching",
                },
                account,
                region,
                as_account=emu.as_account,
                run_command=command_runner(emu, account, region, patched, fail),
            )
            if run["status"] != "Success":
                failures.append(f"{account}/{region}/{window}: {run['error']}")
            rebake = run_runbook(
                asg,
                {"MaintenanceWindow": window, "MinHealthyPercentage": 90, "AutoRollback": True},
                account,
                region,
                as_account=emu.as_account,
                run_command=command_runner(emu, account, region),
            )
            if rebake["status"] != "Success":
                failures.append(f"{account}/{region}/{window} (ASG): {rebake['error']}")
            rebaked += [a["name"] for a in rebake["values"].get("findAsgs.OutputPayload", {}).get("asgs", [])]
    say.fact(f"standalone runbook patched {len(patched)} instances (AWS-RunPatchBaseline Install)")
    say.fact(f"in {world.locations[-1][0]}/{world.locations[-1][1]} the {FAILING_PATCH} update fails to install")
    if world.asg:
        ec2 = emu.session(world.asg["account"], world.asg["region"]).client("ec2")
        versions = ec2.describe_launch_template_versions(LaunchTemplateId=world.asg["template"])[
            "LaunchTemplateVersions"
        ]
        newest = max(versions, key=lambda v: v["VersionNumber"])
        say.fact(
            f"ASG runbook rebaked {', '.join(sorted(set(rebaked))) or 'nothing'}: launch template version "
            f"{newest['VersionNumber']} uses {newest['LaunchTemplateData']['ImageId']}, instance refresh started"
        )
    logs = emu.session(world.hub_account, world.home_region).client("s3").list_objects_v2(Bucket=world.patch_log_bucket)
    say.fact(
        f"{logs.get('KeyCount', 0)} command outputs in the hub's patch-log bucket, each under its account's prefix"
    )
    for failure in failures:
        say.fact(f"FAILED {failure}")
    result.patch_run = {"patched": len(patched), "rebaked": sorted(set(rebaked)), "failures": failures}


def step_data_sync(emu: Emulator, world: World, say: Narrator) -> int:
    """Every spoke's resource data sync writes its inventory and compliance into the hub bucket."""
    from components import naming
    from devkit.moto_extensions.ssm.models.data_sync import run_resource_data_sync

    written = 0
    for account, region in world.locations:
        ssm = emu.session(account, region).client("ssm")
        ssm.create_resource_data_sync(
            SyncName=naming.RESOURCE_DATA_SYNC,
            S3Destination={
                "BucketName": world.inventory_bucket,
                "Prefix": "inventory",
                "SyncFormat": "JsonSerDe",
                "Region": world.home_region,
            },
        )
        written += len(run_resource_data_sync(account, region, naming.RESOURCE_DATA_SYNC))
    say.fact(f"{written} objects written to s3://{world.inventory_bucket}/inventory/ (the resource data sync layout)")
    return written


def step_report(emu: Emulator, world: World, say: Narrator, out_dir: Path, result: DemoResult) -> None:
    """``patchctl report --source``: the named Athena queries on DuckDB over a copy of the bucket."""
    from patchctl.report.build import build_report
    from patchctl.report.duck import DuckDBSource
    from patchctl.report.queries import report_queries

    copy = out_dir / "bucket"
    shutil.rmtree(copy, ignore_errors=True)  # a previous run's copy would be counted too
    s3 = emu.session(world.hub_account, world.home_region).client("s3")
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=world.inventory_bucket, Prefix="inventory/"):
        for item in page.get("Contents", []):
            target = copy / item["Key"]
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(s3.get_object(Bucket=world.inventory_bucket, Key=item["Key"])["Body"].read())
    queries = report_queries()
    report_dir = out_dir / "report"
    document = build_report(
        DuckDBSource(copy, queries=queries), queries, report_dir, source=f"s3://{world.inventory_bucket}"
    )
    summary = document["summary"]
    say.fact(
        f"{len(queries)} named queries: {summary['instances']} instances, {summary['compliant']} compliant, "
        f"{summary['non_compliant']} non-compliant"
    )
    say.fact(f"report: {report_dir / 'index.html'} (+ report.json and one CSV per query)")
    result.report = document
    result.report_dir = report_dir


#: The app team that launches the self-service product, and what it asks for.
CATALOG_PARAMETERS = {
    "Environment": "Prod",
    "PatchingFrequency": "Weekly",
    "PatchingWindowWeekday": "Saturday",
    "PatchingWindowStartTime": "2",
    "PatchingWindowDuration": "3",
    "PatchingOperation": "Install",
    "OperationPostPatching": "RebootIfNeeded",
    "IncludeASG": "Yes",
    "RetainHealthyPercentage": "90",
}


def step_custom_window(emu: Emulator, world: World, say: Narrator, result: DemoResult) -> None:
    """An app team launches the "Patching maintenance window" product in its account."""
    from devkit.catalog_launch import launch_window_product

    account, region = world.asg["account"], world.asg["region"]
    handler = load_lambda("window_tagging").handler

    def invoke(event: dict[str, Any]) -> Any:
        with emu.as_account(account, region):
            return handler(event, lambda_context(naming.WINDOW_TAGGING_FUNCTION, account, region))

    launched = launch_window_product(emu.session(account, region), account, region, CATALOG_PARAMETERS, invoke)
    response = launched["CustomResource"]
    say.fact(f"team in {account}/{region} launched the product: {launched['WindowName']} at {launched['Schedule']}")
    say.fact(f"window tasks: {', '.join(launched['Tasks'])}")
    data = response.get("Data", {})
    moved = {
        k: v
        for k, v in data.items()
        if isinstance(v, int | str) and k.lower().startswith(("instances", "asgs", "moved", "tagged"))
    }
    say.fact(f"window-tagging custom resource answered CloudFormation {response['Status']}: {moved or data}")
    tagged, _, _, _ = sweep(emu, world)
    say.fact(f"the next tag sweep agrees with it: {len(tagged)} writes")
    result.custom_window = {
        "name": launched["WindowName"],
        "status": response["Status"],
        "schedule": launched["Schedule"],
    }


def step_emergency(emu: Emulator, world: World, say: Narrator, result: DemoResult) -> None:
    """A zero-day: the central team rolls a patch out in two waves, Prod after approval."""
    from components import naming
    from components.config import BootstrapConfig, CentralConfig
    from components.runbooks import render_runbook
    from devkit.demo.emergency import deploy_emergency_hub
    from devkit.moto_extensions.ssm.models.automation import run_children_with
    from devkit.runbook_interpreter import run_runbook

    cfg = CentralConfig(
        stack="central",
        org_id=world.org_id,
        central_account_id=world.hub_account,
        home_region=world.home_region,
        regions=list(world.regions),
        accounts=[a.id for a in world.accounts],
        bootstrap=BootstrapConfig(enabled=False),  # only the emergency hub is deployed here
    )
    runbooks = {name: render_runbook(name) for name in (naming.RUNBOOK_STANDALONE, naming.RUNBOOK_ASG)}
    hub = deploy_emergency_hub(emu.session(world.hub_account, world.home_region), cfg, runbooks)
    patched: list[str] = []

    def run_child(account: str, region: str, document: str, parameters: dict[str, list[str]]) -> str | None:
        """Each account x region of a wave runs the runbook for real (the hub's copy of it)."""
        values = {k: v[0] if isinstance(v, list) and len(v) == 1 else v for k, v in parameters.items()}
        values.pop("AutomationAssumeRole", None)
        run = run_runbook(
            runbooks[document],
            values,
            account,
            region,
            as_account=emu.as_account,
            run_command=command_runner(emu, account, region, patched),
        )
        return None if run["status"] == "Success" else run["error"]

    approvals: list[str] = []

    def approve(body: dict[str, Any]) -> None:
        approvals.append(body["wave"])
        say.fact(f"approval requested for wave {body['wave']} (SNS): the operator approves with the task token")
        hub.approve(body)

    request = {
        "patching_operation": "Install",
        "operation_post_patching": "RebootIfNeeded",
        "include_asg": "Yes",
        "retain_healthy_percentage": "90",
        "refresh_asg_instances": "Yes",
        "run_patch_baseline_install_override_list": "",
        "targets": {"accounts": [a.id for a in world.accounts], "regions": list(world.regions)},
        "waves": ["Dev", "Prod"],  # a wave is an environment (Patch Group), whatever window it is on
        "target_location_max_concurrency": "3",
        "target_location_max_errors": "1",
        "poll_seconds": 0,
    }
    with run_children_with(run_child):
        execution = hub.start(request)
        # Every child execution runs the real runbooks on the interpreter thread: allow for a slow machine.
        outcome = hub.finish(execution, approve, timeout_seconds=600)
    states = [e["stateEnteredEventDetails"]["name"] for e in hub.history(execution) if "stateEnteredEventDetails" in e]
    waves = [s for s in states if "Wave" in s or "Approval" in s]
    say.fact(f"state machine {outcome['status']}: {len(states)} states, waves Dev -> Prod, approvals {approvals}")
    say.fact(
        f"{len(patched)} instance patch runs across {len(world.locations)} account-regions, "
        "one automation per runbook per wave"
    )
    finished = hub.events()
    if finished:
        say.fact(f"EventBridge: {finished[0].get('detail-type')} ({finished[0].get('detail', {}).get('status', '')})")
    result.emergency = {"status": outcome["status"], "approvals": approvals, "patched": len(patched), "states": waves}


def run_demo(scenario: Scenario, out_dir: Path, say: Narrator) -> DemoResult:
    window = MaintenanceWindowConfig()
    with Emulator(extra_env={"POWERTOOLS_LOG_LEVEL": "WARNING", "POWERTOOLS_METRICS_DISABLED": "true"}) as emu:
        with say.step("An organization on the local AWS emulator"):
            world = build_organization(emu, scenario)
            install_hub(emu, world)
            for account, region in world.locations:
                install_spoke(emu, world, account, region, window)
            build_fleet(emu, world, scenario)
            say.fact(f"hub {world.hub_account} ({world.org_id}), children {', '.join(a.id for a in world.accounts)}")
            say.fact(f"{len(world.kinds)} instances in {len(world.locations)} account-regions, 1 Auto Scaling group")
            say.fact(f"each spoke: Default_maintenance_window ({window.schedule}), runbooks, instance profile")
        result = DemoResult(world)
        with say.step("Tag remediation sweep (EventBridge schedule → Lambda), every account and region"):
            step_tag_sweep(emu, world, say, result)
        with say.step("An app team launches its own window from the Service Catalog product"):
            step_custom_window(emu, world, say, result)
        with say.step("Maintenance windows fire: the spoke runbooks patch instances and rebake the ASG"):
            step_maintenance_window(emu, world, say, result)
        with say.step("Patch events: the window run's events reach the hub's lake; a failed install, one alert"):
            result.events = step_patch_events(emu, world, say)
        with say.step("Resource data sync: every account and region → the hub's inventory bucket"):
            step_data_sync(emu, world, say)
        with say.step("Compliance report (patchctl report over the synced data)"):
            step_report(emu, world, say, out_dir, result)
        with say.step("Emergency patching: Step Functions → SSM Automation across the organization, in waves"):
            step_emergency(emu, world, say, result)
    result.seconds = say.elapsed
    return result
