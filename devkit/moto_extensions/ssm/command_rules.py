"""moto's SendCommand refuses what AWS refuses about the command's output location.

moto 5.2 stores any ``OutputS3BucketName``, the empty string included. AWS refuses a bucket name
shorter than 3 or longer than 63 characters with ``ValidationException`` before anything runs:
SendCommand API reference, request parameter ``OutputS3BucketName`` ("Length Constraints:
Minimum length of 3. Maximum length of 63.", botocore's ``S3BucketName`` shape says the same).
boto3 checks the length on the client, but SSM Automation's ``aws:runCommand`` calls the API
from the service side, so a runbook that resolves the parameter to ``""`` fails there, in every
target location. The emulator refuses it at the API, where AWS does.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

#: SendCommand API reference, OutputS3BucketName length constraints.
BUCKET_NAME_LENGTH = (3, 63)


def output_bucket_refusal(bucket: Any) -> str | None:
    """Why AWS refuses this ``OutputS3BucketName`` (``None``: absent or acceptable), worded as AWS words it."""
    if bucket is None:
        return None
    low, high = BUCKET_NAME_LENGTH
    if not isinstance(bucket, str) or not low <= len(bucket) <= high:
        bound = f"greater than or equal to {low}" if len(str(bucket)) < low else f"less than or equal to {high}"
        return (
            f"1 validation error detected: Value '{bucket}' at 'outputS3BucketName' failed to satisfy constraint: "
            f"Member must have length {bound}"
        )
    return None


def install() -> None:
    """Wrap moto's SSM ``send_command`` response (idempotent: the original is kept on the wrapper)."""
    from moto.core.responses import ActionResult
    from moto.ssm.exceptions import ValidationException
    from moto.ssm.responses import SimpleSystemManagerResponse

    original: Callable[[SimpleSystemManagerResponse], ActionResult] = getattr(
        SimpleSystemManagerResponse.send_command, "_moto_original", SimpleSystemManagerResponse.send_command
    )

    def send_command(self: SimpleSystemManagerResponse) -> ActionResult:
        message = output_bucket_refusal(self._get_param("OutputS3BucketName"))
        if message:
            raise ValidationException(message)
        return original(self)

    send_command._moto_original = original  # type: ignore[attr-defined]
    SimpleSystemManagerResponse.send_command = send_command  # type: ignore[method-assign]
