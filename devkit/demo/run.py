"""A full patch cycle for a simulated organization, on the local AWS emulator.

Each step calls the code that runs in AWS — the Lambda handlers, the runbook scripts, the
state machine definition, the report queries — against moto with several accounts.
"""

from __future__ import annotations

import shutil
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from components import naming
from devkit.applier.summary import count_in_emulator
from devkit.demo.events import step_patch_events
from devkit.demo.fault_run import fault_run
from devkit.demo.freeze import step_change_freeze
from devkit.demo.inspector import step_inspector
from devkit.demo.narrative import Narrator
from devkit.demo.notices import step_pre_patch_notice
from devkit.demo.unmanaged_lake import step_unmanaged_lake
from devkit.demo.world import Configure, Scenario, World, build_fleet, build_organization, deploy_stacks
from devkit.emulator import Emulator, load_lambda
from devkit.faults import FaultSpec, invoke_async
from devkit.iam_replay.recorder import recording
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
    inspector: dict[str, Any] = field(default_factory=dict)  # devkit/demo/inspector.py step_inspector
    notices: Any = None  # devkit/demo/notices.py NoticesResult
    freeze: dict[str, Any] = field(default_factory=dict)  # devkit/demo/freeze.py
    unmanaged_lake: dict[str, Any] = field(default_factory=dict)  # devkit/demo/unmanaged_lake.py
    #: The IAM replay's findings over every step (devkit/iam_replay): denied or unmapped calls.
    iam_problems: list[str] = field(default_factory=list)
    iam_calls: int = 0
    #: ``--faults``: the invariants the run checked after them (devkit/demo/fault_checks.py FaultReport).
    faults: Any = None
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


def sweep(
    emu: Emulator, world: World
) -> tuple[dict[str, dict[str, str]], dict[str, str], dict[str, str], list[Any], int]:
    """Run the tag-remediation Lambda's scheduled sweep in every account and region: (tagged,
    skipped with reasons, notes, errors, resources already right)."""
    handler = load_lambda("tag_remediation").handler
    tagged: dict[str, dict[str, str]] = {}
    skipped: dict[str, str] = {}
    notes: dict[str, str] = {}
    errors: list[Any] = []
    unchanged = 0
    for account, region in world.locations:
        with emu.as_account(account, region):
            result = invoke_async(
                handler,
                scheduled_event(account, region),
                lambda_context(naming.TAG_REMEDIATION_FUNCTION, account, region),
                account,
                region,
            )
        tagged.update(result["tagged"])
        skipped.update(result["skipped"])
        notes.update(result.get("notes", {}))
        errors += result["errors"]
        unchanged += result["unchanged"]
    return tagged, skipped, notes, errors, unchanged


def step_tag_sweep(emu: Emulator, world: World, say: Narrator, result: DemoResult) -> None:
    tagged, skipped, notes, errors, unchanged = sweep(emu, world)
    kinds = Counter(world.kinds.get(i, "asg" if i.startswith("asg/") else "?") for i in tagged)
    say.fact(f"tagged {len(tagged)} resources in {len(world.locations)} account-regions: {dict(sorted(kinds.items()))}")
    exempt = {i: r for i, r in skipped.items() if r.startswith("exempt:")}
    reasons = Counter(reason.split(":")[0] for reason in skipped.values())
    say.fact(
        f"skipped {len(skipped)} ({len(exempt)} exempt): {dict(sorted(reasons.items()))}; {unchanged} already right"
    )
    example = next((n for n in notes.values() if "Production" in n), None)
    if example:
        say.fact(f"fell back to Default with a reason, e.g. {example}")
    for error in errors:
        say.fact(f"FAILED {error}")
    second = sweep(emu, world)[0]
    say.fact(f"second sweep wrote {len(second)} tags (a correct tag is never rewritten)")
    result.sweep = {
        "tagged": len(tagged),
        "skipped": len(skipped) - len(exempt),
        "exempt": len(exempt),
        "unchanged": unchanged,
        "errors": len(errors),
        "kinds": dict(kinds),
    }
    result.second_sweep_writes = len(second)


#: The patch the demo makes fail in one account-region, so the report has something to show.
FAILING_PATCH = "openssl.x86_64"


def failing_patches(world: World) -> dict[str, tuple[str, ...]]:
    """Where the demo's injected install failure happens: the first Dev instance of the last
    account-region (:func:`failing_instance`)."""
    return {failing_instance(world): (FAILING_PATCH,)}


def failing_instance(world: World) -> str:
    """The instance whose ``openssl`` update fails (every instance's catalog has openssl)."""
    last = world.locations[-1]
    # The highest id: SSM sends in target order, so no other instance waits behind the failure.
    return max(i for i, kind in world.kinds.items() if kind == "dev" and world.placement[i] == last)


