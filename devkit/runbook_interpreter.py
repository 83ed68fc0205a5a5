"""Walk an SSM Automation runbook the way SSM Automation does, on the emulator.

moto stores Automation documents but never runs them. This interpreter runs a rendered
runbook: parameter defaults and validation against the document, ``{{ }}`` references,
``aws:executeScript`` (the document's own Script text is executed, so the code under test is
what ships), ``aws:branch``, ``onFailure``/``nextStep``/``isEnd``. ``aws:runCommand`` is
delegated to a callable, because moto's ``send_command`` does not run documents either.

It is part of the dev kit, beside the moto extension (it patches nothing in moto).
"""

from __future__ import annotations

import contextlib
import functools
import json
import re
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any
from unittest import mock

import yaml

REFERENCE = re.compile(r"\{\{\s*([^{}\s]+)\s*\}\}")

RunCommand = Callable[[dict[str, Any]], dict[str, Any]]
#: ``as_account(account, region, role=None)``: see :meth:`devkit.emulator.Accounts.as_account`.
AccountContext = Callable[..., AbstractContextManager[Any]]


class UnsupportedAction(RuntimeError):
    """The runbook uses an Automation action the interpreter does not run (fails that step)."""


class UndeclaredParameters(ValueError):
    """The execution passes parameters the document does not declare (SSM rejects it)."""


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
) -> dict[str, Any]:
    """Execute ``content`` (YAML or JSON) with ``parameters`` as ``account`` in ``region``.

    ``as_account(account, region)`` is a context manager that makes boto3's default session
    land in that account (scripts use the default session, as in AWS). ``skip_sleeps``: the
    emulator's state transitions are immediate, so the scripts' polling pauses are skipped
    (their poll budgets and outcomes are unchanged). Returns
    ``{"status": "Success"|"Failed", "error", "executed": [step names], "values": {...}}``.
    """
    document = yaml.safe_load(content)
    declared = document.get("parameters", {})
    unknown = set(parameters) - set(declared)
    if unknown:
        raise UndeclaredParameters(f"undeclared parameters {sorted(unknown)} (SSM rejects the execution)")
    # A parameter without a default is required: StartAutomationExecution fails without it
    # (SSM Automation runbook reference, "parameters": "default ... If not specified, the parameter is required").
    missing = sorted(name for name, spec in declared.items() if "default" not in spec and name not in parameters)
    if missing:
        raise UndeclaredParameters(f"required parameters {missing} not given (SSM rejects the execution)")
    values: dict[str, Any] = {name: spec.get("default") for name, spec in declared.items()}
    values.update(parameters)
    values.update({"automation:EXECUTION_ID": execution_id, "global:ACCOUNT_ID": account, "global:REGION": region})
    assume_role = values.get("AutomationAssumeRole")
    if assume_role:
        # SSM runs every step as the execution's AutomationAssumeRole (Systems Manager User Guide,
        # "Running an automation with an assumed role"): so do the scripts here, and the IAM
        # replay judges their calls by that role's policies.
        as_account = functools.partial(as_account, role=str(assume_role))
    steps = {step["name"]: step for step in document["mainSteps"]}
    order = [step["name"] for step in document["mainSteps"]]

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

    executed: list[str] = []
    status, error = "Success", ""
    current: str | None = order[0]
    while current is not None:
        step = steps[current]
        executed.append(current)
        action, inputs = step["action"], step.get("inputs", {})
        next_step: str | None = step.get("nextStep")
        if next_step is None and not step.get("isEnd"):
            position = order.index(current)
            next_step = order[position + 1] if position + 1 < len(order) else None
        try:
            if action == "aws:branch":
                next_step = _branch(inputs, resolve)
            elif action == "aws:executeScript":
                payload = _execute_script(current, inputs, resolve, account, region, as_account, skip_sleeps)
                values[f"{current}.OutputPayload"] = payload
                for output in step.get("outputs", []):
                    key = output["Selector"].removeprefix("$.Payload.")
                    values[f"{current}.{output['Name']}"] = payload[key]
            elif action == "aws:runCommand":
                if run_command is None:
                    raise RuntimeError("no run_command simulator given")
                for key, value in run_command(resolve(inputs)).items():
                    values[f"{current}.{key}"] = value
            else:
                raise UnsupportedAction(f"{action} is not interpreted by the emulator")
        except Exception as failure:
            on_failure = step.get("onFailure", "Abort")
            status = "Failed"
            error = "; then ".join(filter(None, [error, f"{current}: {type(failure).__name__}: {failure}"]))
            if isinstance(on_failure, str) and on_failure.startswith("step:"):
                current = on_failure.removeprefix("step:")
                continue
            break
        current = next_step
    return {"status": status, "error": error, "executed": executed, "values": values}


def _branch(inputs: dict[str, Any], resolve: Callable[[Any], Any]) -> str | None:
    for choice in inputs["Choices"]:
        variable = resolve(choice["Variable"])
        if ("StringEquals" in choice and str(variable) == choice["StringEquals"]) or (
            "NumericGreater" in choice and float(variable) > float(choice["NumericGreater"])
        ):
            return str(choice["NextStep"])
    default = inputs.get("Default")
    return str(default) if default is not None else None


def _execute_script(
    name: str,
    inputs: dict[str, Any],
    resolve: Callable[[Any], Any],
    account: str,
    region: str,
    as_account: AccountContext,
    skip_sleeps: bool,
) -> Any:
    namespace: dict[str, Any] = {"__name__": f"ssm_step_{name}"}
    pause = contextlib.nullcontext() if not skip_sleeps else mock.patch("time.sleep", lambda seconds: None)
    with as_account(account, region), pause:
        exec(compile(inputs["Script"], f"<{name}>", "exec"), namespace)
        payload = namespace[inputs["Handler"]](resolve(inputs.get("InputPayload", {})), None)
    return json.loads(json.dumps(payload, default=str))  # SSM serialises the return value
