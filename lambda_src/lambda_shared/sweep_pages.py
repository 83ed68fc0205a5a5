"""The scheduled tag sweep, one DescribeInstances page at a time, across invocations when its time runs out.

A sweep of one account-region reads its instances in pages of 1,000 (DescribeInstances' maximum) and writes each
page's tags before it reads the next, so it can stop at any page boundary with nothing half-done. After each page
it asks the Lambda context how much time is left (``get_remaining_time_in_millis``); below :data:`MARGIN_MS` it
stops there and starts the next invocation of ITSELF asynchronously (``Invoke``, ``InvocationType=Event``) with
a resume event that says where to start: the EC2 ``NextToken`` of the next page. No checkpoint store, no new
resource: the role may invoke exactly its own function ARN (``components/spoke/baseline_policies.py``), and a
resume that Lambda cannot deliver after its retries lands in the function's existing dead-letter queue.

Why a forged resume event cannot widen anything: the event names only WHERE to start (a token, checked against
EC2's own token alphabet and length here and by EC2 itself, which refuses a token it never issued) and which
invocation of the chain this is. What is read (this account-region's live instances), what is decided (the tag
contract) and what is written stay the function's own; the region is checked like a scheduled event's. A bad
resume is refused in one line before any AWS call. The chain is capped at :data:`MAX_INVOCATIONS`, below the
16 invocations of one chain after which Lambda's recursive loop detection stops a function ("Use Lambda
recursive loop detection to prevent infinite loops", Lambda Developer Guide), and each invocation does at least
one page, so a chain always ends.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from .clients import client
from .fleet import DESCRIBE_INSTANCES_PAGE, LIVE_STATES

#: The resume event: sent by the function to itself, never by EventBridge.
RESUME_DETAIL_TYPE = "org-patching Sweep Resume"
RESUME_SOURCE = "org-patching.tag-remediation"
#: Stop when less than this is left after a page: one more page (a describe and its writes at a few seconds
#: per call, with retries under throttling), the Auto Scaling groups, the profile check and the resume call.
MARGIN_MS = 120_000
#: Invocations of one sweep chain, the scheduled one included (Lambda stops a chain at 16).
MAX_INVOCATIONS = 15
#: EC2's NextToken is opaque; what AWS and the emulator issue is base64 text. Anything else is refused unread.
TOKEN_PATTERN = re.compile(r"^[A-Za-z0-9+/=_-]{1,4096}\Z", re.ASCII)
RESUME_KEYS = frozenset({"nextToken", "invocation"})
#: Instances per page (DescribeInstances' documented maximum; tests shrink it to page a small fleet).
PAGE_SIZE = DESCRIBE_INSTANCES_PAGE


class BadResume(ValueError):
    """A resume event that does not say where to start; the message names the field and the value."""


@dataclass(frozen=True)
class Resume:
    """Where an invocation starts: the page after ``next_token``, as invocation ``invocation`` of the chain."""

    next_token: str
    invocation: int


def parse_resume(detail: Any) -> Resume:
    """The resume a resume event's ``detail`` carries, or :class:`BadResume` saying why not."""
    if not isinstance(detail, Mapping):
        raise BadResume(f"detail: expected an object with {sorted(RESUME_KEYS)}, got {type(detail).__name__}")
    extra = set(detail) - RESUME_KEYS
    if extra:
        raise BadResume(
            f"detail: unexpected keys {sorted(map(str, extra))} (a resume names only {sorted(RESUME_KEYS)})"
        )
    token, invocation = detail.get("nextToken"), detail.get("invocation")
    if not isinstance(token, str) or not TOKEN_PATTERN.match(token):
        raise BadResume(f"detail.nextToken: {str(token)[:80]!r} is not an EC2 page token")
    if isinstance(invocation, bool) or not isinstance(invocation, int) or not 2 <= invocation <= MAX_INVOCATIONS:
        raise BadResume(f"detail.invocation: {invocation!r} is not an invocation number from 2 to {MAX_INVOCATIONS}")
    return Resume(token, invocation)


def resume_event(account: str, region: str, resume: Resume) -> dict[str, Any]:
    """The event the next invocation receives (EventBridge's envelope, so it parses like the scheduled one)."""
    return {
        "version": "0",
        "id": f"org-patching-sweep-{region}-{resume.invocation}",
        "detail-type": RESUME_DETAIL_TYPE,
        "source": RESUME_SOURCE,
        "account": account,
        "region": region,
        "resources": [],
        "detail": {"nextToken": resume.next_token, "invocation": resume.invocation},
    }


def instance_pages(ec2: Any, start: str | None) -> Iterator[tuple[list[Mapping[str, Any]], str | None]]:
    """(instances, token of the next page or ``None``) per DescribeInstances page of live instances, from
    ``start`` (a page token) or the first page."""
    token = start
    while True:
        kwargs: dict[str, Any] = {
            "Filters": [{"Name": "instance-state-name", "Values": list(LIVE_STATES)}],
            "MaxResults": PAGE_SIZE,
        }
        if token:
            kwargs["NextToken"] = token
        page = ec2.describe_instances(**kwargs)
        instances = [i for r in page.get("Reservations", []) for i in r.get("Instances", [])]
        token = page.get("NextToken") or None
        yield instances, token
        if token is None:
            return


def remaining_ms(context: Any) -> int | None:
    """What the Lambda context says is left, or ``None`` without one (a test or a script: never stop)."""
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    return int(remaining()) if callable(remaining) else None


def out_of_time(context: Any) -> bool:
    left = remaining_ms(context)
    return left is not None and left < MARGIN_MS


def own_function_arn(context: Any) -> str | None:
    """The function's unqualified ARN (an alias or version suffix dropped), from the context."""
    parts = str(getattr(context, "invoked_function_arn", "") or "").split(":")
    return ":".join(parts[:7]) if len(parts) >= 7 and parts[5] == "function" else None


def invoke_next(context: Any, event: Mapping[str, Any]) -> None:
    """Start the next invocation of this function, asynchronously (the caller does not wait for it)."""
    arn = own_function_arn(context)
    if arn is None:
        raise ValueError("no Lambda context: the sweep cannot resume itself")
    client("lambda", arn.split(":")[3]).invoke(
        FunctionName=arn, InvocationType="Event", Payload=json.dumps(event).encode()
    )
