"""SSM Automation executions for moto (which raises NotImplementedError for all of them).

Adds ``StartAutomationExecution`` (local and multi-account/multi-Region with
``TargetLocations``), ``GetAutomationExecution``, ``DescribeAutomationExecutions``,
``DescribeAutomationStepExecutions`` and ``StopAutomationExecution`` to
:class:`moto.ssm.responses.SimpleSystemManagerResponse`. The methods run per request, so they
work the same from boto3, from a ``ThreadedMotoServer`` and from moto's Step Functions
interpreter (``aws-sdk:ssm:*`` tasks run in-process through the same response class).

Behaviour taken from the SSM API reference, with the parts an emulator has to invent said here:

* **Validation like AWS.** The document must exist in the caller's account and Region (moto's
  SSM documents) and be an Automation document; names of AWS-owned runbooks (``AWS-``,
  ``AWSSupport-``, ``AWSEC2-``, ``AWSConfigRemediation-``) are accepted without a document.
  Parameters are checked against the document: unknown names, missing required parameters,
  several values for a ``String`` parameter, ``allowedValues`` and ``allowedPattern`` give
  ``InvalidAutomationExecutionParametersException``. ``TargetLocations`` members are checked
  against the botocore model's limits and patterns (Step Functions' SDK clients skip
  client-side validation, so the service has to do it) → ``ValidationException``.
* **TargetLocations bookkeeping.** One child execution per account × Region (OU ids are
  expanded through moto's Organizations data, direct children only unless
  ``IncludeChildOrganizationUnits``; ``ExcludeAccounts`` removes accounts). Children live in
  the target account and Region (visible there with ``ParentAutomationExecutionId``); the
  parent, in the caller's account, has one step per child.
* **Time.** Nothing runs in the background: every read that returns a parent
  (``GetAutomationExecution``, ``DescribeAutomationStepExecutions``, or
  ``DescribeAutomationExecutions`` when the filters select it) advances it by one batch per
  target location, the batch size being ``TargetLocationMaxConcurrency`` (a count, or a
  percentage of that location's targets, at least 1). So a poller sees ``InProgress`` before
  the terminal state, exactly as many times as rate control implies.
* **Errors.** A child fails only when a test asks for it (:func:`fail_locations`). When the
  failed children of a target location exceed ``TargetLocationMaxErrors`` (a count, or a
  percentage; ``0`` = the first error stops it), no further child of that location is
  queued and the parent ends ``Failed``; within the threshold the parent ends ``Success``
  with the failures visible in ``ProgressCounters`` and the step executions.
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import json
import math
import re
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import botocore.session
from moto.core.exceptions import ServiceException
from moto.core.responses import ActionResult
from moto.ssm.models import ssm_backends
from moto.ssm.responses import SimpleSystemManagerResponse
from moto.utilities.utils import get_partition

AWS_OWNED_PREFIXES = ("AWS-", "AWSSupport-", "AWSEC2-", "AWSConfigRemediation-")
TERMINAL = frozenset({"Success", "Failed", "TimedOut", "Cancelled", "CompletedWithSuccess", "CompletedWithFailure"})

_ACCOUNT = re.compile(r"^\d{12}$")
_OU = re.compile(r"^ou-[a-z0-9]{4,32}-[a-z0-9]{8,32}$")
_ROOT = re.compile(r"^r-[0-9a-z]{4,32}$")
_CONCURRENCY = re.compile(r"^([1-9][0-9]*|[1-9][0-9]%|[1-9]%|100%)$")
_ERRORS = re.compile(r"^([1-9][0-9]*|[0]|[1-9][0-9]%|[0-9]%|100%)$")
_ROLE_NAME = re.compile(r"^[\w+=,.@/-]{1,64}$")

_LOCK = threading.RLock()
_FAILURES: list[tuple[str | None, str | None, str | None, str]] = []


class _SsmError(ServiceException):
    """An SSM error with its AWS code (botocore turns it into the modelled exception)."""


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


def _store(account: str, region: str) -> dict[str, _Execution]:
    """Executions live on moto's SSM backend, so ``mock_aws`` resets them with everything else."""
    backend = ssm_backends[account][region]
    store: dict[str, _Execution] | None = getattr(backend, "_org_patching_automations", None)
    if store is None:
        store = {}
        backend._org_patching_automations = store  # type: ignore[attr-defined]
    return store


# --------------------------------------------------------------------------- validation


def _validation(message: str) -> _SsmError:
    return _SsmError("ValidationException", message)


@functools.cache
def _known_regions() -> frozenset[str]:
    session = botocore.session.get_session()
    regions: set[str] = set()
    for partition in session.get_available_partitions():
        regions.update(session.get_available_regions("ssm", partition_name=partition))
    return frozenset(regions)


