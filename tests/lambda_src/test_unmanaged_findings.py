"""The sweep writes its unmanaged instances into the hub's lake (issue 15.4), on the emulator.

The hub's bucket lives in another account: the sweep runs as the child account and puts one object per
account-region and day; a second sweep the same day overwrites it; a write that fails is an ``errors`` entry and
the tags are still written. The permissions of that write are judged in ``tests/devkit/test_iam_replay.py``.
"""

from __future__ import annotations

import importlib
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from lambda_shared.unmanaged_findings import Destination, publish

from devkit.moto_extensions.awslambda.models import lambda_context
from patchctl.report.unmanaged import load_unmanaged
from tests import aws

app = importlib.import_module("lambda_src.tag_remediation.app")
FUNCTION = "org-patching-tag-remediation"
HUB, ACCOUNT, REGION = aws.ACCOUNTS[0], aws.ACCOUNTS[1], aws.REGIONS[1]
HUB_REGION = aws.REGIONS[0]
BUCKET = "org-patching-inventory-test"
KEY_ARN = f"arn:aws:kms:{HUB_REGION}:{HUB}:key/11111111-2222-3333-4444-555555555555"
LAKE = {
    "UNMANAGED_LAKE_BUCKET": BUCKET,
    "UNMANAGED_LAKE_PREFIX": "unmanaged",
    "UNMANAGED_LAKE_KEY_ARN": KEY_ARN,
    "UNMANAGED_LAKE_REGION": HUB_REGION,
    "UNMANAGED_LAKE_OWNER": HUB,
}
SCHEDULED = {"version": "0", "id": "s1", "detail-type": "Scheduled Event", "source": "aws.events", "detail": {}}


@pytest.fixture
def lake(moto_aws: None, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The hub's bucket, and a child account-region with an unmanaged instance, a managed one and an exempt one."""
    aws.session(HUB, HUB_REGION).client("s3").create_bucket(Bucket=BUCKET)
    for name, value in LAKE.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("PATCHING_INSTANCE_PROFILE", "")  # report only: the instance stays unmanaged
    sess = aws.session(ACCOUNT, REGION)
    aws.create_instance_profile(sess)
    return {
        "bare": aws.run_instances(sess, {"environment": "Prod"})[0],
        "managed": aws.run_instances(sess, {"environment": "Dev"}, profile="InstanceProfileforPatching")[0],
        "exempt": aws.run_instances(sess, {"environment": "Prod", "install_patch": "no"})[0],
    }


def sweep(deny: tuple[str, ...] = (), service: str = "s3") -> dict[str, Any]:
    with aws.as_account(ACCOUNT, REGION) as default:
        if deny:
            aws.deny(default.events, deny, service=service)
        result: dict[str, Any] = app.handler(
            {**SCHEDULED, "account": ACCOUNT, "region": REGION}, lambda_context(FUNCTION, ACCOUNT, REGION)
        )
        return result


def objects() -> dict[str, bytes]:
    s3 = aws.session(HUB, HUB_REGION).client("s3")
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])]
    return {key: s3.get_object(Bucket=BUCKET, Key=key)["Body"].read() for key in keys}


def test_a_sweep_writes_one_object_per_day_that_the_report_reads_as_is(lake: dict[str, str], tmp_path: Any) -> None:
    result = sweep()
    day = datetime.now(UTC).strftime("%Y-%m-%d")
    key = f"unmanaged/accountid={ACCOUNT}/region={REGION}/dt={day}/findings.jsonl"
    assert result["unmanagedLake"] == f"s3://{BUCKET}/{key}" and result["errors"] == []
    [(written, body)] = objects().items()
    assert written == key
    first, *lines = [json.loads(line) for line in body.decode().splitlines()]
    assert first["sweep"] is True and first["unmanagedCount"] == 1 and first["checked"] == 2  # exempt not checked
    assert [line["resourceid"] for line in lines] == [lake["bare"]] and lines[0]["reason"] == "no instance profile"
    assert lines[0]["accountid"] == ACCOUNT and lines[0]["tags"] == {"environment": "Prod"}
    assert lines[0]["sweptAt"] == first["sweptAt"]
    copy = tmp_path / "findings.jsonl"
    copy.write_bytes(body)
    assert [entry["resourceid"] for entry in load_unmanaged(copy)] == [lake["bare"]]  # the sweep line is skipped
    s3 = aws.session(HUB, HUB_REGION).client("s3")
    head = s3.head_object(Bucket=BUCKET, Key=key)
    assert head["ServerSideEncryption"] == "aws:kms" and head["SSEKMSKeyId"] == KEY_ARN
    # a re-run the same day overwrites the same object: still one, with the same finding
    sweep()
    assert list(objects()) == [key]


