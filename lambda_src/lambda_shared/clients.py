"""boto3 clients for the functions, with botocore's own retry settings from the environment.

botocore reads ``AWS_RETRY_MODE`` (``standard`` | ``adaptive`` | ``legacy``) and ``AWS_MAX_ATTEMPTS``
(total attempts, the first included) itself; the program sets both on every function
(``standard``, ``10``), so throttling at fleet scale is retried instead of dropping resources, and a
bad value fails the client's creation with botocore's own message. No hand-written ``Config``.
"""

from __future__ import annotations

from typing import Any

import boto3


def client(service: str, region: str | None = None) -> Any:
    """A client of the default session (the function's role), in ``region`` or the function's own."""
    return boto3.client(service, region_name=region)
