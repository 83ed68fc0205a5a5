"""Where the hub's emergency rollout lives: read from the central stack's outputs.

``pulumi stack output --json -s central > central-outputs.json`` gives ``homeRegion`` and the
``emergency`` section (``stateMachineArn``, ``approvalFunctionName``); ``--hub-outputs`` reads it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from patchctl.errors import InputError, read_json


@dataclass(frozen=True)
class HubRef:
    """The emergency parts of one hub."""

    region: str
    state_machine_arn: str
    approval_function: str

    @classmethod
    def from_outputs(cls, outputs: Any, where: str = "hub outputs") -> HubRef:
        if not isinstance(outputs, dict):
            raise InputError(f"{where}: not a JSON object (pulumi stack output --json -s central)")
        emergency = outputs.get("emergency")
        region = outputs.get("homeRegion")
        if not isinstance(emergency, dict) or not isinstance(region, str):
            raise InputError(f"{where}: no 'emergency' section or 'homeRegion' (is this the central stack's output?)")
        machine, function = emergency.get("stateMachineArn"), emergency.get("approvalFunctionName")
        if not isinstance(machine, str) or not machine.startswith("arn:") or not isinstance(function, str):
            raise InputError(f"{where}: emergency.stateMachineArn/approvalFunctionName missing (deploy the hub first)")
        return cls(region=region, state_machine_arn=machine, approval_function=function)

    @classmethod
    def from_file(cls, path: Path) -> HubRef:
        return cls.from_outputs(read_json(path, "no such file (pulumi stack output --json -s central)"), str(path))
