"""moto's SendCommand refuses what AWS refuses: the output location, the document, its parameters, the instances.

moto 5.2 stores any ``OutputS3BucketName``, the empty string included. AWS refuses a bucket name
shorter than 3 or longer than 63 characters with ``ValidationException`` before anything runs:
SendCommand API reference, request parameter ``OutputS3BucketName`` ("Length Constraints:
Minimum length of 3. Maximum length of 63.", botocore's ``S3BucketName`` shape says the same).
boto3 checks the length on the client, but SSM Automation's ``aws:runCommand`` calls the API
from the service side, so a runbook that resolves the parameter to ``""`` fails there, in every
target location. The emulator refuses it at the API, where AWS does.

moto also runs a command for any document name, any parameters and any instance id. AWS refuses
(SendCommand API reference, Errors): a document that does not exist (``InvalidDocument``),
parameters the document does not declare or values it does not allow (``InvalidParameters``),
and instance ids that are not managed instances of the account and Region (``InvalidInstanceId``:
"the instance is not in a valid state ... SSM Agent isn't running or registered").
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

#: SendCommand API reference, OutputS3BucketName length constraints.
BUCKET_NAME_LENGTH = (3, 63)

#: Parameters of the AWS-owned documents the program sends (moto ships none of them), with their allowed
#: values where the document restricts them: AWS-RunPatchBaseline's parameters as the SSM User Guide's
#: "SSM Command document for patching: AWS-RunPatchBaseline" lists them.
AWS_DOCUMENT_PARAMETERS: dict[str, dict[str, tuple[str, ...] | None]] = {
    "AWS-RunPatchBaseline": {
        "Operation": ("Scan", "Install"),
        "SnapshotId": None,
        "InstallOverrideList": None,
        "BaselineOverride": None,
        "RebootOption": ("RebootIfNeeded", "NoReboot"),
    },
}


def document_refusal(account: str, region: str, name: str, parameters: dict[str, list[str]]) -> tuple[str, str] | None:
    """(error code, message) when AWS would refuse the document or its parameters, else ``None``."""
    import yaml
    from moto.ssm.models import ssm_backends

    declared: dict[str, tuple[str, ...] | None]
    if name in AWS_DOCUMENT_PARAMETERS:
        declared = AWS_DOCUMENT_PARAMETERS[name]
    elif name.startswith("AWS-"):
        return None  # another AWS-owned document: its parameters are not known here
    else:
        documents = ssm_backends[account][region]._documents.get(name)
        if documents is None:
            return "InvalidDocument", f"Document {name} does not exist in {account}/{region}."
        content = yaml.safe_load(documents.get_default_version().content) or {}
        declared = {
            key: tuple(spec.get("allowedValues") or ()) or None
            for key, spec in (content.get("parameters") or {}).items()
        }
    for key, values in parameters.items():
        if key not in declared:
            return "InvalidParameters", f"Parameter {key} is not declared by document {name}."
        allowed = declared[key]
        if allowed and any(v not in allowed for v in values):
            return "InvalidParameters", f"Parameter {key}: {values} is not one of {list(allowed)} in document {name}."
    return None


def instance_refusal(account: str, region: str, instance_ids: list[str]) -> str | None:
    """Why AWS refuses ``instance_ids`` (not managed in the account and Region), else ``None``."""
    from devkit.moto_extensions.ssm.models.patching import managed_instances

    managed = {item["InstanceId"] for item in managed_instances(account, region)}
    unknown = [i for i in instance_ids if i not in managed]
    if unknown:
        return f"Instances {unknown} not in a valid state for account {account} (not managed instances in {region})."
    return None


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
    from moto.core.exceptions import JsonRESTError
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
        refused = document_refusal(
            self.current_account, self.region, str(self._get_param("DocumentName")), self._get_param("Parameters") or {}
        )
        if refused:
            raise JsonRESTError(*refused)
        instances = self._get_param("InstanceIds") or []
        unmanaged = instance_refusal(self.current_account, self.region, list(instances)) if instances else None
        if unmanaged:
            raise JsonRESTError("InvalidInstanceId", unmanaged)
        return original(self)

    send_command._moto_original = original  # type: ignore[attr-defined]
    SimpleSystemManagerResponse.send_command = send_command  # type: ignore[method-assign]
