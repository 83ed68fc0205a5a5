"""``org-patching:notices``: the pre-patch notices every window's team gets before the window runs (issue 16 item 1).

A section of its own (read by ``CentralConfig``) so the notices' knobs stay in one place: where the notices go
(one hub topic per team, or one per child account-region), how long before a window, how often the hub looks at
the windows, and who subscribes by email. The windows' schedules are NOT here: the hub reads them from the live
windows every run, so a team that moves its window needs no redeploy.
"""

from __future__ import annotations

import re
from typing import Literal

import tag_contract
from pydantic import Field, field_validator

from .config_types import Email, Model


class NoticesConfig(Model):
    """Pre-patch notices (``docs/patch-events.md``, "Pre-patch notices")."""

    enabled: bool = True
    #: ``team``: one hub topic per team of ``teams`` plus ``defaultTeam``'s; ``accountRegion``: one hub topic per
    #: child account and region of the central stack (every window there, whatever its team).
    topic_per: Literal["team", "accountRegion"] = "team"
    #: A window's team hears about a run this many hours before it (at the first check inside that lead time).
    lead_hours: int = Field(default=24, ge=1, le=168)
    #: How often the hub reads every account-region's windows; a notice comes at most this late.
    check_every_minutes: int = Field(default=60, ge=5, le=1440)
    #: Teams with a topic of their own (``topicPer: team``), each with its email subscribers (may be empty: chat
    #: tools and the teams' own accounts subscribe to the topic themselves, the topic lets the organization in).
    teams: dict[str, list[Email]] = Field(default_factory=dict)
    #: Gets the notices of windows and resources without a team, and of teams without a topic of their own.
    default_team: str = "platform"
    #: A notice lists at most this many instances and this many ASGs by id; the counts are always whole.
    max_listed: int = Field(default=25, ge=1, le=200)

    @field_validator("default_team")
    @classmethod
    def _default_team(cls, value: str) -> str:
        return _team(value)

    @field_validator("teams")
    @classmethod
    def _teams(cls, values: dict[str, list[Email]]) -> dict[str, list[Email]]:
        for team in values:
            _team(team)
        return values

    def rule_schedule(self) -> str:
        """The hub rule's ``rate(...)`` (singular unit for 1, as EventBridge requires)."""
        minutes = self.check_every_minutes
        if minutes % 60 == 0:
            hours = minutes // 60
            return f"rate({hours} hour{'s' if hours != 1 else ''})"
        return f"rate({minutes} minutes)"

    def topic_teams(self) -> list[str]:
        """The teams with a hub topic: ``defaultTeam`` first, then ``teams`` in order."""
        return [self.default_team, *(team for team in self.teams if team != self.default_team)]


def _team(value: str) -> str:
    if not re.fullmatch(tag_contract.TEAM_NAME_PATTERN, value):
        raise ValueError(f"team {value!r} does not match {tag_contract.TEAM_NAME_PATTERN} (the patch_team tag's names)")
    return value
