"""SSM Automation executions in one account+region (moto raises NotImplementedError for all of them).

``StartAutomationExecution`` (local and multi-account/multi-Region with ``TargetLocations``),
``GetAutomationExecution``, ``DescribeAutomationExecutions``, ``DescribeAutomationStepExecutions``
and ``StopAutomationExecution``. They run per request, so they work the same from boto3, from a
``ThreadedMotoServer`` and from moto's Step Functions interpreter (``aws-sdk:ssm:*`` tasks run
in-process through the same response class). What a request must satisfy is
:mod:`.automation_requests`'. The parts an emulator has to invent:

* **TargetLocations bookkeeping.** One child execution per account × Region. Children live in
  the target account and Region (visible there with ``ParentAutomationExecutionId``); the
  parent, in the caller's account, has one step per child.
* **Time.** Nothing runs in the background: every read that returns a parent
  (``GetAutomationExecution``, ``DescribeAutomationStepExecutions``, or
  ``DescribeAutomationExecutions`` when the filters select it) advances it by one batch per
  target location, the batch size being ``TargetLocationMaxConcurrency`` (a count, or a
  percentage of that location's targets, at least 1). So a poller sees ``InProgress`` before
  the terminal state, exactly as many times as rate control implies.
* **Errors.** A child fails only when a test asks for it (:func:`fail_locations`), or when the
  runner given to :func:`run_children_with` (e.g. the runbook interpreter) reports a failure.
  When the failed children of a target location exceed ``TargetLocationMaxErrors`` (a count,
  or a percentage; ``0`` = the first error stops it), no further child of that location is
  queued and the parent ends ``Failed``; within the threshold the parent ends ``Success`` with
  the failures visible in ``ProgressCounters`` and the step executions.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from moto.ssm.models import ssm_backends
from moto.utilities.paginator import paginate
from moto.utilities.utils import get_partition

from devkit.moto_extensions.core import attached
from devkit.moto_extensions.ssm.exceptions import AutomationError
from devkit.moto_extensions.ssm.models.automation_requests import (
    check_document_name,
    check_parameters,
    check_target_locations,
    document_parameters,
    expand_accounts,
    rate,
)
from devkit.moto_extensions.ssm.utils import PAGINATION_MODEL

TERMINAL = frozenset({"Success", "Failed", "TimedOut", "Cancelled", "CompletedWithSuccess", "CompletedWithFailure"})
_STEP_FILTERS = {
    "StepExecutionStatus": "StepStatus",
    "StepName": "StepName",
    "StepExecutionId": "StepExecutionId",
    "Action": "Action",
}

_LOCK = threading.RLock()
_FAILURES: list[tuple[str | None, str | None, str | None, str]] = []


@contextlib.contextmanager
def fail_locations(
    *locations: tuple[str | None, str | None],
    document: str | None = None,
    message: str = "Step fails when it is Executing. Fail message: injected by the test",
) -> Iterator[None]:
    """Test hook: child executions in these ``(account, region)`` pairs end ``Failed``.

    ``None`` in a pair is a wildcard (``(None, "eu-west-1")`` fails every account there);
    ``document`` limits it to one runbook. The hook is removed when the block exits.
    """
    added = [(account, region, document, message) for account, region in locations]
    with _LOCK:
        _FAILURES.extend(added)
    try:
        yield
    finally:
        with _LOCK:
            for item in added:
                _FAILURES.remove(item)


#: Runs one child execution for real (account, region, document name, parameters) and returns
#: a failure message or ``None``; unset, a child only records its outcome.
ChildRunner = Callable[[str, str, str, dict[str, list[str]]], "str | None"]
_CHILD_RUNNER: list[ChildRunner] = []


@contextlib.contextmanager
def run_children_with(runner: ChildRunner) -> Iterator[None]:
    """Execute every child execution (one per account x region) with ``runner``, e.g. the
    runbook interpreter, so a multi-account automation really acts in its target accounts."""
    with _LOCK:
        _CHILD_RUNNER.append(runner)
    try:
        yield
    finally:
        with _LOCK:
            _CHILD_RUNNER.remove(runner)


#: Fault hooks (``devkit/faults.py``): asked before each child runs; a message fails that child.
ChildFault = Callable[[str, str, str], "str | None"]
_CHILD_FAULTS: list[ChildFault] = []


@contextlib.contextmanager
def inject_child_faults(fault: ChildFault) -> Iterator[None]:
    """Ask ``fault(account, region, document)`` before every child execution runs; a message it
    returns fails that child (the runner is not called), as a failed step would."""
    with _LOCK:
        _CHILD_FAULTS.append(fault)
    try:
        yield
    finally:
        with _LOCK:
            _CHILD_FAULTS.remove(fault)


#: Scripted statuses (test hook, :func:`report_statuses`): (statuses before the run, end status).
_STATUS_SCRIPT: list[tuple[tuple[str, ...], str]] = []


@contextlib.contextmanager
def report_statuses(*before: str, end: str = "Success") -> Iterator[None]:
    """Test hook: multi-account executions started in the block first report ``before``, one
    status per read (e.g. ``Scheduled``, ``RunbookInProgress``: SSM's model has more non-terminal
    statuses than ``InProgress``), then run as usual and end ``end`` instead of ``Success``
    (e.g. ``CompletedWithSuccess``) when no location exceeded its error threshold."""
    script = (before, end)
    with _LOCK:
        _STATUS_SCRIPT.append(script)
    try:
        yield
    finally:
        with _LOCK:
            _STATUS_SCRIPT.remove(script)


def _failure_for(account: str, region: str, document: str) -> str | None:
    for want_account, want_region, want_document, message in _FAILURES:
        if want_account not in (None, account) or want_region not in (None, region):
            continue
        if want_document not in (None, document):
            continue
        return message
    return None


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass
class _Child:
    execution_id: str
    account: str
    region: str
    location_index: int
    status: str = "Pending"
    start: datetime | None = None
    end: datetime | None = None
    failure: str | None = None


@dataclass
class _Location:
    spec: dict[str, Any]
    children: list[_Child]
    concurrency: int
    max_errors: int
    next_index: int = 0
    stopped: bool = False

    @property
    def failed(self) -> int:
        return sum(1 for child in self.children if child.status == "Failed")

    @property
    def done(self) -> bool:
        return self.stopped or self.next_index >= len(self.children)


@dataclass
class _Execution:
    execution_id: str
    account: str
    region: str
    document: str
    document_version: str
    parameters: dict[str, list[str]]
    mode: str
    start: datetime
    executed_by: str
    status: str = "InProgress"
    end: datetime | None = None
    failure: str | None = None
    target_locations: list[dict[str, Any]] = field(default_factory=list)
    locations: list[_Location] = field(default_factory=list)
    parent_id: str | None = None
    tags: list[dict[str, str]] = field(default_factory=list)
    before: list[str] = field(default_factory=list)
    success_status: str = "Success"


# --------------------------------------------------------------------------- progress


def _advance(parent: _Execution) -> None:
    """One tick of rate control: each unfinished location runs its next batch to completion."""
    if parent.status in TERMINAL or not parent.locations:
        return
    if parent.before:
        parent.status = parent.before.pop(0)
        return
    parent.status = "InProgress"
    for location in parent.locations:
        if location.done:
            continue
        batch = location.children[location.next_index : location.next_index + location.concurrency]
        location.next_index += len(batch)
        for child in batch:
            _run_child(parent, child)
        if location.failed > location.max_errors:
            location.stopped = True
    if all(location.done for location in parent.locations):
        exceeded = [i for i, location in enumerate(parent.locations) if location.failed > location.max_errors]
        parent.end = _now()
        if exceeded:
            parent.status = "Failed"
            failed = sum(location.failed for location in parent.locations)
            parent.failure = (
                f"{failed} target location execution(s) failed; TargetLocationMaxErrors exceeded in "
                f"TargetLocations[{', '.join(map(str, exceeded))}], remaining locations were not started."
            )
        else:
            parent.status = parent.success_status


def unshared_document(owner: str, region: str, document: str, target: str) -> str | None:
    """Why a multi-account automation's document cannot run in ``target``, or ``None``.

    SSM runs the caller's document in every target location: a custom document must be shared with each
    target account (``ModifyDocumentPermission``) and must exist in the caller's Region (AWS Systems Manager
    User Guide, "Running automations in multiple AWS Regions and accounts": "the runbook must be shared with
    the target accounts"). AWS-owned documents (``AWS-*``) are public; the caller's own account needs no share.
    """
    if target == owner or document.startswith(("AWS-", "AWSSupport-", "AWSConfigRemediation-")):
        return None
    documents = ssm_backends[owner][region]._documents.get(document)
    if documents is None:
        return f"Document {document} does not exist in the caller's account {owner} in {region}."
    if "all" in documents.permissions or target in documents.permissions:
        return None
    return f"Document {document} of account {owner} is not shared with account {target} (ModifyDocumentPermission)."


def _run_child(parent: _Execution, child: _Child) -> None:
    child.start = _now()
    failure = unshared_document(parent.account, parent.region, parent.document, child.account)
    if failure is None:
        failure = _failure_for(child.account, child.region, parent.document)
    for fault in list(_CHILD_FAULTS) if failure is None else []:
        failure = failure or fault(child.account, child.region, parent.document)
    if failure is None and _CHILD_RUNNER:
        failure = _CHILD_RUNNER[-1](child.account, child.region, parent.document, dict(parent.parameters))
    child.status = "Failed" if failure else "Success"
    child.failure = failure
    child.end = _now()
    spec = parent.locations[child.location_index].spec
    record = _Execution(
        execution_id=child.execution_id,
        account=child.account,
        region=child.region,
        document=parent.document,
        document_version=parent.document_version,
        parameters=parent.parameters,
        mode=parent.mode,
        start=child.start,
        executed_by=(
            f"arn:{get_partition(child.region)}:sts::{child.account}:assumed-role/{spec['ExecutionRoleName']}/"
            f"{parent.execution_id}"
        ),
        status=child.status,
        end=child.end,
        failure=failure,
        parent_id=parent.execution_id,
    )
    automation_backend(child.account, child.region).executions[child.execution_id] = record


def _children(parent: _Execution) -> list[_Child]:
    return [child for location in parent.locations for child in location.children]


def _counters(parent: _Execution) -> dict[str, int]:
    children = _children(parent)
    if not children:
        return {
            "TotalSteps": 1,
            "SuccessSteps": int(parent.status == "Success"),
            "FailedSteps": int(parent.status == "Failed"),
            "CancelledSteps": int(parent.status == "Cancelled"),
            "TimedOutSteps": int(parent.status == "TimedOut"),
        }
    return {
        "TotalSteps": len(children),
        "SuccessSteps": sum(c.status == "Success" for c in children),
        "FailedSteps": sum(c.status == "Failed" for c in children),
        "CancelledSteps": sum(c.status == "Cancelled" for c in children),
        "TimedOutSteps": sum(c.status == "TimedOut" for c in children),
    }


def _steps(parent: _Execution) -> list[dict[str, Any]]:
    steps: list[dict[str, Any]] = []
    for child in _children(parent):
        if child.start is None and child.status != "Cancelled":
            continue  # never queued (rate control stopped first): AWS shows no step for it
        spec = parent.locations[child.location_index].spec
        step: dict[str, Any] = {
            "StepName": f"{child.account}-{child.region}",
            "Action": "aws:executeAutomation",
            "StepExecutionId": child.execution_id,
            "StepStatus": child.status,
            "Inputs": {"DocumentName": json.dumps(parent.document)},
            "Outputs": {"ExecutionId": [child.execution_id], "Status": [child.status]},
            "TargetLocation": {
                "Accounts": [child.account],
                "Regions": [child.region],
                "TargetLocationMaxConcurrency": spec["TargetLocationMaxConcurrency"],
                "TargetLocationMaxErrors": spec["TargetLocationMaxErrors"],
                "ExecutionRoleName": spec["ExecutionRoleName"],
            },
            "IsEnd": True,
        }
        if child.start:
            step["ExecutionStartTime"] = child.start
        if child.end:
            step["ExecutionEndTime"] = child.end
        if child.failure:
            step["FailureMessage"] = child.failure
        steps.append(step)
    return steps


def _describe(execution: _Execution, *, full: bool) -> dict[str, Any]:
    body: dict[str, Any] = {
        "AutomationExecutionId": execution.execution_id,
        "DocumentName": execution.document,
        "DocumentVersion": execution.document_version,
        "AutomationExecutionStatus": execution.status,
        "ExecutionStartTime": execution.start,
        "ExecutedBy": execution.executed_by,
        "Mode": execution.mode,
        "Outputs": {},
    }
    if execution.end:
        body["ExecutionEndTime"] = execution.end
    if execution.failure:
        body["FailureMessage"] = execution.failure
    if execution.parent_id:
        body["ParentAutomationExecutionId"] = execution.parent_id
    if execution.target_locations:
        body["TargetLocations"] = execution.target_locations
    if full:
        body["Parameters"] = execution.parameters
        body["ProgressCounters"] = _counters(execution)
        body["StepExecutions"] = _steps(execution)
        body["StepExecutionsTruncated"] = False
    else:
        body["AutomationType"] = "CrossAccount" if execution.target_locations else "Local"
    return body


class AutomationBackend:
    """The Automation executions of one account+region (parents started here, children run here)."""

    def __init__(self, account_id: str, region_name: str) -> None:
        self.account_id = account_id
        self.region_name = region_name
        self.executions: dict[str, _Execution] = {}

    def start_automation_execution(
        self,
        document_name: Any,
        document_version: str | None,
        parameters: dict[str, Any],
        target_locations: Any,
        mode: str | None,
        tags: list[dict[str, str]],
    ) -> str:
        """Validate, record the parent, plan one child per account × Region; returns the execution id."""
        account, region = self.account_id, self.region_name
        name = check_document_name(document_name)
        version, declared = document_parameters(account, region, name, document_version)
        checked = check_parameters(name, declared, parameters)
        specs = check_target_locations(target_locations)
        execution_id = str(uuid.uuid4())
        locations: list[_Location] = []
        for index, spec in enumerate(specs):
            regions = spec.get("Regions") or [region]
            pairs = list(itertools.product(expand_accounts(account, spec), regions))
            children = [_Child(str(uuid.uuid4()), a, r, index) for a, r in pairs]
            locations.append(
                _Location(
                    spec=spec,
                    children=children,
                    concurrency=max(1, rate(spec["TargetLocationMaxConcurrency"], len(children), minimum=1)),
                    max_errors=rate(spec["TargetLocationMaxErrors"], len(children), minimum=0),
                )
            )
        execution = _Execution(
            execution_id=execution_id,
            account=account,
            region=region,
            document=name,
            document_version=version,
            parameters=checked,
            mode=mode or "Auto",
            start=_now(),
            executed_by=f"arn:{get_partition(region)}:iam::{account}:root",
            target_locations=specs,
            locations=locations,
            tags=tags,
        )
        if specs and _STATUS_SCRIPT:
            execution.before, execution.success_status = list(_STATUS_SCRIPT[-1][0]), _STATUS_SCRIPT[-1][1]
        if not specs:
            # A local execution: the runbook's steps are not interpreted; it succeeds unless a test
            # asked this account/Region to fail.
            failure = _failure_for(account, region, name)
            execution.status = "Failed" if failure else "Success"
            execution.failure = failure
            execution.end = _now()
        with _LOCK:
            self.executions[execution_id] = execution
        return execution_id

    def get_automation_execution(self, execution_id: str) -> dict[str, Any]:
        with _LOCK:
            execution = self._find(execution_id)
            _advance(execution)
            return _describe(execution, full=True)

    @paginate(pagination_model=PAGINATION_MODEL)
    def describe_automation_executions(self, filters: list[dict[str, Any]]) -> list[dict[str, Any]]:
        with _LOCK:
            executions = list(self.executions.values())
            for item in filters:
                key, values = item.get("Key", ""), item.get("Values") or []
                executions = [e for e in executions if _matches(e, key, values)]
            for execution in executions:
                _advance(execution)
            executions.sort(key=lambda e: e.start, reverse=True)
            return [_describe(e, full=False) for e in executions]

    @paginate(pagination_model=PAGINATION_MODEL)
    def describe_automation_step_executions(
        self, execution_id: str, filters: list[dict[str, Any]], reverse_order: bool
    ) -> list[dict[str, Any]]:
        with _LOCK:
            execution = self._find(execution_id)
            _advance(execution)
            steps = _steps(execution)
        for item in filters:
            key, values = item.get("Key", ""), item.get("Values") or []
            field_name = _STEP_FILTERS.get(key)
            if field_name is None:
                raise AutomationError("InvalidFilterKey", f"The filter key {key} is not supported by this emulator.")
            steps = [s for s in steps if s.get(field_name) in values]
        if reverse_order:
            steps.reverse()
        return steps

    def stop_automation_execution(self, execution_id: str, stop_type: str | None) -> None:
        stop_type = stop_type or "Cancel"
        if stop_type not in ("Cancel", "Complete"):
            raise AutomationError("ValidationException", f"Type {stop_type!r} is not Cancel or Complete")
        with _LOCK:
            execution = self._find(execution_id)
            if execution.status in TERMINAL:
                raise AutomationError(
                    "InvalidAutomationStatusUpdateException",
                    f"The automation execution {execution.execution_id} is already {execution.status}.",
                )
            for location in execution.locations:
                for child in location.children[location.next_index :]:
                    child.status = "Cancelled"
                location.next_index = len(location.children)
            execution.status = "Success" if stop_type == "Complete" else "Cancelled"
            execution.end = _now()

    def _find(self, execution_id: str) -> _Execution:
        execution = self.executions.get(execution_id)
        if execution is None:
            raise AutomationError(
                "AutomationExecutionNotFoundException", f"There is no AutomationExecution with id: {execution_id}"
            )
        return execution


def automation_backend(account: str, region: str) -> AutomationBackend:
    """Executions live on moto's SSM backend, so ``mock_aws`` resets them with everything else."""
    return attached(ssm_backends[account][region], "automations", lambda: AutomationBackend(account, region))


def _matches(execution: _Execution, key: str, values: list[str]) -> bool:
    if key == "DocumentNamePrefix":
        return any(execution.document.startswith(v) for v in values)
    if key == "ExecutionStatus":
        return execution.status in values
    if key == "ExecutionId":
        return execution.execution_id in values
    if key == "ParentExecutionId":
        return execution.parent_id in values
    if key == "StartTimeBefore":
        return any(execution.start <= datetime.fromisoformat(v.replace("Z", "+00:00")) for v in values)
    if key == "StartTimeAfter":
        return any(execution.start >= datetime.fromisoformat(v.replace("Z", "+00:00")) for v in values)
    if key == "AutomationType":
        kind = "CrossAccount" if execution.target_locations else "Local"
        return kind in values
    if key == "TagKey":
        return any(tag.get("Key") in values for tag in execution.tags)
    raise AutomationError("InvalidFilterKey", f"The filter key {key} is not supported by this emulator.")


def executions_in(account: str, region: str) -> Iterable[dict[str, Any]]:
    """Test helper: every execution recorded in one account and Region (parents and children)."""
    with _LOCK:
        return [_describe(e, full=True) for e in automation_backend(account, region).executions.values()]
