"""What the applier refuses, as the real services would: a lifecycle whose expiration is not
after its transition, a Config rule without a recorder, a type it cannot deploy. And the
program itself now refuses such a lifecycle at render time."""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterator
from contextlib import redirect_stdout
from pathlib import Path
from typing import Any

import pulumi
import pulumi_aws as aws
import pytest
from botocore.exceptions import ClientError

from components.errors import OrgPatchingError
from components.secure_bucket import SecureBucket, SecureBucketArgs
from devkit.applier import ServiceRuleViolation, UnsupportedResource
from devkit.applier.__main__ import main
from devkit.applier.engine import ApplyingMocks, run_program
from devkit.emulator import Emulator
from patchctl.offline.render import render
from tests.pulumi_leftovers import collect_failed_program_leftovers

REPO = Path(__file__).resolve().parents[2]
ACCOUNT = "444444444444"


@pytest.fixture(scope="module")
def emu() -> Iterator[Emulator]:
    with Emulator() as emulator:
        yield emulator


def apply_program(emu: Emulator, declare: Callable[[pulumi.ResourceOptions], Any]) -> ApplyingMocks:
    """Apply a small program whose resources use one provider pinned to ``ACCOUNT``."""
    mocks = ApplyingMocks(emu, default_account=ACCOUNT)

    def build() -> None:
        provider = aws.Provider("p", region="us-east-1", allowed_account_ids=[ACCOUNT])
        declare(pulumi.ResourceOptions(provider=provider))

    try:
        run_program(build, mocks, "rules")
    finally:
        collect_failed_program_leftovers()  # most of these programs fail on purpose
    return mocks


def lifecycle_rule(expire: int, transition: int) -> aws.s3.BucketLifecycleConfigurationRuleArgs:
    return aws.s3.BucketLifecycleConfigurationRuleArgs(
        id="retention",
        status="Enabled",
        filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=""),
        transitions=[
            aws.s3.BucketLifecycleConfigurationRuleTransitionArgs(days=transition, storage_class="GLACIER_IR")
        ],
        expiration=aws.s3.BucketLifecycleConfigurationRuleExpirationArgs(days=expire),
    )


def test_expiration_before_transition_fails_naming_resource_and_rule(emu: Emulator) -> None:
    def declare(opts: pulumi.ResourceOptions) -> None:
        bucket = aws.s3.Bucket("results", bucket="rules-results", opts=opts)
        aws.s3.BucketLifecycleConfiguration(
            "results-lifecycle", bucket=bucket.id, rules=[lifecycle_rule(30, 90)], opts=opts
        )

    with pytest.raises(ServiceRuleViolation) as raised:
        apply_program(emu, declare)
    message = str(raised.value)
    assert "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration" in message
    assert message.count("::results-lifecycle") == 1
    assert "Expiration action (30) must be greater than 'Days' in the Transition action (90" in message
    # Nothing was put: S3 would have refused the whole configuration.
    s3 = emu.session(ACCOUNT, "us-east-1").client("s3")
    with pytest.raises(ClientError, match="NoSuchLifecycleConfiguration"):
        s3.get_bucket_lifecycle_configuration(Bucket="rules-results")


def test_expiration_after_transition_is_applied(emu: Emulator) -> None:
    def declare(opts: pulumi.ResourceOptions) -> None:
        bucket = aws.s3.Bucket("archive", bucket="rules-archive", opts=opts)
        aws.s3.BucketLifecycleConfiguration(
            "archive-lifecycle", bucket=bucket.id, rules=[lifecycle_rule(365, 90)], opts=opts
        )

    apply_program(emu, declare)
    rules = emu.session(ACCOUNT, "us-east-1").client("s3").get_bucket_lifecycle_configuration(Bucket="rules-archive")
    assert rules["Rules"][0]["Expiration"] == {"Days": 365}


def test_config_rule_without_recorder_fails(emu: Emulator) -> None:
    def declare(opts: pulumi.ResourceOptions) -> None:
        aws.cfg.Rule(
            "tags",
            name="rules-tags",
            source=aws.cfg.RuleSourceArgs(owner="AWS", source_identifier="REQUIRED_TAGS"),
            opts=opts,
        )

    with pytest.raises(ServiceRuleViolation, match="NoAvailableConfigurationRecorderException"):
        apply_program(emu, declare)


def test_a_role_whose_boundary_does_not_exist_fails_and_one_whose_boundary_exists_is_applied(emu: Emulator) -> None:
    """IAM keeps a role's boundary an existing managed policy; the child roles' comes from the hub's StackSet."""
    from components import naming
    from devkit.applier.bootstrap import ensure_child_role_boundary

    def declare(name: str) -> Callable[[pulumi.ResourceOptions], Any]:
        def roles(opts: pulumi.ResourceOptions) -> None:
            service = {"Service": "ssm.amazonaws.com"}
            trust = json.dumps({"Statement": [{"Effect": "Allow", "Principal": service, "Action": "sts:AssumeRole"}]})
            boundary = naming.child_role_boundary_arn("aws", ACCOUNT)
            aws.iam.Role(name, name=name, assume_role_policy=trust, permissions_boundary=boundary, opts=opts)

        return roles

    with pytest.raises(ServiceRuleViolation, match=r"NoSuchEntity: the permissions boundary .*child-role-boundary"):
        apply_program(emu, declare("rules-unbounded"))
    iam = emu.session(ACCOUNT, "us-east-1").client("iam")
    with pytest.raises(ClientError, match="NoSuchEntity"):
        iam.get_role(RoleName="rules-unbounded")  # nothing created
    assert ensure_child_role_boundary(emu, [ACCOUNT]) == [ACCOUNT]
    assert ensure_child_role_boundary(emu, [ACCOUNT]) == []  # as the StackSet: once per account
    apply_program(emu, declare("rules-bounded"))
    role = iam.get_role(RoleName="rules-bounded")["Role"]
    assert role["PermissionsBoundary"]["PermissionsBoundaryArn"] == naming.child_role_boundary_arn("aws", ACCOUNT)


def test_unsupported_type_fails_by_name(emu: Emulator) -> None:
    def declare(opts: pulumi.ResourceOptions) -> None:
        aws.ec2.Vpc("net", cidr_block="10.0.0.0/16", opts=opts)

    with pytest.raises(UnsupportedResource) as raised:
        apply_program(emu, declare)
    assert (
        str(raised.value)
        == "UnsupportedResource: aws:ec2/vpc:Vpc (urn urn:pulumi:rules::org-patching::aws:ec2/vpc:Vpc::net)"
    )


def test_secure_bucket_refuses_expiration_before_archive_at_render() -> None:
    def build() -> None:
        SecureBucket(
            "results",
            SecureBucketArgs(kms_key_arn="arn:aws:kms:us-east-1:1:key/k", archive_after_days=90, expire_after_days=30),
        )

    with pytest.raises(OrgPatchingError, match=r"bucket results: objects expire after 30 days.*90 days"):
        render(build)


def test_cli_prints_counts_from_the_emulator() -> None:
    out = io.StringIO()
    with redirect_stdout(out):
        code = main(["--stack", "central", "--config", str(REPO / "Pulumi.central.yaml")])
    text = out.getvalue()
    assert code == 0, text
    assert "111111111111/us-east-1:" in text and "111111111111/global:" in text
    assert "     6  aws:s3/bucket:Bucket" in text  # 5 lake buckets and the patch-events bucket
    assert text.rstrip().endswith("0 missing")