def step_maintenance_window(emu: Emulator, world: World, say: Narrator, result: DemoResult) -> None:
    """Every window registered in every account-region fires: its registered tasks start their
    runbooks with the registered parameters; SSM's targeting picks the managed instances."""
    from devkit.maintenance_windows import run_window
    from devkit.run_command import RunCommandAgent

    agent = RunCommandAgent(emu, failing_patches(world))
    runs = []
    for account, region in world.locations:
        ssm = emu.session(account, region).client("ssm")
        for window in sorted(w["Name"] for w in ssm.describe_maintenance_windows()["WindowIdentities"]):
            runs.append(run_window(emu, agent, account, region, window))
    invocations = [i for c in agent.commands for i in c.invocations if i.instance_id in world.kinds]
    builders = [i for c in agent.commands for i in c.invocations if i.instance_id not in world.kinds]
    patched = sorted(i.instance_id for i in invocations if i.status == "Success")
    failed = sorted(i.instance_id for i in invocations if i.status != "Success")
    tasks = [t for r in runs for t in r.tasks]
    say.fact(
        f"{len(runs)} windows fired {len(tasks)} registered tasks: {len(agent.commands)} AWS-RunPatchBaseline "
        f"commands, {len(patched)} fleet instances patched, {len(failed)} failed, "
        f"{len(builders)} AMI builder instances patched by the ASG rebake"
    )
    rebaked = sorted({a["name"] for t in tasks for a in t.values.get("findAsgs.OutputPayload", {}).get("asgs", [])})
    if world.asg:
        ec2 = emu.session(world.asg["account"], world.asg["region"]).client("ec2")
        versions = ec2.describe_launch_template_versions(LaunchTemplateId=world.asg["template"])[
            "LaunchTemplateVersions"
        ]
        newest = max(versions, key=lambda v: v["VersionNumber"])
        say.fact(
            f"ASG runbook rebaked {', '.join(rebaked) or 'nothing'}: launch template version "
            f"{newest['VersionNumber']} uses {newest['LaunchTemplateData']['ImageId']}, instance refresh started"
        )
    s3 = emu.session(world.hub_account, world.home_region).client("s3")
    outputs = [
        o["Key"]
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=world.patch_log_bucket)
        for o in page.get("Contents", [])
    ]
    say.fact(
        f"{len(outputs)} command outputs written by the agents to s3://{world.patch_log_bucket}/<account>/patching/"
    )
    unlogged = [c for c in agent.commands if not c.output_bucket]
    for command in unlogged:
        say.fact(
            f"no output bucket registered: command {command.command_id} in {command.account}/{command.region} "
            f"({len(command.invocations)} instance(s)) keeps no output"
        )
    for command in agent.commands:
        if command.status != "Success":
            say.fact(f"FAILED in {command.account}/{command.region}: {command.reason}")
        for refused in command.not_written:
            say.fact(f"output NOT written in {command.account}/{command.region}: {refused}")
    failures = [f for r in runs for f in r.failures]
    for failure in failures:
        say.fact(f"FAILED {failure}")
    result.patch_run = {
        "windows": len(runs),
        "tasks": len(tasks),
        "commands": len(agent.commands),
        "patched": len(patched),
        "failed": len(failed),
        "failed_instances": failed,
        "builders": len(builders),
        "rebaked": rebaked,
        "outputs": len(outputs),
        "output_keys": outputs,
        "unlogged": sum(len(c.invocations) for c in unlogged),
        "not_written": [n for c in agent.commands for n in c.not_written],
        "failures": failures,
    }


def step_data_sync(emu: Emulator, world: World, say: Narrator) -> int:
    """Every spoke's resource data sync (deployed by the child stack) writes its inventory and
    compliance into the hub bucket."""
    from components import naming
    from devkit.moto_extensions.ssm.models.data_sync import run_resource_data_sync

    written = 0
    for account, region in world.locations:
        written += len(run_resource_data_sync(account, region, naming.RESOURCE_DATA_SYNC))
    prefix = world.compliance["inventoryPrefix"]
    say.fact(f"{written} objects written to s3://{world.inventory_bucket}/{prefix}/ (the resource data sync layout)")
    return written


