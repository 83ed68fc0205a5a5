"""Who may call a CloudFormation custom resource of org-patching, and where its answer may go.

A custom resource function answers by PUT to the event's ``ResponseURL``. Anyone who can invoke the
function chooses that URL, so without a check the function would PUT (with its own network position) to any
host: a server-side request forgery. And anyone who can invoke it could ask it to move instances for a
stack that does not exist. So, before anything is read or written:

* the event must come from a Service Catalog stack of this function's own account and Region: ``StackId``
  ``arn:<partition>:cloudformation:<region>:<account>:stack/SC-<account>-pp-<id>/<uuid>`` (Service Catalog
  names a provisioned product's stack ``SC-<account>-pp-<provisioned product id>``);
* the answer goes only to an ``https`` URL on CloudFormation's pre-signed S3 response buckets,
  ``cloudformation-custom-resource-response-<region>`` in this Region, addressed the ways S3 accepts
  (``<bucket>.s3.amazonaws.com``, ``<bucket>.s3.<region>.amazonaws.com``, ``<bucket>.s3-<region>.amazonaws.com``,
  ``.amazonaws.com.cn`` in China), on the default port, with no user info: any other URL is never opened.

Pure functions (no I/O), so the rules are tested on their own and in the handler.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

_PARTITIONS = "aws|aws-cn|aws-us-gov"
_RESPONSE_BUCKET = "cloudformation-custom-resource-response-"


def origin_problem(stack_id: object, account: str, region: str) -> str | None:
    """Why ``stack_id`` is not a Service Catalog stack of ``account`` in ``region`` (``None``: it is)."""
    if not isinstance(stack_id, str):
        return f"StackId {stack_id!r} is not a CloudFormation stack ARN"
    pattern = (
        rf"arn:(?:{_PARTITIONS}):cloudformation:{re.escape(region)}:{re.escape(account)}:"
        rf"stack/SC-{re.escape(account)}-pp-[A-Za-z0-9]+/[A-Za-z0-9-]+"
    )
    if re.fullmatch(pattern, stack_id) is None:
        return (
            f"StackId {stack_id[:200]!r} is not a Service Catalog stack of account {account} in {region} "
            f"(arn:...:cloudformation:{region}:{account}:stack/SC-{account}-pp-<id>/<uuid>)"
        )
    return None


def response_url_problem(url: object, region: str) -> str | None:
    """Why CloudFormation's answer must not be sent to ``url`` (``None``: a pre-signed response URL of ``region``)."""
    if not isinstance(url, str):
        return "ResponseURL is missing"
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return "ResponseURL is not a URL"
    if parts.scheme != "https":
        return f"ResponseURL scheme {parts.scheme!r} is not https"
    if parts.username is not None or parts.password is not None or port not in (None, 443):
        return "ResponseURL carries user info or a port"
    host = (parts.hostname or "").lower()
    bucket = re.escape(_RESPONSE_BUCKET + region)
    region_part = re.escape(region)
    hosts = rf"{bucket}\.(?:s3|s3\.{region_part}|s3-{region_part})\.amazonaws\.com(?:\.cn)?"
    if re.fullmatch(hosts, host) is None:
        return f"ResponseURL host {host[:100]!r} is not CloudFormation's response bucket of {region}"
    return None
