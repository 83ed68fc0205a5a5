"""The EC2, Auto Scaling and SSM calls of the tag-writing functions in one account and region.

Every describe pages (seed bug 14: one ``MaxResults=1000`` page and no token); every write is one
documented batch: ``CreateTags`` for up to 1,000 instances that need the same tags, one
``CreateOrUpdateTags`` per group (the API documents one group per call), propagated at launch.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import tag_contract

from .clients import client

#: Instances in these states can still be patched later (stopped ones too: seed bug 11 left them stale).
LIVE_STATES = ("pending", "running", "stopping", "stopped")
#: DescribeInstances page size (its documented maximum); ASG pages are at most 100.
DESCRIBE_INSTANCES_PAGE = 1000
DESCRIBE_ASGS_PAGE = 100


class Fleet:
    """Paged describes and tagging calls, with clients whose retries come from the environment."""

    def __init__(self, region: str | None = None) -> None:
        self.ec2 = client("ec2", region)
        self.autoscaling = client("autoscaling", region)
        self.ssm = client("ssm", region)
        self.region: str = self.ec2.meta.region_name

    def custom_windows(self) -> set[str]:
        """Names of the contract's custom windows that exist here: environment windows and team windows."""
        return set(self.windows().values())

    def windows(self) -> dict[str, str]:
        """Window id -> name of every contract window here except Default (team windows are named by teams,
        so they are selected by the contract's pattern, not by a fixed list of names)."""
        found: dict[str, str] = {}
        paginator = self.ssm.get_paginator("describe_maintenance_windows")
        for page in paginator.paginate():
            for window in page.get("WindowIdentities", []):
                name = window.get("Name")
                if isinstance(name, str) and tag_contract.window_environment(name) is not None:
                    found[str(window["WindowId"])] = name
        return found

    def instances(
        self, instance_ids: list[str] | None = None, filters: Iterable[Mapping[str, Any]] = ()
    ) -> Iterator[Mapping[str, Any]]:
        """The given ids (any state, so the caller can say why one is skipped), or every instance in a
        live state that also matches ``filters``."""
        paginator = self.ec2.get_paginator("describe_instances")
        if instance_ids:
            pages = paginator.paginate(InstanceIds=instance_ids)
        else:
            pages = paginator.paginate(
                Filters=[{"Name": "instance-state-name", "Values": list(LIVE_STATES)}, *filters],
                PaginationConfig={"PageSize": DESCRIBE_INSTANCES_PAGE},
            )
        for page in pages:
            for reservation in page.get("Reservations", []):
                yield from reservation.get("Instances", [])

    def asgs(self, names: list[str] | None = None) -> Iterator[Mapping[str, Any]]:
        """All Auto Scaling groups, or the named ones."""
        paginator = self.autoscaling.get_paginator("describe_auto_scaling_groups")
        kwargs: dict[str, Any] = {"PaginationConfig": {"PageSize": DESCRIBE_ASGS_PAGE}}
        if names:
            kwargs["AutoScalingGroupNames"] = names
        for page in paginator.paginate(**kwargs):
            yield from page.get("AutoScalingGroups", [])

    def tag_instances(self, instance_ids: list[str], tags: Mapping[str, str]) -> None:
        """One CreateTags call for up to 1,000 instances that need the same tags."""
        self.ec2.create_tags(Resources=instance_ids, Tags=[{"Key": k, "Value": v} for k, v in tags.items()])

    def tag_asg(self, name: str, tags: Mapping[str, str]) -> None:
        """CreateOrUpdateTags for one group. The tags stay on the group (``PropagateAtLaunch`` false): the
        rebake patches its members by replacing them, and members that carried ``Patch Group`` and
        ``maintenance_window`` would also be patched in place by every window and emergency wave."""
        self.autoscaling.create_or_update_tags(
            Tags=[
                {
                    "ResourceId": name,
                    "ResourceType": "auto-scaling-group",
                    "Key": key,
                    "Value": value,
                    "PropagateAtLaunch": False,
                }
                for key, value in tags.items()
            ]
        )

    def untag_instances(self, instance_ids: list[str], keys: tuple[str, ...]) -> None:
        """One DeleteTags call: without a ``Value`` a tag is deleted whatever its value (EC2 API
        reference, DeleteTags), so a stale window name goes too."""
        self.ec2.delete_tags(Resources=instance_ids, Tags=[{"Key": key} for key in keys])

    def untag_asg(self, name: str, keys: tuple[str, ...]) -> None:
        """DeleteTags for one group (ResourceId, ResourceType and Key identify a group tag)."""
        self.autoscaling.delete_tags(
            Tags=[{"ResourceId": name, "ResourceType": "auto-scaling-group", "Key": key} for key in keys]
        )
