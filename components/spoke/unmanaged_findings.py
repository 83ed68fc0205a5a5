"""The tag sweep writes its unmanaged instances into the hub's lake: the function's settings and permissions.

The profile check's findings (``lambda_src/lambda_shared/unmanaged_findings.py``) go to the hub's inventory bucket
(the one resource data sync writes to, which the child stack already knows from the hub's outputs), under
``unmanaged/accountid=<this account>/``. Nothing is created per account-region for it: environment variables on
the existing tag-remediation function and two statements in its role's existing ``org-patching`` policy, present
only while ``patching.instanceProfiles.check`` is on. Each is as narrow as IAM allows (actions, resources and
condition keys from the Service Authorization Reference, as parliament ships it):

* ``s3:PutObject`` on ``<bucket>/unmanaged/accountid=<this account>/*`` only, and only with the hub's key named
  (``s3:x-amz-server-side-encryption-aws-kms-key-id``); no read, no delete, no other prefix or account;
* ``kms:GenerateDataKey`` on the hub's key only, only through S3 in the hub's region (``kms:ViaService``) and only
  for that bucket (``kms:EncryptionContext:aws:s3:arn``: the hub's buckets use S3 Bucket Keys, so the context is the
  bucket's ARN; Amazon S3 User Guide, "Encryption context"). A single PUT needs no ``kms:Decrypt``.

The hub's side (bucket policy and key policy, org-scoped) is ``components/hub/unmanaged_table.py``.
"""

from __future__ import annotations

import pulumi

from .. import naming
from ..config import InstanceProfilesConfig
from ..policy_documents import Statement, allow
from .baseline_policies import AccountScope
from .hub_data import HubData


def function_variables(hub: HubData, cfg: InstanceProfilesConfig) -> dict[str, pulumi.Input[str]]:
    """The tag-remediation function's environment for the lake (read by ``Destination.from_env``); empty while
    the check is off, so the function writes nothing."""
    if not cfg.check:
        return {}
    return {
        "UNMANAGED_LAKE_BUCKET": hub.inventory_bucket,
        "UNMANAGED_LAKE_PREFIX": naming.UNMANAGED_PREFIX,
        "UNMANAGED_LAKE_KEY_ARN": hub.key_arn,
        "UNMANAGED_LAKE_REGION": hub.region,
        "UNMANAGED_LAKE_OWNER": hub.account_id,
    }


def statements(scope: AccountScope, cfg: InstanceProfilesConfig) -> list[Statement]:
    """What the tag-remediation role needs to write this account's findings, and nothing more."""
    if not cfg.check:
        return []
    bucket = pulumi.Output.concat(f"{scope.arn}:s3:::", scope.hub.inventory_bucket)
    return [
        allow(
            ["s3:PutObject"],
            [pulumi.Output.concat(bucket, f"/{naming.UNMANAGED_PREFIX}/accountid={scope.account_id}/*")],
            sid="WriteOwnUnmanagedFindings",
            conditions={"StringEquals": {"s3:x-amz-server-side-encryption-aws-kms-key-id": scope.hub.key_arn}},
        ),
        allow(
            ["kms:GenerateDataKey"],
            [scope.hub.key_arn],
            sid="EncryptUnmanagedFindings",
            conditions={
                "StringEquals": {
                    "kms:ViaService": pulumi.Output.concat("s3.", scope.hub.region, ".amazonaws.com"),
                    "kms:EncryptionContext:aws:s3:arn": bucket,
                }
            },
        ),
    ]
