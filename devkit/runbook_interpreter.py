"""Walk an SSM Automation runbook the way SSM Automation does, on the emulator.

moto stores Automation documents but never runs them. This interpreter runs a rendered runbook as strictly as
SSM does what the tests can see:

* **Parameters** are validated against the document before the first step (:mod:`devkit.runbook_parameters`):
  undeclared names, types (``String``, ``Integer``, ``Boolean``, ``StringList``, ``MapList``, ``StringMap``),
  ``allowedValues``, ``allowedPattern``, ``minItems``/``maxItems``, and required parameters without a default.
* **Nested API calls** are checked against botocore's input shapes (``botocore.validate.ParamValidator``, the
  validator boto3 clients run): ``aws:executeAwsApi``, ``aws:waitForAwsResourceProperty``,
  ``aws:assertAwsResourceProperty`` and the ``SendCommand`` an ``aws:runCommand`` makes are validated here; the
  scripts' boto3 clients validate their own calls the same way.
* **Time is virtual** (:mod:`devkit.virtual_clock`): ``aws:sleep``, the scripts' ``time.sleep`` and botocore's
  waiters advance the clock instead of waiting; ``time.time``/``time.monotonic`` in a script read it. A step fails
  when it runs past its ``timeoutSeconds``, and an ``aws:executeScript`` step past 600 s whatever it says (AWS
  Systems Manager User Guide, Automation actions reference, aws:executeScript: "maximum duration 600 seconds").
* ``aws:branch``, ``onFailure``/``nextStep``/``isEnd``; ``aws:runCommand`` is delegated to a callable, because
  moto's ``send_command`` does not run documents.
* **Executions are visible**: each run is recorded in the emulated Automation backend of its account and Region
  (``GetAutomationExecution`` answers ``InProgress`` while it runs, its final status after), and ``abort_after=k``
  stops the execution after ``k`` steps as ``StopAutomationExecution`` would (``Cancelled``, no cleanup step), so
  interruption can be tested at every step.

It is part of the dev kit, beside the moto extension.
"""

from __future__ import annotations

import contextlib
import functools
import json
import re
import types
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from typing import Any
from unittest import mock

import boto3
import botocore.session
import yaml
from botocore.validate import ParamValidator

from devkit.iam_replay.recorder import note_call
from devkit.runbook_parameters import InvalidParameters, UndeclaredParameters, check_parameters
from devkit.virtual_clock import CLOCK, VirtualClock

__all__ = ["REFERENCE", "InvalidParameters", "StepTimedOut", "UndeclaredParameters", "UnsupportedAction", "run_runbook"]

REFERENCE = re.compile(r"\{\{\s*([^{}\s]+)\s*\}\}")
#: aws:executeScript's hard limit (User Guide, Automation actions reference).
EXECUTE_SCRIPT_LIMIT_SECONDS = 600
#: How often aws:waitForAwsResourceProperty looks again (virtual seconds), and its default timeout.
WAIT_POLL_SECONDS = 15
WAIT_DEFAULT_TIMEOUT_SECONDS = 3600
DURATION = re.compile(r"^PT(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?$")

RunCommand = Callable[[dict[str, Any]], dict[str, Any]]
#: ``as_account(account, region, role=None)``: see :meth:`devkit.emulator.Accounts.as_account`.
AccountContext = Callable[..., AbstractContextManager[Any]]


class UnsupportedAction(RuntimeError):
    """The runbook uses an Automation action the interpreter does not run (fails that step)."""


class StepTimedOut(RuntimeError):
    """The step ran past its ``timeoutSeconds`` (or aws:executeScript's 600 s) on the virtual clock."""


