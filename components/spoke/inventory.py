"""Inventory of one account-region, declared under its ``RegionalSpoke``, and its way to the hub.

AWS-GatherSoftwareInventory runs on instances with a ``Patch Group`` tag (the contract's
instances, not ``InstanceIds=*``, which clashes with Quick Setup/DHMC inventory associations:
one inventory association per instance), and a resource data sync writes inventory and patch
compliance into the hub's inventory bucket, encrypted with the hub's key.
"""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from .. import naming
from ..contract import PATCH_GROUP_TAG
from .hub_data import HubData


def declare_inventory(
    name: str, account_id: str, region: str, schedule: str, hub: HubData, opts: pulumi.ResourceOptions
) -> tuple[aws.ssm.Association, aws.ssm.ResourceDataSync]:
    """The inventory association and the resource data sync. ``opts`` carries the spoke as parent."""
    association = aws.ssm.Association(
        f"{name}-inventory",
        association_name=naming.INVENTORY_ASSOCIATION,
        name="AWS-GatherSoftwareInventory",
        schedule_expression=schedule,
        # Instances in the tag contract (the tag remediation gives every patchable instance a
        # Patch Group); InstanceIds=* would collide with an existing inventory association.
        targets=[aws.ssm.AssociationTargetArgs(key="tag-key", values=[PATCH_GROUP_TAG])],
        parameters={
            "applications": "Enabled",
            "awsComponents": "Enabled",
            "networkConfig": "Enabled",
            "windowsUpdates": "Enabled",
            "instanceDetailedInformation": "Enabled",
            "services": "Enabled",
            "windowsRoles": "Enabled",
            "customInventory": "Enabled",
            "billingInfo": "Enabled",
        },
        output_location=aws.ssm.AssociationOutputLocationArgs(
            s3_bucket_name=hub.patch_log_bucket,
            s3_key_prefix=f"{account_id}/inventory-execution-logs/{region}",
            s3_region=hub.region,
        ),
        region=region,
        opts=opts,
    )
    data_sync = aws.ssm.ResourceDataSync(
        f"{name}-data-sync",
        name=naming.RESOURCE_DATA_SYNC,
        s3_destination=aws.ssm.ResourceDataSyncS3DestinationArgs(
            bucket_name=hub.inventory_bucket,
            region=hub.region,
            prefix=hub.inventory_prefix,
            kms_key_arn=hub.key_arn,
            sync_format="JsonSerDe",
        ),
        region=region,
        opts=opts,
    )
    return association, data_sync
