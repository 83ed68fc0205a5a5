"""The AWS partition of a region, so no ARN hard-codes ``aws`` (GovCloud and China work)."""

from __future__ import annotations

import functools

from botocore.regions import EndpointResolver

from .botocore_data import loader

#: SSM's ``endpointPrefix`` in botocore's SSM model (``metadata``): the service whose regions the program
#: supports. ``Session.get_available_regions("ssm")`` reads it by loading the whole SSM model;
#: tests/stacks/test_render_cost.py checks both give the same regions.
SSM_ENDPOINT_PREFIX = "ssm"


@functools.cache
def ssm_regions() -> dict[str, frozenset[str]]:
    """Partition -> the regions botocore's endpoint data lists for SSM in it, in botocore's partition order.

    Read once per program run, through the program's one botocore loader and without the SSM model: a fresh
    session per region (as ``partition_of`` once asked) parsed the 1.2 MB endpoint file and the SSM model
    once per region of the stack, and the config's region check once more
    (docs/child-stack.md#render-ratio)."""
    resolver = EndpointResolver(loader().load_data("endpoints"))
    return {
        partition: frozenset(resolver.get_available_endpoints(SSM_ENDPOINT_PREFIX, partition))
        for partition in resolver.get_available_partitions()
    }


@functools.cache
def partition_of(region: str) -> str:
    for partition, regions in ssm_regions().items():
        if region in regions:
            return partition
    raise ValueError(f"region {region!r} is in no partition botocore knows")
