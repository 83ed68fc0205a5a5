"""The AWS partition of a region, so no ARN hard-codes ``aws`` (GovCloud and China work)."""

from __future__ import annotations

import functools

import botocore.session


@functools.cache
def partition_of(region: str) -> str:
    session = botocore.session.get_session()
    for partition in session.get_available_partitions():
        if region in session.get_available_regions("ssm", partition_name=partition):
            return partition
    raise ValueError(f"region {region!r} is in no partition botocore knows")