def step_report(emu: Emulator, world: World, say: Narrator, out_dir: Path, result: DemoResult) -> None:
    """``patchctl report --source``: the named Athena queries on DuckDB over a copy of the bucket."""
    from patchctl.report.build import build_report
    from patchctl.report.duck import DuckDBSource
    from patchctl.report.queries import report_queries

    copy = out_dir / "bucket"
    shutil.rmtree(copy, ignore_errors=True)  # a previous run's copy would be counted too
    s3 = emu.session(world.hub_account, world.home_region).client("s3")
    # the sync's prefix and the sweeps' unmanaged findings, as `aws s3 sync s3://<bucket> DIR` copies them
    for prefix in (world.compliance["inventoryPrefix"], naming.UNMANAGED_PREFIX):
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=world.inventory_bucket, Prefix=f"{prefix}/"):
            for item in page.get("Contents", []):
                target = copy / item["Key"]
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(s3.get_object(Bucket=world.inventory_bucket, Key=item["Key"])["Body"].read())
    from devkit.demo.report_inputs import list_accounts
    from patchctl.report.accounts import parse_account_names
    from patchctl.report.lake_unmanaged import read_lake

    queries = report_queries()
    report_dir = out_dir / "report"
    source = DuckDBSource(copy, queries=queries)
    lake = read_lake(source)  # what patchctl report does with no --unmanaged
    say.fact(lake.describe())
    document = build_report(
        source,
        queries,
        report_dir,
        source=f"s3://{world.inventory_bucket}",
        account_names=parse_account_names(list_accounts(emu, world), "organizations list-accounts"),
        unmanaged=lake.instances,
    )
    summary = document["summary"]
    say.fact(
        f"{len(queries)} named queries: {summary['responsible']} instances we are responsible for, "
        f"{summary['compliant']} compliant, {summary['non_compliant']} non-compliant, {summary['unreported']} never "
        f"scanned, {summary['unmanaged']} unmanaged; apart: {summary['exempt']} exempt, "
        f"{summary['managed_node']} managed nodes"
    )
    say.fact(f"report: {report_dir / 'index.html'} (+ report.json and one CSV per query)")
    result.report = document
    result.report_dir = report_dir


#: The app team that launches the self-service product, and what it asks for.
CATALOG_PARAMETERS = {
    "Team": "payments",
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

    hub = world.central_config.central_account_id if world.central_config else None
    launched = launch_window_product(
        emu.session(account, region), account, region, CATALOG_PARAMETERS, invoke, hub_account=hub
    )
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
    tagged = sweep(emu, world)[0]
    say.fact(f"the next tag sweep agrees with it: {len(tagged)} writes")
    result.custom_window = {
        "name": launched["WindowName"],
        "status": response["Status"],
        "schedule": launched["Schedule"],
    }


def step_emergency(emu: Emulator, world: World, say: Narrator, result: DemoResult) -> None:
    """A zero-day: the central team rolls a patch out in two waves, Prod after approval."""
    from components import naming
    from components.runbooks import render_runbook
    from devkit.demo.operator import subscribe_operator
    from devkit.moto_extensions.ssm.models.automation import run_children_with
    from devkit.run_command import RunCommandAgent
    from devkit.runbook_interpreter import run_runbook

    runbooks = {name: render_runbook(name) for name in (naming.RUNBOOK_STANDALONE, naming.RUNBOOK_ASG)}
    hub = subscribe_operator(emu.session(world.hub_account, world.home_region), world.central_outputs["emergency"])
    agent = RunCommandAgent(emu, failing_patches(world))
    failed_children: list[str] = []

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
            run_command=agent.runner(account, region),
        )
        if run["status"] != "Success":
            failed_children.append(f"{account}/{region} {document}: {run['error']}")
            return str(run["error"])
        return None

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
    invocations = [i for c in agent.commands for i in c.invocations if i.instance_id in world.kinds]
    builders = sum(1 for c in agent.commands for i in c.invocations if i.instance_id not in world.kinds)
    patched = sum(1 for i in invocations if i.status == "Success")
    # Targets a command never reached: SSM stops sending once failures exceed MaxErrors (10 % of a
    # location's few instances rounds to 0), so which ones depends on the order it sends in.
    not_sent = sum(len([t for t in c.targets if t in world.kinds]) for c in agent.commands) - len(invocations)
    say.fact(
        f"{patched} fleet instances patched, {len(invocations) - patched} failed, {not_sent} not sent, "
        f"{builders} AMI builders patched, by {len(agent.commands)} commands across {len(world.locations)} "
        "account-regions"
    )
    for command in agent.commands:
        if command.status != "Success":
            say.fact(f"FAILED in {command.account}/{command.region}: {command.reason}")
    for failure in failed_children:
        say.fact(f"FAILED location {failure}")
    finished = hub.events()
    if finished:
        say.fact(f"EventBridge: {finished[0].get('detail-type')} ({finished[0].get('detail', {}).get('status', '')})")
    result.emergency = {
        "status": outcome["status"],
        "approvals": approvals,
        "patched": patched,
        "failed": len(invocations) - patched,
        "not_sent": not_sent,
        "builders": builders,
        "failed_locations": failed_children,
        "states": waves,
    }


@dataclass
class DemoContext:
    """What every step of the demo gets: the emulator, the organization, the narrator, the result."""

    emu: Emulator
    world: World
    say: Narrator
    result: DemoResult
    out_dir: Path