def run_runbook(
    content: str,
    parameters: dict[str, Any],
    account: str,
    region: str,
    *,
    as_account: AccountContext,
    run_command: RunCommand | None = None,
    execution_id: str = "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0",
    skip_sleeps: bool = True,
    abort_after: int | None = None,
    document_name: str = "",
    clock: VirtualClock = CLOCK,
) -> dict[str, Any]:
    """Execute ``content`` (YAML or JSON) with ``parameters`` as ``account`` in ``region``.

    ``as_account(account, region)`` is a context manager that makes boto3's default session land in that account
    (scripts use the default session, as in AWS). ``skip_sleeps`` is kept for callers of the earlier signature:
    sleeps never wait for real (they advance ``clock``). ``abort_after``: stop after that many executed steps,
    ``Cancelled``. Returns ``{"status": "Success"|"Failed"|"Cancelled", "error", "executed": [step names],
    "values": {...}, "seconds": virtual duration}``; bad parameters raise :class:`InvalidParameters` (SSM refuses
    the StartAutomationExecution) before anything runs.
    """
    del skip_sleeps  # time is virtual: nothing ever sleeps for real
    document = yaml.safe_load(content)
    declared = document.get("parameters", {}) or {}
    values: dict[str, Any] = check_parameters(declared, parameters)
    values.update({"automation:EXECUTION_ID": execution_id, "global:ACCOUNT_ID": account, "global:REGION": region})
    assume_role = values.get("AutomationAssumeRole")
    if assume_role:
        # SSM runs every step as the execution's AutomationAssumeRole (Systems Manager User Guide,
        # "Running an automation with an assumed role"): so do the scripts here, and the IAM
        # replay judges their calls by that role's policies.
        as_account = functools.partial(as_account, role=str(assume_role))
    steps = {step["name"]: step for step in document["mainSteps"]}
    order = [step["name"] for step in document["mainSteps"]]
    record = _record_execution(account, region, execution_id, document_name or "interpreted-runbook", parameters)

    def resolve(value: Any) -> Any:
        if isinstance(value, str):
            whole = REFERENCE.fullmatch(value.strip())
            if whole:
                return values[whole.group(1)]
            return REFERENCE.sub(lambda m: str(values[m.group(1)]), value)
        if isinstance(value, list):
            return [resolve(v) for v in value]
        if isinstance(value, dict):
            return {k: resolve(v) for k, v in value.items()}
        return value

    started = clock.now()
    executed: list[str] = []
    status, error = "Success", ""
    current: str | None = order[0]
    while current is not None:
        if abort_after is not None and len(executed) >= abort_after:
            status, error = "Cancelled", f"stopped after {len(executed)} step(s) (StopAutomationExecution)"
            break
        step = steps[current]
        executed.append(current)
        action, inputs = step["action"], step.get("inputs", {})
        next_step: str | None = step.get("nextStep")
        if next_step is None and not step.get("isEnd"):
            position = order.index(current)
            next_step = order[position + 1] if position + 1 < len(order) else None
        limit = _limit(step)
        deadline = clock.now() + limit if limit else None
        try:
            if action == "aws:branch":
                next_step = _branch(inputs, resolve)
            elif action == "aws:sleep":
                _sleep(resolve(inputs), clock, deadline)
            elif action == "aws:executeScript":
                payload = _execute_script(current, inputs, resolve, account, region, as_account, clock, deadline)
                values[f"{current}.OutputPayload"] = payload
                for output in step.get("outputs", []):
                    key = output["Selector"].removeprefix("$.Payload.")
                    values[f"{current}.{output['Name']}"] = payload[key]
            elif action in ("aws:executeAwsApi", "aws:waitForAwsResourceProperty", "aws:assertAwsResourceProperty"):
                with as_account(account, region):
                    response = _aws_api(action, resolve(inputs), clock, deadline)
                for output in step.get("outputs", []):
                    values[f"{current}.{output['Name']}"] = _select(response, output["Selector"])
            elif action == "aws:runCommand":
                if run_command is None:
                    raise RuntimeError("no run_command simulator given")
                resolved = resolve(inputs)
                request = _send_command_request(resolved)
                validate_call("ssm", "SendCommand", request)
                if assume_role:
                    # SSM sends the command as the automation's role: the IAM replay judges it (issue 12)
                    note_call(str(assume_role), region, "ssm", "SendCommand", request)
                for key, value in run_command(resolved).items():
                    values[f"{current}.{key}"] = value
            else:
                raise UnsupportedAction(f"{action} is not interpreted by the emulator")
            if deadline is not None and limit is not None and clock.now() > deadline:
                raise StepTimedOut(f"step ran {clock.now() - deadline + limit:.0f} s, past its limit of {limit:.0f} s")
        except Exception as failure:
            on_failure = step.get("onFailure", "Abort")
            status = "TimedOut" if isinstance(failure, StepTimedOut) and status == "Success" else "Failed"
            error = "; then ".join(filter(None, [error, f"{current}: {type(failure).__name__}: {failure}"]))
            if isinstance(on_failure, str) and on_failure.startswith("step:"):
                current = on_failure.removeprefix("step:")
                continue
            break
        current = next_step
    if status == "TimedOut":
        status = "Failed"
    _finish_execution(record, status, error)
    return {"status": status, "error": error, "executed": executed, "values": values, "seconds": clock.now() - started}


