"""What a spoke needs from the hub: the central stack's outputs, read through its StackReference."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi


@dataclass
class HubData:
    """The hub's outputs a spoke needs (Outputs from the central stack's StackReference)."""

    key_arn: pulumi.Input[str]
    inventory_bucket: pulumi.Input[str]
    inventory_prefix: pulumi.Input[str]
    patch_log_bucket: pulumi.Input[str]
    patch_list_bucket: pulumi.Input[str]
    #: Region of the hub's buckets (resource data sync needs it): the central stack's ``homeRegion``.
    region: pulumi.Input[str]
    administration_role_arn: pulumi.Input[str]
    #: The central (hub) account: owner of the runbooks the windows run by ARN and of the patch-event bus.
    account_id: str
    #: The organization's change calendar (``naming.change_calendar_arn``): the runbooks read its state.
    change_calendar_arn: str | None = None
