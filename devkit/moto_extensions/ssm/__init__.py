"""SSM for the emulator: managed instances, patch states and compliance, resource data syncs and
associations, Automation executions (moto 5.2 implements none of them).

Shaped like a moto service: ``exceptions``, ``models`` (state and logic, one module per area;
state lives on moto's SSM backend of each account+region), ``responses`` (request parsing only),
``utils`` (moto's paginator configuration). :func:`install` adds the operations to moto.
"""

from __future__ import annotations

from moto.ssm.responses import SimpleSystemManagerResponse

from devkit.moto_extensions.core import copy_members
from devkit.moto_extensions.ssm import baseline_rules, change_calendar, command_rules, sharing_rules, window_schedule
from devkit.moto_extensions.ssm.responses import SsmExtensionResponse


def install() -> None:
    """Add the operations to moto's SSM responses (idempotent)."""
    copy_members(SsmExtensionResponse, SimpleSystemManagerResponse)
    baseline_rules.install()
    sharing_rules.install()
    command_rules.install()
    window_schedule.install()
    change_calendar.install()