def _limit(step: dict[str, Any]) -> float | None:
    """The step's time limit: ``timeoutSeconds``, and at most 600 s for aws:executeScript."""
    timeout = step.get("timeoutSeconds")
    limit = float(timeout) if timeout is not None else None
    if step["action"] == "aws:executeScript":
        limit = min(limit or EXECUTE_SCRIPT_LIMIT_SECONDS, EXECUTE_SCRIPT_LIMIT_SECONDS)
    return limit


def _branch(inputs: dict[str, Any], resolve: Callable[[Any], Any]) -> str | None:
    for choice in inputs["Choices"]:
        variable = resolve(choice["Variable"])
        if (
            ("StringEquals" in choice and str(variable) == choice["StringEquals"])
            or ("NumericGreater" in choice and float(variable) > float(choice["NumericGreater"]))
            or ("NumericEquals" in choice and float(variable) == float(choice["NumericEquals"]))
            or ("BooleanEquals" in choice and str(variable).lower() == str(choice["BooleanEquals"]).lower())
        ):
            return str(choice["NextStep"])
    default = inputs.get("Default")
    return str(default) if default is not None else None


def _sleep(inputs: dict[str, Any], clock: VirtualClock, deadline: float | None) -> None:
    match = DURATION.match(str(inputs.get("Duration", "")))
    if match is None:
        raise ValueError(f"aws:sleep Duration {inputs.get('Duration')!r} is not an ISO 8601 duration like PT30S")
    hours, minutes, seconds = (int(part or 0) for part in match.groups())
    _advance(clock, hours * 3600 + minutes * 60 + seconds, deadline)


def _advance(clock: VirtualClock, seconds: float, deadline: float | None) -> None:
    if deadline is not None and clock.now() + seconds > deadline:
        clock.advance(max(0.0, deadline - clock.now()))
        raise StepTimedOut(f"sleeping {seconds:.0f} s more would pass the step's time limit")
    clock.advance(seconds)


class _VirtualTime(types.SimpleNamespace):
    """What a script's ``time`` module is while it runs: the virtual clock, everything else the real module."""


def _virtual_time(clock: VirtualClock, deadline: float | None) -> Any:
    import time as real

    proxy = _VirtualTime(**{k: getattr(real, k) for k in dir(real) if not k.startswith("__")})
    proxy.sleep = lambda seconds: _advance(clock, float(seconds), deadline)
    proxy.time = clock.now
    proxy.monotonic = clock.now
    return proxy


@contextlib.contextmanager
def _virtual_waiters(proxy: Any) -> Iterator[None]:
    """botocore's waiters sleep through their module's ``time``: point it at the virtual clock."""
    with mock.patch("botocore.waiter.time", proxy):
        yield


def _execute_script(
    name: str,
    inputs: dict[str, Any],
    resolve: Callable[[Any], Any],
    account: str,
    region: str,
    as_account: AccountContext,
    clock: VirtualClock,
    deadline: float | None,
) -> Any:
    namespace: dict[str, Any] = {"__name__": f"ssm_step_{name}"}
    proxy = _virtual_time(clock, deadline)
    with as_account(account, region), _virtual_waiters(proxy):
        exec(compile(inputs["Script"], f"<{name}>", "exec"), namespace)
        if "time" in namespace:
            namespace["time"] = proxy
        payload = namespace[inputs["Handler"]](resolve(inputs.get("InputPayload", {})), None)
    return json.loads(json.dumps(payload, default=str))  # SSM serialises the return value


# ---------------------------------------------------------------------------------------------------------------
# API actions and botocore validation
# ---------------------------------------------------------------------------------------------------------------

_SESSION = botocore.session.get_session()


def validate_call(service: str, operation: str, params: dict[str, Any]) -> None:
    """Raise botocore's ``ParamValidationError`` when ``params`` do not fit the operation's input shape."""
    model = _SESSION.get_service_model(service).operation_model(operation)
    report = ParamValidator().validate(params, model.input_shape)
    if report.has_errors():
        from botocore.exceptions import ParamValidationError

        raise ParamValidationError(report=report.generate_report())


