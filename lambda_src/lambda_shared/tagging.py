"""Deciding and writing the contract's tags: one plan, writes grouped by tag set, one error entry per failed call.

* Deciding is pure (:func:`plan`): the tag contract (``tag_contract.decide``) says what each resource must
  carry, and the plan groups the missing tags so that all instances needing the same tags are fixed by ONE
  ``CreateTags`` call (up to 1,000 ids per call, the documented limit). A resource that already carries the
  contract's tags is never written, so a second run makes zero writes.
* Doing (:func:`apply`) makes the planned writes through a :class:`~lambda_shared.fleet.Fleet`: one failure
  (AccessDenied, a throttle that outlasted the retries) becomes an ``errors`` entry with its account,
  region, action and resource ids, and never stops the other writes.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import tag_contract
from botocore.exceptions import BotoCoreError, ClientError

from .fleet import LIVE_STATES

#: What one AWS call can raise besides the service's answer: botocore's own errors (an endpoint that
#: cannot be reached, a region botocore does not know, a request its model refuses). Each is reported
#: like a service error, with its account and region, instead of failing the whole run into the DLQ.
AWS_CALL_ERRORS = (ClientError, BotoCoreError)

#: CreateTags accepts up to 1,000 resource ids per call (EC2 API reference, CreateTags "Constraints").
CREATE_TAGS_MAX_IDS = 1000
#: ASG results are keyed ``asg/<name>`` so they never collide with instance ids in one summary.
ASG_KEY_PREFIX = "asg/"

TagSet = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Resource:
    """An instance or an ASG as the contract sees it: an id, a kind and its tags."""

    key: str
    kind: tag_contract.ResourceKind
    tags: Mapping[str, str]
    #: ASG only: tag keys whose PropagateAtLaunch is true (the contract keeps its tags on the group only).
    propagated: frozenset[str] = frozenset()
    #: A reason it cannot be patched at all (a terminated instance, a group being deleted).
    state_skip: str | None = None


@dataclass
class Plan:
    """The writes one run must make, grouped so that identical tag sets share one call."""

    instance_batches: dict[TagSet, list[str]] = field(default_factory=dict)
    asg_writes: dict[str, dict[str, str]] = field(default_factory=dict)
    #: Exempt resources that still carry managed tags: keys to delete -> instance ids / group -> keys.
    instance_removals: dict[tuple[str, ...], list[str]] = field(default_factory=dict)
    asg_removals: dict[str, tuple[str, ...]] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)
    unchanged: list[str] = field(default_factory=list)


def tag_map(items: Iterable[Mapping[str, Any]] | None) -> dict[str, str]:
    """``[{"Key": .., "Value": ..}]`` (the describe shape) as a dict."""
    return {t["Key"]: t.get("Value", "") for t in items or []}


def instance_resource(instance: Mapping[str, Any]) -> Resource:
    """An EC2 DescribeInstances item as a contract resource."""
    state = instance.get("State", {}).get("Name")
    state_skip = f"instance is {state}" if state not in LIVE_STATES else None
    return Resource(
        key=instance["InstanceId"], kind="instance", tags=tag_map(instance.get("Tags")), state_skip=state_skip
    )


def asg_resource(group: Mapping[str, Any]) -> Resource:
    """An Auto Scaling DescribeAutoScalingGroups item as a contract resource."""
    propagated = frozenset(t["Key"] for t in group.get("Tags", []) if t.get("PropagateAtLaunch", False))
    state_skip = "Auto Scaling group is being deleted" if group.get("Status") == "Delete in progress" else None
    return Resource(
        key=f"{ASG_KEY_PREFIX}{group['AutoScalingGroupName']}",
        kind="asg",
        tags=tag_map(group.get("Tags")),
        propagated=propagated,
        state_skip=state_skip,
    )


def plan(resources: Iterable[Resource], custom_windows: Iterable[str]) -> Plan:
    """Decide, for every resource, the tags to write (nothing when already correct) or why it is skipped."""
    windows = frozenset(custom_windows)
    result = Plan()
    for resource in resources:
        if resource.state_skip:
            result.skipped[resource.key] = resource.state_skip
            continue
        decision = tag_contract.decide(resource.tags, windows, resource.kind)
        if decision.skip:
            result.skipped[resource.key] = decision.skip
            removals = decision.removals(resource.tags)
            if removals and resource.kind == "asg":
                result.asg_removals[resource.key.removeprefix(ASG_KEY_PREFIX)] = removals
            elif removals:
                result.instance_removals.setdefault(removals, []).append(resource.key)
            continue
        if decision.note:
            result.notes[resource.key] = decision.note
        changes = decision.changes(resource.tags)
        if resource.kind == "asg":
            # A correct value that propagates to new members is rewritten with PropagateAtLaunch=False.
            changes.update({k: v for k, v in decision.desired.items() if k in resource.propagated})
        if not changes:
            result.unchanged.append(resource.key)
        elif resource.kind == "asg":
            result.asg_writes[resource.key.removeprefix(ASG_KEY_PREFIX)] = dict(sorted(changes.items()))
        else:
            result.instance_batches.setdefault(tuple(sorted(changes.items())), []).append(resource.key)
    return result


def chunks(items: list[str], size: int) -> Iterator[list[str]]:
    """``items`` in consecutive slices of at most ``size``."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


