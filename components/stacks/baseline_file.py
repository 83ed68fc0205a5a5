"""The child stack's one resource in the hub account: its shard's ``BaselineOverride`` file.

The organization's patch baselines (``components/spoke/baseline_override.py``) are one JSON object in the hub's
patch-lists bucket, which every principal of the organization may read (the bucket policy's
``OrganizationReadsPatchLists``; the instance role reads ``<patchListBucket>/*``). The child stack writes it
with the deploying credentials themselves: they are the central deploy principal's, in the hub account (the
provider assumes no role, and ``allowed_account_ids`` makes other credentials fail at preview). One object per
child stack (shard), so shards with different patching settings never overwrite each other.
"""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from ..config import ChildConfig
from ..spoke.baseline_override import check_against_botocore, override_document, override_json, override_key
from ..spoke.hub_data import HubData
from .providers import account_provider


def declare_baseline_file(
    cfg: ChildConfig, hub: HubData, region: pulumi.Input[str] | None = None
) -> pulumi.Output[str]:
    """Write this stack's override file into the hub; the ``s3://`` URL the runbooks and the scan get.
    ``region``: the provider's, ``cfg.home_region`` by default (the child stack passes its checked one)."""
    check_against_botocore(override_document(cfg.patching))
    key = override_key(pulumi.get_stack())
    # Named by the central account's id like every account provider (the config refuses it as a child account).
    provider = account_provider(cfg.central_account_id, region or cfg.home_region, cfg.tags)
    written = aws.s3.BucketObjectv2(
        "baseline-override",
        bucket=hub.patch_list_bucket,
        key=key,
        content=override_json(cfg.patching),
        content_type="application/json",
        server_side_encryption="aws:kms",
        kms_key_id=hub.key_arn,
        region=hub.region,
        opts=pulumi.ResourceOptions(provider=provider),
    )
    return pulumi.Output.concat("s3://", written.bucket, "/", written.key)