def _rate(value: str, total: int, *, minimum: int) -> int:
    """A count, or a percentage of ``total`` (rounded down, at least ``minimum``)."""
    if value.endswith("%"):
        return max(minimum, math.floor(total * int(value[:-1]) / 100))
    return int(value)


def _document_parameters(
    account: str, region: str, name: str, version: str | None
) -> tuple[str, dict[str, Any] | None]:
    """The document's version and parameter declarations (``None`` = AWS-owned, unchecked)."""
    documents = ssm_backends[account][region]._documents.get(name)
    if documents is None:
        if name.startswith(AWS_OWNED_PREFIXES):
            return version or "1", None
        raise _SsmError("AutomationDefinitionNotFoundException", f"Document with name {name} does not exist.")
    if version in (None, "$DEFAULT"):
        document = documents.get_default_version()
    elif version == "$LATEST":
        document = documents.get_latest_version()
    else:
        found = documents.find_by_version(version)
        if found is None:
            raise _SsmError(
                "AutomationDefinitionVersionNotFoundException",
                f"Document {name} does not have version {version}.",
            )
        document = found
    if document.document_type != "Automation":
        raise _SsmError(
            "AutomationDefinitionNotFoundException",
            f"Document {name} is a {document.document_type} document, not an Automation runbook.",
        )
    return document.document_version, dict(document.content_json.get("parameters") or {})


def _check_parameters(name: str, declared: dict[str, Any] | None, given: dict[str, Any]) -> dict[str, list[str]]:
    def bad(message: str) -> _SsmError:
        return _SsmError("InvalidAutomationExecutionParametersException", f"{name}: {message}")

    values: dict[str, list[str]] = {}
    for key, raw in given.items():
        if not isinstance(raw, list) or not all(isinstance(v, str) for v in raw):
            raise bad(f"parameter {key} must be a list of strings")
        for value in raw:
            if not 1 <= len(value) <= 512:
                # AutomationParameterValue is 1..512 characters (the service model); an empty
                # string is rejected even where the document's default is "": omit the key.
                raise _SsmError(
                    "ValidationException",
                    f"1 validation error detected: Value '{value}' at 'parameters.{key}' failed to satisfy "
                    "constraint: Member must have length between 1 and 512",
                )
        values[key] = list(raw)
    if declared is None:
        return values
    for key in values:
        if key not in declared:
            raise bad(
                f"Parameter {key} is not defined in the document (it has {', '.join(sorted(declared)) or 'none'})."
            )
    for key, spec in declared.items():
        spec = spec or {}
        if key not in values:
            if "default" not in spec:
                raise bad(f"Parameter {key} is required and has no default value.")
            continue
        current = values[key]
        if spec.get("type", "String") in ("String", "Boolean", "Integer") and len(current) != 1:
            raise bad(f"Parameter {key} of type {spec.get('type', 'String')} takes exactly one value.")
        allowed = spec.get("allowedValues")
        pattern = spec.get("allowedPattern")
        for value in current:
            if allowed is not None and value not in [str(a) for a in allowed]:
                raise bad(f"Parameter {key} value {value!r} is not one of {', '.join(map(str, allowed))}.")
            if pattern is not None and not re.search(pattern, value):
                raise bad(f"Parameter {key} value {value!r} does not match the pattern {pattern}.")
    return values


def _expand_accounts(caller: str, spec: dict[str, Any]) -> list[str]:
    """Accounts and OU ids of one target location → account ids (Organizations data in moto)."""
    from moto.organizations.models import organizations_backends

    partition_backends = organizations_backends.get(caller)
    master = organizations_backends.master_accounts.get(caller)
    backend = None
    if master is not None:
        backend = organizations_backends[master[0]][master[1]]
    elif partition_backends is not None:
        backend = partition_backends.get("aws")
    include_children = bool(spec.get("IncludeChildOrganizationUnits"))
    accounts: list[str] = []
    for entry in spec.get("Accounts") or [caller]:
        if _ACCOUNT.match(entry):
            accounts.append(entry)
            continue
        if backend is None or backend.org is None:
            raise _SsmError("InvalidTarget", f"Organizational unit {entry} cannot be resolved: no organization.")
        try:
            parents = [entry]
            backend.validate_parent_id(entry)
        except Exception:
            raise _SsmError("InvalidTarget", f"Organizational unit {entry} does not exist.") from None
        while parents:
            parent = parents.pop(0)
            accounts.extend(a.id for a in backend.accounts if a.parent_id == parent)
            if include_children:
                parents.extend(ou.id for ou in backend.ou if ou.parent_id == parent)
    excluded = set(spec.get("ExcludeAccounts") or [])
    unique = list(dict.fromkeys(accounts))
    return [a for a in unique if a not in excluded]


