"""The emulator's SendCommand refuses an empty (or too long) OutputS3BucketName, as AWS does.

boto3 checks the length on the client; SSM Automation's ``aws:runCommand`` does not go through
it, so the request is sent with client-side validation off, as the service side would.
"""

from __future__ import annotations

import boto3
import botocore.session
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from devkit.moto_extensions.ssm.command_rules import BUCKET_NAME_LENGTH
from tests import aws

ACCOUNT, REGION = aws.ACCOUNTS[0], aws.REGIONS[0]


def _ssm_without_client_checks() -> object:
    session: boto3.session.Session = aws.session(ACCOUNT, REGION)
    return session.client("ssm", config=Config(parameter_validation=False))


def test_the_limits_are_botocores() -> None:
    shape = botocore.session.get_session().get_service_model("ssm").shape_for("SendCommandRequest")
    bucket = shape.members["OutputS3BucketName"]
    assert (bucket.metadata["min"], bucket.metadata["max"]) == BUCKET_NAME_LENGTH


@pytest.mark.parametrize("bucket", ["", "ab", "b" * 64])
def test_send_command_refuses_a_bad_output_bucket(moto_aws: None, bucket: str) -> None:
    ssm = _ssm_without_client_checks()
    with pytest.raises(ClientError) as raised:
        ssm.send_command(  # type: ignore[attr-defined]
            DocumentName="AWS-RunPatchBaseline",
            InstanceIds=["i-0123456789abcdef0"],
            Parameters={"Operation": ["Scan"]},
            OutputS3BucketName=bucket,
        )
    assert raised.value.response["Error"]["Code"] == "ValidationException"
    assert "outputS3BucketName" in raised.value.response["Error"]["Message"]
    assert ssm.list_commands()["Commands"] == []  # type: ignore[attr-defined]


def test_send_command_accepts_a_bucket_name_or_none(moto_aws: None) -> None:
    ssm = _ssm_without_client_checks()
    sess = aws.session(ACCOUNT, REGION)
    [managed] = aws.run_instances(sess, {"environment": "Dev"}, profile=aws.create_instance_profile(sess))
    for extra in ({}, {"OutputS3BucketName": "org-patching-patch-logs"}):
        ssm.send_command(  # type: ignore[attr-defined]
            DocumentName="AWS-RunPatchBaseline", InstanceIds=[managed], Parameters={}, **extra
        )
    assert len(ssm.list_commands()["Commands"]) == 2  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("request_", "code"),
    [
        ({"DocumentName": "No-Such-Document"}, "InvalidDocument"),
        ({"DocumentName": "AWS-RunPatchBaseline", "Parameters": {"Bogus": ["x"]}}, "InvalidParameters"),
        ({"DocumentName": "AWS-RunPatchBaseline", "Parameters": {"Operation": ["Patch"]}}, "InvalidParameters"),
        ({"DocumentName": "AWS-RunPatchBaseline", "Parameters": {"RebootOption": ["Always"]}}, "InvalidParameters"),
    ],
)
def test_send_command_refuses_what_the_document_does_not_allow(
    moto_aws: None, request_: dict[str, object], code: str
) -> None:
    sess = aws.session(ACCOUNT, REGION)
    [managed] = aws.run_instances(sess, {"environment": "Dev"}, profile=aws.create_instance_profile(sess))
    with pytest.raises(ClientError) as raised:
        sess.client("ssm").send_command(InstanceIds=[managed], **request_)
    assert raised.value.response["Error"]["Code"] == code


def test_send_command_runs_only_on_managed_instances(moto_aws: None) -> None:
    sess = aws.session(ACCOUNT, REGION)
    [managed] = aws.run_instances(sess, {"environment": "Dev"}, profile=aws.create_instance_profile(sess))
    [plain] = aws.run_instances(sess, {"environment": "Dev"})  # no instance profile: the agent cannot register
    ssm = sess.client("ssm")
    request = {"DocumentName": "AWS-RunPatchBaseline", "Parameters": {"Operation": ["Scan"]}}
    with pytest.raises(ClientError) as raised:
        ssm.send_command(InstanceIds=[managed, plain], **request)
    assert raised.value.response["Error"]["Code"] == "InvalidInstanceId" and plain in str(raised.value)
    sent = ssm.send_command(InstanceIds=[managed], **request)["Command"]
    assert ssm.list_commands(CommandId=sent["CommandId"])["Commands"][0]["DocumentName"] == "AWS-RunPatchBaseline"