def _send_command_request(inputs: dict[str, Any]) -> dict[str, Any]:
    """The SendCommand an aws:runCommand makes (its Parameters as SSM sends them: lists of strings)."""
    request = {k: v for k, v in inputs.items() if k != "Parameters"}
    request["Parameters"] = {
        k: v if isinstance(v, list) else [str(v)] for k, v in (inputs.get("Parameters") or {}).items()
    }
    return request


def _operation(service: str, api: str) -> str:
    """aws:executeAwsApi's ``Api`` may be the operation name or its snake_case form."""
    model = _SESSION.get_service_model(service)
    if api in model.operation_names:
        return api
    wanted = api.replace("_", "").lower()
    for name in model.operation_names:
        if name.lower() == wanted:
            return name
    raise ValueError(f"{service} has no API {api!r}")


def _call(inputs: dict[str, Any]) -> dict[str, Any]:
    service, api = str(inputs["Service"]), str(inputs["Api"])
    operation = _operation(service, api)
    reserved = {"Service", "Api", "PropertySelector", "DesiredValues"}
    params = {k: v for k, v in inputs.items() if k not in reserved}
    validate_call(service, operation, params)
    client = boto3.client(service)
    response: dict[str, Any] = getattr(client, _snake(client, operation))(**params)
    return json.loads(json.dumps(response, default=str))


def _snake(client: Any, operation: str) -> str:
    return next(name for name, op in client.meta.method_to_api_mapping.items() if op == operation)


def _aws_api(action: str, inputs: dict[str, Any], clock: VirtualClock, deadline: float | None) -> dict[str, Any]:
    if action == "aws:executeAwsApi":
        return _call(inputs)
    desired = [str(v) for v in inputs["DesiredValues"]]
    if action == "aws:assertAwsResourceProperty":
        response = _call(inputs)
        found = _select(response, inputs["PropertySelector"])
        if not _matches(found, desired):
            raise AssertionError(f"{inputs['PropertySelector']} is {found!r}, not one of {desired}")
        return response
    end = deadline if deadline is not None else clock.now() + WAIT_DEFAULT_TIMEOUT_SECONDS
    while True:
        response = _call(inputs)
        found = _select(response, inputs["PropertySelector"])
        if _matches(found, desired):
            return response
        if clock.now() + WAIT_POLL_SECONDS > end:
            _advance(clock, WAIT_POLL_SECONDS, end)
        clock.advance(WAIT_POLL_SECONDS)


def _matches(found: Any, desired: list[str]) -> bool:
    if isinstance(found, list):
        return bool(found) and all(str(v) in desired for v in found)
    return found is not None and str(found) in desired


def _select(response: Any, selector: str) -> Any:
    """A JSONPath of the forms SSM runbooks use: ``$.A.B``, ``$.A[0].B``, ``$.A[*].B`` / ``$.A..B`` (lists)."""
    path = selector.removeprefix("$").replace("..", ".[*].")
    current: list[Any] = [response]
    spread = False
    for part in filter(None, re.split(r"\.|(\[[^\]]*\])", path)):
        nxt: list[Any] = []
        for item in current:
            if part == "[*]":
                spread = True
                nxt.extend(item if isinstance(item, list) else [])
            elif part.startswith("["):
                index = int(part[1:-1])
                if isinstance(item, list) and -len(item) <= index < len(item):
                    nxt.append(item[index])
            elif isinstance(item, dict) and part in item:
                nxt.append(item[part])
        current = nxt
    if spread:
        return current
    return current[0] if current else None


# ---------------------------------------------------------------------------------------------------------------
# The execution as GetAutomationExecution shows it
# ---------------------------------------------------------------------------------------------------------------


def _record_execution(account: str, region: str, execution_id: str, document: str, parameters: dict[str, Any]) -> Any:
    from datetime import UTC, datetime

    from devkit.moto_extensions.ssm.models.automation import _Execution, automation_backend

    record = _Execution(
        execution_id=execution_id,
        account=account,
        region=region,
        document=document,
        document_version="1",
        parameters={k: v if isinstance(v, list) else [str(v)] for k, v in parameters.items()},
        mode="Auto",
        start=datetime.fromtimestamp(CLOCK.now(), UTC),
        executed_by=f"arn:aws:iam::{account}:root",
    )
    automation_backend(account, region).executions[execution_id] = record
    return record


def _finish_execution(record: Any, status: str, error: str) -> None:
    from datetime import UTC, datetime

    record.status = status
    record.end = datetime.fromtimestamp(CLOCK.now(), UTC)
    record.failure = error or None