def _check_location(index: int, spec: Any) -> dict[str, Any]:
    where = f"TargetLocations[{index}]"
    if not isinstance(spec, dict):
        raise _validation(f"{where} must be an object")
    known = {
        "Accounts",
        "Regions",
        "TargetLocationMaxConcurrency",
        "TargetLocationMaxErrors",
        "ExecutionRoleName",
        "IncludeChildOrganizationUnits",
        "ExcludeAccounts",
        "TargetLocationAlarmConfiguration",
        "Targets",
        "TargetsMaxConcurrency",
        "TargetsMaxErrors",
    }
    for key in spec:
        if key not in known:
            raise _validation(f"{where}: unknown member {key}")
    for key in ("Accounts", "Regions"):
        if key in spec and (not isinstance(spec[key], list) or not 1 <= len(spec[key]) <= 50):
            raise _validation(f"{where}.{key} must be a list of 1 to 50 items")
    for account in spec.get("Accounts", []):
        if not isinstance(account, str) or not (_ACCOUNT.match(account) or _OU.match(account) or _ROOT.match(account)):
            raise _validation(f"{where}.Accounts: {account!r} is not an account id or an organizational unit id")
    for account in spec.get("ExcludeAccounts", []):
        if not isinstance(account, str) or not (_ACCOUNT.match(account) or _OU.match(account)):
            raise _validation(f"{where}.ExcludeAccounts: {account!r} is not an account id or an organizational unit id")
    for region in spec.get("Regions", []):
        if region not in _known_regions():
            raise _validation(f"{where}.Regions: {region!r} is not a Region")
    concurrency = spec.get("TargetLocationMaxConcurrency", "1")
    if not isinstance(concurrency, str) or not _CONCURRENCY.match(concurrency):
        raise _validation(f"{where}.TargetLocationMaxConcurrency: {concurrency!r} is not a count or percentage")
    errors = spec.get("TargetLocationMaxErrors", "0")
    if not isinstance(errors, str) or not _ERRORS.match(errors):
        raise _validation(f"{where}.TargetLocationMaxErrors: {errors!r} is not a count or percentage")
    role = spec.get("ExecutionRoleName", "AWS-SystemsManager-AutomationExecutionRole")
    if not isinstance(role, str) or not _ROLE_NAME.match(role):
        raise _validation(f"{where}.ExecutionRoleName: {role!r} is not a role name")
    return {
        **spec,
        "TargetLocationMaxConcurrency": concurrency,
        "TargetLocationMaxErrors": errors,
        "ExecutionRoleName": role,
    }


# --------------------------------------------------------------------------- progress


def _advance(parent: _Execution) -> None:
    """One tick of rate control: each unfinished location runs its next batch to completion."""
    if parent.status in TERMINAL or not parent.locations:
        return
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
            parent.status = "Success"


def _run_child(parent: _Execution, child: _Child) -> None:
    child.start = _now()
    failure = _failure_for(child.account, child.region, parent.document)
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
    _store(child.account, child.region)[child.execution_id] = record


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


def _find(account: str, region: str, execution_id: str) -> _Execution:
    execution = _store(account, region).get(execution_id)
    if execution is None:
        raise _SsmError(
            "AutomationExecutionNotFoundException", f"There is no AutomationExecution with id: {execution_id}"
        )
    return execution


# --------------------------------------------------------------------------- API methods


def start_automation_execution(self: SimpleSystemManagerResponse) -> ActionResult:
    """StartAutomationExecution: validate, record the parent, plan one child per account × Region."""
    account, region = self.current_account, self.region
    name = self._get_param("DocumentName")
    if not isinstance(name, str) or not re.match(r"^[a-zA-Z0-9_\-.:/]{3,128}$", name):
        raise _validation(f"DocumentName {name!r} is not a document name")
    version, declared = _document_parameters(account, region, name, self._get_param("DocumentVersion"))
    parameters = _check_parameters(name, declared, self._get_param("Parameters") or {})
    raw_locations = self._get_param("TargetLocations")
    if raw_locations is not None and (not isinstance(raw_locations, list) or not 1 <= len(raw_locations) <= 100):
        raise _validation("TargetLocations must be a list of 1 to 100 locations")
    specs = [_check_location(i, spec) for i, spec in enumerate(raw_locations or [])]
    mode = self._get_param("Mode") or "Auto"
    execution_id = str(uuid.uuid4())
    locations: list[_Location] = []
    for index, spec in enumerate(specs):
        regions = spec.get("Regions") or [region]
        pairs = list(itertools.product(_expand_accounts(account, spec), regions))
        children = [_Child(str(uuid.uuid4()), a, r, index) for a, r in pairs]
        locations.append(
            _Location(
                spec=spec,
                children=children,
                concurrency=max(1, _rate(spec["TargetLocationMaxConcurrency"], len(children), minimum=1)),
                max_errors=_rate(spec["TargetLocationMaxErrors"], len(children), minimum=0),
            )
        )
    execution = _Execution(
        execution_id=execution_id,
        account=account,
        region=region,
        document=name,
        document_version=version,
        parameters=parameters,
        mode=mode,
        start=_now(),
        executed_by=f"arn:{get_partition(region)}:iam::{account}:root",
        target_locations=specs,
        locations=locations,
        tags=self._get_param("Tags") or [],
    )
    if not specs:
        # A local execution: the runbook's steps are not interpreted; it succeeds unless a test
        # asked this account/Region to fail.
        failure = _failure_for(account, region, name)
        execution.status = "Failed" if failure else "Success"
        execution.failure = failure
        execution.end = _now()
    with _LOCK:
        _store(account, region)[execution_id] = execution
    return ActionResult({"AutomationExecutionId": execution_id})