#: The demo's steps after the set-up, in order: (title, step). Another part of the dev kit adds
#: a step by inserting into this list.
STEPS: list[tuple[str, Callable[[DemoContext], Any]]] = [
    (
        "Tag remediation sweep (EventBridge schedule → Lambda), every account and region",
        lambda c: step_tag_sweep(c.emu, c.world, c.say, c.result),
    ),
    (
        "Instances SSM does not manage: the deployed sweep writes them into the hub's lake",
        lambda c: setattr(c.result, "unmanaged_lake", step_unmanaged_lake(c.emu, c.world, c.say)),
    ),
    (
        "An app team launches its own window from the Service Catalog product",
        lambda c: step_custom_window(c.emu, c.world, c.say, c.result),
    ),
    (
        "Pre-patch notice: the payments team hears what its Prod window will do, before it fires",
        lambda c: setattr(
            c.result,
            "notices",
            step_pre_patch_notice(c.emu, c.world, c.say, c.result.custom_window["name"], "payments"),
        ),
    ),
    (
        "A change freeze (the hub's change calendar) skips one window's install; its scan still runs",
        lambda c: setattr(c.result, "freeze", step_change_freeze(c.emu, c.world, c.say)),
    ),
    (
        "Maintenance windows fire: their registered tasks patch instances and rebake the ASG",
        lambda c: step_maintenance_window(c.emu, c.world, c.say, c.result),
    ),
    (
        "Patch events: the window run's events reach the hub's lake; a failed install, one alert",
        lambda c: setattr(c.result, "events", step_patch_events(c.emu, c.world, c.say)),
    ),
    (
        "Resource data sync: every account and region → the hub's inventory bucket",
        lambda c: step_data_sync(c.emu, c.world, c.say),
    ),
    (
        "Compliance report (patchctl report over the synced data)",
        lambda c: step_report(c.emu, c.world, c.say, c.out_dir, c.result),
    ),
    (
        "Emergency patching: Step Functions → SSM Automation across the organization, in waves",
        lambda c: step_emergency(c.emu, c.world, c.say, c.result),
    ),
    (
        "Inspector finding → an approved emergency wave for exactly the affected instance; patchctl emergency status",
        lambda c: setattr(c.result, "inspector", step_inspector(c.emu, c.world, c.say)),
    ),
]


def step_deploy(emu: Emulator, world: World, say: Narrator, scenario: Scenario, configure: Configure | None) -> None:
    """``pulumi up`` of both stacks through the applier, then the app teams' fleet."""
    deploy_stacks(emu, world, configure)
    assert world.central is not None and world.child is not None
    found, missing = count_in_emulator(emu, [world.central, world.child])
    if missing:
        raise RuntimeError(f"deployed but not found in the emulator: {', '.join(missing)}")
    say.fact(f"hub {world.hub_account} ({world.org_id}), children {', '.join(a.id for a in world.accounts)}")
    say.fact(
        f"central stack: {sum(n for (loc, _), n in found.items() if loc.startswith(world.hub_account))} resources; "
        f"child stack: {sum(n for (loc, _), n in found.items() if not loc.startswith(world.hub_account))} resources "
        "(each read back from the emulator)"
    )
    build_fleet(emu, world, scenario)
    say.fact(
        f"app teams launched {len(world.kinds)} instances in {len(world.locations)} account-regions, "
        "1 Auto Scaling group"
    )


def run_demo(
    scenario: Scenario,
    out_dir: Path,
    say: Narrator,
    configure: Configure | None = None,
    faults: FaultSpec | None = None,
) -> DemoResult:
    """The demo: deploy both stacks, launch the fleet, then every step of :data:`STEPS`.

    ``configure`` changes the demo's stack configs before the deploy (a rendered input AWS
    would refuse then fails the demo with the resource and the rule). ``faults``: the steps run
    under them (``devkit/demo/fault_run.py``), then the run checks its invariants."""
    with Emulator(extra_env={"POWERTOOLS_LOG_LEVEL": "WARNING", "POWERTOOLS_METRICS_DISABLED": "true"}) as emu:
        world = build_organization(emu, scenario)
        with say.step("The program's central and child stacks deployed by the applier; app teams launch a fleet"):
            step_deploy(emu, world, say, scenario, configure)
        context = DemoContext(emu, world, say, DemoResult(world), out_dir)
        # Every call the deployed roles make from here on is judged by their deployed policies.
        with recording() as replay, fault_run(context, faults):
            for title, step in STEPS:
                with say.step(title):
                    step(context)
        with say.step("IAM replay: every call the program's roles made, judged by their deployed policies"):
            say.fact(replay.summary())
            for problem in replay.problems():
                say.fact(f"DENIED {problem}" if " may not " in problem else problem)
        context.result.iam_problems = replay.problems()
        context.result.iam_calls = len(replay.calls)
    context.result.seconds = say.elapsed
    return context.result