def error_entry(account: str, region: str, action: str, ids: list[str], error: Exception) -> dict[str, Any]:
    """An ``errors`` item: where it happened, on what, and AWS's code and message."""
    code = (
        error.response.get("Error", {}).get("Code", "Unknown")
        if isinstance(error, ClientError)
        else type(error).__name__
    )
    return {
        "account": account,
        "region": region,
        "action": action,
        "resources": ids,
        "code": code,
        "message": str(error),
    }


class Writer(Protocol):
    """What :func:`apply` writes through (a :class:`~lambda_shared.fleet.Fleet`)."""

    region: str

    def tag_instances(self, instance_ids: list[str], tags: Mapping[str, str]) -> None: ...

    def tag_asg(self, name: str, tags: Mapping[str, str]) -> None: ...

    def untag_instances(self, instance_ids: list[str], keys: tuple[str, ...]) -> None: ...

    def untag_asg(self, name: str, keys: tuple[str, ...]) -> None: ...


def apply(
    writer: Writer, the_plan: Plan, account: str, dry_run: bool = False
) -> tuple[dict[str, dict[str, str]], list[dict[str, Any]]]:
    """Make the planned writes: (tagged resource -> tags written, error entries); one failed call is
    reported and the others still run. ``dry_run``: report the writes without making them."""
    tagged: dict[str, dict[str, str]] = {}
    errors: list[dict[str, Any]] = []
    for tag_set, ids in the_plan.instance_batches.items():
        tags = dict(tag_set)
        for batch in chunks(sorted(ids), CREATE_TAGS_MAX_IDS):
            try:
                if not dry_run:
                    writer.tag_instances(batch, tags)
            except AWS_CALL_ERRORS as error:
                errors.append(error_entry(account, writer.region, "ec2:CreateTags", batch, error))
                continue
            tagged.update(dict.fromkeys(batch, tags))
    for name, tags in sorted(the_plan.asg_writes.items()):
        try:
            if not dry_run:
                writer.tag_asg(name, tags)
        except AWS_CALL_ERRORS as error:
            errors.append(error_entry(account, writer.region, "autoscaling:CreateOrUpdateTags", [name], error))
            continue
        tagged[f"{ASG_KEY_PREFIX}{name}"] = tags
    return tagged, errors


def remove(
    writer: Writer, the_plan: Plan, account: str, dry_run: bool = False
) -> tuple[dict[str, tuple[str, ...]], list[dict[str, Any]]]:
    """Delete the managed tags of exempt resources: (resource -> keys deleted, error entries).

    Tag remediation calls it after :func:`apply` (it is the function allowed to delete the managed
    keys); window tagging only moves resources between windows and leaves exemptions to it.
    """
    untagged: dict[str, tuple[str, ...]] = {}
    errors: list[dict[str, Any]] = []
    for keys, ids in the_plan.instance_removals.items():
        for batch in chunks(sorted(ids), CREATE_TAGS_MAX_IDS):
            try:
                if not dry_run:
                    writer.untag_instances(batch, keys)
            except AWS_CALL_ERRORS as error:
                errors.append(error_entry(account, writer.region, "ec2:DeleteTags", batch, error))
                continue
            untagged.update(dict.fromkeys(batch, keys))
    for name, keys in sorted(the_plan.asg_removals.items()):
        try:
            if not dry_run:
                writer.untag_asg(name, keys)
        except AWS_CALL_ERRORS as error:
            errors.append(error_entry(account, writer.region, "autoscaling:DeleteTags", [name], error))
            continue
        untagged[f"{ASG_KEY_PREFIX}{name}"] = keys
    return untagged, errors
