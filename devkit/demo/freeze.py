"""Demo step of issue 16 item 6: a change freeze skips one window's install.

The platform team adds a freeze to the central config (``org-patching:changeFreeze``); the hub's Change Calendar
(``components/hub/change_calendar.py``) gets the new content as ``pulumi up`` would give it (a new document
version, made the default). One account-region's ``Default_maintenance_window`` then fires: its runbook's first
step reads the calendar (``GetCalendarState`` on the hub's shared copy) and runs a Scan instead of the Install.
Every figure is read back from the emulator: the calendar's state, the Operation of the command SSM received and
the instances it ran on. The freeze is lifted afterwards (the calendar's first version is the default again), so
the windows of the next step install.
"""

from __future__ import annotations

import datetime
from typing import Any

from components import naming
from components.config_freeze import ChangeFreezeConfig
from components.contract import DEFAULT_WINDOW
from components.hub.change_calendar import calendar_content
from devkit.demo.narrative import Narrator
from devkit.demo.world import World
from devkit.emulator import Emulator
from devkit.virtual_clock import CLOCK


def step_change_freeze(emu: Emulator, world: World, say: Narrator) -> dict[str, Any]:
    """Freeze, fire one window, lift the freeze; returns what the emulator shows."""
    from devkit.maintenance_windows import run_window
    from devkit.run_command import RunCommandAgent

    account, region = world.locations[0]
    now = datetime.datetime.fromtimestamp(CLOCK.now(), datetime.UTC).replace(microsecond=0)
    freeze = ChangeFreezeConfig.model_validate(
        {
            "freezes": [
                {
                    "name": "Demo freeze",
                    "start": now - datetime.timedelta(hours=1),
                    "end": now + datetime.timedelta(hours=4),
                }
            ]
        }
    )
    hub = emu.session(world.hub_account, region).client("ssm")
    updated = hub.update_document(
        Name=naming.CHANGE_CALENDAR, Content=calendar_content(freeze), DocumentVersion="$LATEST", DocumentFormat="TEXT"
    )["DocumentDescription"]["DocumentVersion"]
    hub.update_document_default_version(Name=naming.CHANGE_CALENDAR, DocumentVersion=updated)
    calendar = naming.change_calendar_arn("aws", region, world.hub_account)
    ssm = emu.session(account, region).client("ssm")
    state = ssm.get_calendar_state(CalendarNames=[calendar])
    say.fact(f"the hub's change calendar is {state['State']} in {region} until {state.get('NextTransitionTime')}")

    agent = RunCommandAgent(emu)
    run = run_window(emu, agent, account, region, DEFAULT_WINDOW)
    gates = [t.values.get("checkChangeGate.OutputPayload", {}) for t in run.tasks]
    operations = sorted(
        {
            op
            for command in agent.commands
            for op in ssm.list_commands(CommandId=command.command_id)["Commands"][0]["Parameters"].get("Operation", [])
        }
    )
    scanned = sorted({i.instance_id for c in agent.commands for i in c.invocations if i.status == "Success"})
    say.fact(
        f"{DEFAULT_WINDOW} in {account}/{region} fired during the freeze: {len(run.tasks)} tasks, "
        f"operation sent {', '.join(operations) or 'none'} (asked: Install), {len(scanned)} instances scanned, "
        "nothing installed, no AMI rebaked"
    )
    hub.update_document_default_version(Name=naming.CHANGE_CALENDAR, DocumentVersion="1")
    lifted = ssm.get_calendar_state(CalendarNames=[calendar])["State"]
    say.fact(f"freeze lifted: the calendar is {lifted} again; the next windows install")
    return {
        "location": f"{account}/{region}",
        "state": state["State"],
        "frozen": [bool(g.get("frozen")) for g in gates if g],
        "operations": operations,
        "scanned": len(scanned),
        "rebaked": sum(len(t.values.get("findAsgs.OutputPayload", {}).get("asgs", [])) for t in run.tasks),
        "after": lifted,
        "failures": run.failures,
    }