def test_a_failed_write_is_an_error_and_never_stops_the_tagging(lake: dict[str, str]) -> None:
    result = sweep(deny=("PutObject",))
    [error] = result["errors"]
    assert error["action"] == "s3:PutObject" and error["code"] == "AccessDenied"
    assert error["account"] == ACCOUNT and error["region"] == REGION and error["resources"][0].startswith("s3://")
    assert result["unmanagedLake"] is None and objects() == {}
    assert lake["bare"] in result["tagged"] and [u["resourceid"] for u in result["unmanaged"]] == [lake["bare"]]


def test_an_incomplete_check_writes_nothing(lake: dict[str, str]) -> None:
    """SSM's managed instances unreadable: an object listing nobody would claim the account-region is clean."""
    result = sweep(deny=("DescribeInstanceInformation",), service="ssm")
    assert [e["action"] for e in result["errors"]] == ["ssm:DescribeInstanceInformation", "s3:PutObject"]
    assert "check was incomplete (ssm:DescribeInstanceInformation failed)" in result["errors"][1]["message"]
    assert result["unmanagedLake"] is None and objects() == {}
    assert lake["bare"] in result["tagged"]


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, None),  # not configured: nothing written, nothing to report
        ({**LAKE, "UNMANAGED_LAKE_OWNER": "12345"}, "UNMANAGED_LAKE_OWNER: '12345' is not valid"),
        ({**LAKE, "UNMANAGED_LAKE_BUCKET": ""}, "UNMANAGED_LAKE_BUCKET: '' is not valid"),
        ({**LAKE, "UNMANAGED_LAKE_PREFIX": "../x"}, "UNMANAGED_LAKE_PREFIX: '../x' is not valid"),
    ],
)
def test_the_destination_is_all_or_nothing(env: dict[str, str], expected: str | None) -> None:
    published = publish([], [], ACCOUNT, REGION, 0, env=env)
    assert published.location is None
    assert [e["message"] for e in published.errors] == ([expected] if expected else [])


def test_dry_run_and_the_key_layout() -> None:
    destination = Destination.from_env(LAKE)
    assert destination is not None
    assert destination.key(ACCOUNT, REGION, "2026-11-29") == (
        f"unmanaged/accountid={ACCOUNT}/region={REGION}/dt=2026-11-29/findings.jsonl"
    )
    assert publish([], [], ACCOUNT, REGION, 0, dry_run=True, env=LAKE).location is None
    bad = publish([], [], "unknown", REGION, 0, env=LAKE)
    assert "not known" in bad.errors[0]["message"]


def test_a_paged_sweep_writes_each_invocations_findings_beside_the_first() -> None:
    """Invocation k > 1 of a paged sweep checked only its own pages: its object must not replace invocation 1's."""
    destination = Destination("lake-bucket", "unmanaged", KEY_ARN, HUB_REGION, HUB)
    first = destination.key(ACCOUNT, REGION, "2026-11-29")
    third = destination.key(ACCOUNT, REGION, "2026-11-29", 3)
    assert first == f"unmanaged/accountid={ACCOUNT}/region={REGION}/dt=2026-11-29/findings.jsonl"
    assert third == f"unmanaged/accountid={ACCOUNT}/region={REGION}/dt=2026-11-29/findings-3.jsonl"