def get_automation_execution(self: SimpleSystemManagerResponse) -> ActionResult:
    with _LOCK:
        execution = _find(self.current_account, self.region, self._get_param("AutomationExecutionId"))
        _advance(execution)
        return ActionResult({"AutomationExecution": _describe(execution, full=True)})


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
    raise _SsmError("InvalidFilterKey", f"The filter key {key} is not supported by this emulator.")


def _page(items: list[dict[str, Any]], token: str | None, size: int) -> tuple[list[dict[str, Any]], str | None]:
    start = int(token) if token else 0
    end = start + size
    return items[start:end], (str(end) if end < len(items) else None)


def describe_automation_executions(self: SimpleSystemManagerResponse) -> ActionResult:
    filters = self._get_param("Filters") or []
    size = int(self._get_param("MaxResults") or 50)
    with _LOCK:
        executions = list(_store(self.current_account, self.region).values())
        for item in filters:
            key, values = item.get("Key"), item.get("Values") or []
            executions = [e for e in executions if _matches(e, key, values)]
        for execution in executions:
            _advance(execution)
        executions.sort(key=lambda e: e.start, reverse=True)
        page, token = _page([_describe(e, full=False) for e in executions], self._get_param("NextToken"), size)
    result: dict[str, Any] = {"AutomationExecutionMetadataList": page}
    if token:
        result["NextToken"] = token
    return ActionResult(result)


def describe_automation_step_executions(self: SimpleSystemManagerResponse) -> ActionResult:
    size = int(self._get_param("MaxResults") or 50)
    with _LOCK:
        execution = _find(self.current_account, self.region, self._get_param("AutomationExecutionId"))
        _advance(execution)
        steps = _steps(execution)
    for item in self._get_param("Filters") or []:
        key, values = item.get("Key"), item.get("Values") or []
        field_name = {
            "StepExecutionStatus": "StepStatus",
            "StepName": "StepName",
            "StepExecutionId": "StepExecutionId",
            "Action": "Action",
        }.get(key)
        if field_name is None:
            raise _SsmError("InvalidFilterKey", f"The filter key {key} is not supported by this emulator.")
        steps = [s for s in steps if s.get(field_name) in values]
    if self._get_param("ReverseOrder"):
        steps.reverse()
    page, token = _page(steps, self._get_param("NextToken"), size)
    result: dict[str, Any] = {"StepExecutions": page}
    if token:
        result["NextToken"] = token
    return ActionResult(result)


def stop_automation_execution(self: SimpleSystemManagerResponse) -> ActionResult:
    stop_type = self._get_param("Type") or "Cancel"
    if stop_type not in ("Cancel", "Complete"):
        raise _validation(f"Type {stop_type!r} is not Cancel or Complete")
    with _LOCK:
        execution = _find(self.current_account, self.region, self._get_param("AutomationExecutionId"))
        if execution.status in TERMINAL:
            raise _SsmError(
                "InvalidAutomationStatusUpdateException",
                f"The automation execution {execution.execution_id} is already {execution.status}.",
            )
        for location in execution.locations:
            for child in location.children[location.next_index :]:
                child.status = "Cancelled"
            location.next_index = len(location.children)
        execution.status = "Success" if stop_type == "Complete" else "Cancelled"
        execution.end = _now()
    return ActionResult({})


def executions_in(account: str, region: str) -> Iterable[dict[str, Any]]:
    """Test helper: every execution recorded in one account and Region (parents and children)."""
    with _LOCK:
        return [_describe(e, full=True) for e in _store(account, region).values()]


def install() -> None:
    """Patch moto's SSM response class (idempotent)."""
    for method in (
        start_automation_execution,
        get_automation_execution,
        describe_automation_executions,
        describe_automation_step_executions,
        stop_automation_execution,
    ):
        setattr(SimpleSystemManagerResponse, method.__name__, method)
