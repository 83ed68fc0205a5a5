"""A maintenance window firing, on the emulator: what SSM does at the window's start.

Everything comes from what is registered in the emulator, as deployed by the applier or by an
app team's product: the window (by name), its tasks in priority order (``DescribeMaintenanceWindowTasks``),
each task's invocation parameters (``GetMaintenanceWindowTask``) and its runbook (``GetDocument``; a task
naming another account's runbook by ARN reads that account's copy in the same Region, which must be shared
with the window's account). SSM's StartAutomationExecution as the task's service role is judged by the IAM replay.
Each ``AUTOMATION`` task starts its runbook with exactly the registered parameters — the
concurrency, the error limit, the output bucket and prefix — on the runbook interpreter, whose
``aws:runCommand`` steps go through :class:`devkit.run_command.RunCommandAgent` (SSM's targeting of
managed instances, the agent's upload). A task whose automation fails is reported with its reason.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from devkit.applier import moto_gaps
from devkit.emulator import Emulator
from devkit.iam_replay.recorder import note_call
from devkit.moto_extensions.ssm.models.automation import unshared_document
from devkit.run_command import RunCommandAgent
from devkit.runbook_interpreter import run_runbook


class WindowNotFound(LookupError):
    """No window of that name in the account-region."""


@dataclass
class TaskRun:
    task: str
    document: str
    parameters: dict[str, Any]
    status: str
    error: str
    executed: list[str]
    values: dict[str, Any]


@dataclass
class WindowRun:
    account: str
    region: str
    window: str
    window_id: str
    targets: list[dict[str, Any]] = field(default_factory=list)
    tasks: list[TaskRun] = field(default_factory=list)

    @property
    def failures(self) -> list[str]:
        where = f"{self.account}/{self.region}/{self.window}"
        return [f"{where} task {t.task} ({t.document}): {t.error}" for t in self.tasks if t.status != "Success"]


def window_id(ssm: Any, name: str) -> str:
    for page in ssm.get_paginator("describe_maintenance_windows").paginate(Filters=[{"Key": "Name", "Values": [name]}]):
        for identity in page["WindowIdentities"]:
            if identity["Name"] == name:
                return str(identity["WindowId"])
    raise WindowNotFound(f"no maintenance window {name!r}")


def registered_tasks(ssm: Any, window: str) -> list[dict[str, Any]]:
    """The window's tasks (with their invocation parameters), in priority order (lower first)."""
    tasks: list[dict[str, Any]] = []
    for page in ssm.get_paginator("describe_maintenance_window_tasks").paginate(WindowId=window):
        tasks += page["Tasks"]
    tasks.sort(key=lambda t: (t.get("Priority", 0), t.get("Name", "")))
    return [ssm.get_maintenance_window_task(WindowId=window, WindowTaskId=t["WindowTaskId"]) for t in tasks]


class UnsharedRunbook(LookupError):
    """The task names another account's runbook that is not shared with this account, or not in this Region."""


def _listed(parameters: dict[str, Any]) -> dict[str, Any]:
    return {"Parameters": {k: list(v) for k, v in parameters.items()}} if parameters else {}


def _runbook_content(emu: Emulator, ssm: Any, account: str, region: str, document: str, version: str) -> str:
    """The runbook a task names: by name in this account, or by ARN another account's copy in THIS Region, which
    it must share with this account (SSM API Reference, StartAutomationExecution ``DocumentName``: "to run a shared
    document belonging to another account, specify the document ARN"; documents are regional)."""
    owner_ssm, name = ssm, document
    if document.startswith("arn:"):
        parts = document.split(":", 5)
        owner, where, name = parts[4], parts[3], parts[5].removeprefix("document/")
        if where != region:
            raise UnsharedRunbook(f"{document}: a document in {where} cannot run in {region}")
        refusal = unshared_document(owner, region, name, account)
        if refusal is not None:
            raise UnsharedRunbook(refusal)
        owner_ssm = emu.session(owner, region).client("ssm")
    # moto answers only numbered versions and $LATEST; without a version GetDocument returns the default one.
    request = {"Name": name} if version == "$DEFAULT" else {"Name": name, "DocumentVersion": version}
    return str(owner_ssm.get_document(**request)["Content"])


def run_window(emu: Emulator, agent: RunCommandAgent, account: str, region: str, name: str) -> WindowRun:
    """Fire the window ``name`` in ``account``/``region``: every registered task, in priority order."""
    moto_gaps.install()  # GetMaintenanceWindowTask, which moto lacks
    ssm = emu.session(account, region).client("ssm")
    identifier = window_id(ssm, name)
    run = WindowRun(account, region, name, identifier)
    for page in ssm.get_paginator("describe_maintenance_window_targets").paginate(WindowId=identifier):
        run.targets += page["Targets"]
    for task in registered_tasks(ssm, identifier):
        document = str(task["TaskArn"])
        if task["TaskType"] != "AUTOMATION":
            run.tasks.append(TaskRun(task.get("Name", ""), document, {}, "Failed", "only AUTOMATION tasks run", [], {}))
            continue
        automation = task.get("TaskInvocationParameters", {}).get("Automation", {})
        parameters = {k: v[0] if len(v) == 1 else v for k, v in automation.get("Parameters", {}).items()}
        version = automation.get("DocumentVersion", "$DEFAULT")
        if task.get("ServiceRoleArn"):
            # SSM starts the runbook as the task's service role (it passes the AutomationAssumeRole to SSM)
            note_call(
                str(task["ServiceRoleArn"]),
                region,
                "ssm",
                "StartAutomationExecution",
                {"DocumentName": document, "DocumentVersion": version, **_listed(automation.get("Parameters", {}))},
            )
        try:
            content = _runbook_content(emu, ssm, account, region, document, version)
        except UnsharedRunbook as refused:
            run.tasks.append(TaskRun(str(task.get("Name", "")), document, parameters, "Failed", str(refused), [], {}))
            continue
        executed = run_runbook(
            content,
            parameters,
            account,
            region,
            as_account=emu.as_account,
            run_command=agent.runner(account, region),
            execution_id=str(uuid.uuid4()),
        )
        run.tasks.append(
            TaskRun(
                str(task.get("Name", task["WindowTaskId"])),
                document,
                parameters,
                str(executed["status"]),
                str(executed["error"]),
                list(executed["executed"]),
                dict(executed["values"]),
            )
        )
    return run
