"""An emergency rollout during a change freeze: refused with one line unless the request overrides the freeze, and
the override is recorded with the approval (lambda_src/emergency_approval/app.py, freeze_check)."""

from __future__ import annotations

import datetime
import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from components import naming
from components.config import BootstrapConfig, CentralConfig
from components.config_freeze import ChangeFreezeConfig
from devkit.demo.emergency import deploy_emergency_hub
from devkit.emulator import Emulator
from devkit.virtual_clock import CLOCK
from patchctl.emergency import gate
from tests.hub.test_emergency_state_machine import (
    ACCOUNTS,
    ASG_PARAMETERS,
    HUB,
    REGION,
    REGIONS,
    STANDALONE_PARAMETERS,
    Hub,
    _runbook,
    request,
)


@pytest.fixture
def frozen_hub() -> Iterator[Hub]:
    now = datetime.datetime.fromtimestamp(CLOCK.now(), datetime.UTC)
    freeze = {"name": "Year-end", "start": now - datetime.timedelta(hours=1), "end": now + datetime.timedelta(days=2)}
    cfg = CentralConfig(
        stack="central",
        org_id="o-abcdefghij",
        central_account_id=HUB,
        home_region=REGION,
        regions=REGIONS,
        accounts=ACCOUNTS,
        bootstrap=BootstrapConfig(enabled=False),
        change_freeze=ChangeFreezeConfig.model_validate({"freezes": [freeze]}),
    )
    runbooks = {
        naming.RUNBOOK_STANDALONE: _runbook(STANDALONE_PARAMETERS),
        naming.RUNBOOK_ASG: _runbook(ASG_PARAMETERS),
    }
    with Emulator():
        deployed = deploy_emergency_hub(boto3.session.Session(region_name=REGION), cfg, runbooks)
        yield Hub(**vars(deployed))


def _record(hub: Hub, key: str) -> dict[str, Any]:
    table = hub.session.resource("dynamodb").Table(naming.EMERGENCY_APPROVAL_TABLE)
    item: dict[str, Any] = table.get_item(Key={"pk": key})["Item"]
    return item


def test_a_rollout_during_a_freeze_needs_the_override_which_is_recorded(frozen_hub: Hub) -> None:
    with pytest.raises(gate.GateRefused) as refused:
        frozen_hub.start(request(waves=["Dev"], include_asg="No"), by="alice")
    line = str(refused.value)
    assert "\n" not in line
    assert "change freeze: OrgPatching-ChangeFreeze is CLOSED until " in line
    assert "set freeze_override (patchctl emergency start --override-freeze) to run anyway" in line
    assert frozen_hub.automations() == []  # nothing started

    execution = frozen_hub.start(request(waves=["Dev"], include_asg="No", freeze_override=True), by="alice")
    result = frozen_hub.finish(execution)
    assert result["status"] == "SUCCEEDED", result.get("cause")
    started = _record(frozen_hub, f"start#{execution}")
    assert started["freeze_override"] is True and started["calendar_state"] == "CLOSED"
    assert started["requested_by"].endswith("/alice")
    assert json.loads(result["output"])["request"]["freeze_override"] is True
    assert len(frozen_hub.automations()) == 1
