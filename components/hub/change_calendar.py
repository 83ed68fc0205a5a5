"""The organization's change freeze: one SSM Change Calendar in the hub, shared with every child account.

Why a Change Calendar: it is the AWS-native freeze switch (``GetCalendarState`` answers ``OPEN`` or ``CLOSED``),
Change Manager and the console show it, and one shared document serves every account-region (no per-account
resource: the child stack's budget is untouched). The calendar is ``DEFAULT_OPEN`` and each configured freeze
(``org-patching:changeFreeze``, :mod:`components.config_freeze`) is one event, so it is CLOSED exactly during a
freeze. It always exists (no freeze: always OPEN), so the child stack can name it without reading the hub.

Who reads it: the runbooks' first step (``components/runbooks/change_gate.py``) with the calendar's ARN, which the
window tasks pass; a CLOSED calendar turns an Install into a Scan and keeps the ASG rebake from starting. The
emergency validation refuses a rollout while it is CLOSED unless the request says ``freeze_override: true``.

Sources: AWS Systems Manager User Guide, "Change Calendar" (calendar types ``DEFAULT_OPEN``/``DEFAULT_CLOSED``,
iCalendar 2.0 content, sharing a calendar with other accounts as an SSM document) and the API reference of
``GetCalendarState`` ("calendar name or document ARN"; a shared calendar is named by its ARN).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from .. import naming
from ..config_freeze import ChangeFreezeConfig, FreezeConfig
from .emergency_patching import share_with

#: The calendar type line SSM reads from the iCalendar content (User Guide, "Creating a change calendar").
CALENDAR_TYPE = "DEFAULT_OPEN"
PRODUCT_ID = "-//AWS//Change Calendar 1.0//EN"


def _stamp(freeze: FreezeConfig, which: str) -> str:
    moment = freeze.start if which == "start" else freeze.end
    return moment.strftime("%Y%m%dT%H%M%SZ")


def _escape(text: str) -> str:
    """RFC 5545 3.3.11 TEXT: backslash, comma and semicolon are escaped."""
    return text.replace("\\", "\\\\").replace(",", "\\,").replace(";", "\\;")


def calendar_content(config: ChangeFreezeConfig) -> str:
    """The iCalendar 2.0 document: ``DEFAULT_OPEN``, one ``VEVENT`` per freeze (UTC times, CRLF lines).

    ``DTSTAMP`` is the freeze's start, not the deploy time, so the content (and the document's version) changes
    only when the freezes do."""
    lines = [
        "BEGIN:VCALENDAR",
        f"PRODID:{PRODUCT_ID}",
        "VERSION:2.0",
        f"X-CALENDAR-TYPE:{CALENDAR_TYPE}",
        "X-WR-CALDESC:org-patching change freezes (org-patching:changeFreeze)",
    ]
    for index, freeze in enumerate(sorted(config.freezes, key=lambda f: (f.start, f.name))):
        lines += [
            "BEGIN:VEVENT",
            f"UID:org-patching-freeze-{index + 1}-{_stamp(freeze, 'start')}",
            f"DTSTAMP:{_stamp(freeze, 'start')}",
            f"SUMMARY:{_escape(freeze.name)}",
            f"DTSTART:{_stamp(freeze, 'start')}",
            f"DTEND:{_stamp(freeze, 'end')}",
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    return "\r\n".join(lines) + "\r\n"


@dataclass
class ChangeCalendarArgs:
    config: ChangeFreezeConfig
    account_id: str
    #: The hub's home Region (the emergency approval gate reads the calendar there).
    region: str
    partition: str
    #: Child accounts the calendar is shared with (as the emergency runbooks are).
    shared_with: Sequence[str] = ()
    #: Regions the child stacks patch: SSM documents are regional and shared within their Region, so the hub keeps
    #: one identical copy per Region and each runbook reads the copy of its own Region.
    regions: Sequence[str] = ()


class ChangeCalendar(pulumi.ComponentResource):
    #: Region -> the calendar document there.
    documents: dict[str, aws.ssm.Document]
    arn: str

    def __init__(self, name: str, args: ChangeCalendarArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("org-patching:hub:ChangeCalendar", name, None, opts)
        self.arn = naming.change_calendar_arn(args.partition, args.region, args.account_id)
        content = calendar_content(args.config)
        regions = [args.region, *sorted(set(args.regions) - {args.region})]
        self.documents = {
            region: aws.ssm.Document(
                f"{name}-{region}",
                name=naming.CHANGE_CALENDAR,
                document_type="ChangeCalendar",
                document_format="TEXT",
                content=content,
                permissions=share_with(args.shared_with, args.account_id),
                region=region,
                opts=pulumi.ResourceOptions(parent=self),
            )
            for region in regions
        }
        self.register_outputs({"arn": self.arn})
