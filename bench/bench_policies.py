"""Policy evaluation cost per resource on a 5,000-resource app-team stack.

The stack mixes every shape the pack joins (instances with profiles and roles, launch
templates used by Auto Scaling groups, buckets with their encryption/public-access/policy
resources), rendered once under mocks. The pack then runs the engine's sequence (Remediate +
Analyze per resource, one AnalyzeStack) in-process, next to a no-op pack with one resource
and one stack policy: the ratio is what our policies add over the SDK's own per-resource cost
(protobuf decoding, proxies), so a noisy machine does not change the verdict.

Prints: resources, ms/resource for the no-op pack, for the pack on an app-team stack, for the
pack with the guard rails applied to every project, ratios, and one gRPC run.
"""

from __future__ import annotations

import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import pulumi
import pulumi_aws as aws
from pulumi_policy import StackValidationPolicy

from patchctl.offline.analyzer import (
    DEFAULT_PACK_DIR,
    GrpcAnalyzer,
    InProcessAnalyzer,
    evaluate,
    load_pack,
)
from patchctl.offline.mocks import AwsMocks
from patchctl.offline.render import Capture, render

TARGET = 5_000
PER_UNIT = 10
RUNS = 3
GUARD_RAILS = (
    "s3-bucket-encrypted-private",
    "kms-key-rotation",
    "iam-no-admin-statements",
    "iam-no-wildcard-passrole",
    "iam-trust-org-scoped",
    "lambda-runtime-allowed",
    "lambda-log-retention",
    "maintenance-window-cutoff",
    "spoke-explicit-provider",
)

NOOP_PACK = """
from pulumi_policy import EnforcementLevel, PolicyPack
from pulumi_policy import ResourceValidationPolicy as Resource, StackValidationPolicy as Stack

RESOURCE, STACK = {resource}, {stack}
PolicyPack(
    name="noop",
    enforcement_level=EnforcementLevel.MANDATORY,
    policies=[
        *(Resource(name=f"r{{i}}", description="-", validate=lambda a, r: None) for i in range(RESOURCE)),
        *(Stack(name=f"s{{i}}", description="-", validate=lambda a, r: None) for i in range(STACK)),
    ],
)
"""

TRUST = json.dumps(
    {"Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
)


def build() -> None:
    """``TARGET`` resources in units of ``PER_UNIT`` (plus the stack and the provider)."""
    provider = aws.Provider("123456789012", region="us-east-1", allowed_account_ids=["123456789012"])
    opts = pulumi.ResourceOptions(provider=provider)
    for unit in range((TARGET - 2) // PER_UNIT):
        role = aws.iam.Role(f"role-{unit}", assume_role_policy=TRUST, opts=opts)
        aws.iam.RolePolicyAttachment(
            f"ssm-{unit}",
            role=role.name,
            policy_arn="arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore",
            opts=opts,
        )
        profile = aws.iam.InstanceProfile(f"profile-{unit}", role=role.name, opts=opts)
        aws.ec2.Instance(
            f"web-{unit}",
            ami="ami-0abcdef1234567890",
            instance_type="t3.micro",
            iam_instance_profile=profile.name,
            tags={"environment": ("Dev", "Test", "Prod")[unit % 3], "Name": f"web-{unit}"},
            opts=opts,
        )
        template = aws.ec2.LaunchTemplate(
            f"lt-{unit}",
            image_id="ami-0abcdef1234567890",
            iam_instance_profile=aws.ec2.LaunchTemplateIamInstanceProfileArgs(name=profile.name),
            opts=opts,
        )
        aws.autoscaling.Group(
            f"asg-{unit}",
            min_size=1,
            max_size=2,
            availability_zones=["us-east-1a"],
            launch_template=aws.autoscaling.GroupLaunchTemplateArgs(id=template.id, version="$Latest"),
            tags=[aws.autoscaling.GroupTagArgs(key="environment", value="Prod", propagate_at_launch=True)],
            opts=opts,
        )
        bucket = aws.s3.Bucket(f"bucket-{unit}", opts=opts)
        aws.s3.BucketServerSideEncryptionConfiguration(
            f"sse-{unit}",
            bucket=bucket.bucket,
            rules=[
                aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
                    apply_server_side_encryption_by_default=aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
                        sse_algorithm="aws:kms"
                    )
                )
            ],
            opts=opts,
        )
        aws.s3.BucketPublicAccessBlock(
            f"pab-{unit}",
            bucket=bucket.bucket,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
            opts=opts,
        )
        aws.s3.BucketPolicy(
            f"tls-{unit}",
            bucket=bucket.bucket,
            policy=bucket.arn.apply(
                lambda arn: json.dumps(
                    {
                        "Statement": [
                            {
                                "Effect": "Deny",
                                "Principal": "*",
                                "Action": "s3:*",
                                "Resource": [arn, f"{arn}/*"],
                                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                            }
                        ]
                    }
                )
            ),
            opts=opts,
        )


def timed(capture: Capture, analyzer_factory: Any, config: dict[str, Any] | None) -> tuple[float, int, int]:
    """(seconds, violations, remediations) of one engine call sequence."""
    analyzer = analyzer_factory()
    try:
        started = time.perf_counter()
        result = evaluate(capture.resources, analyzer, project=capture.project, stack=capture.stack, user_config=config)
        return time.perf_counter() - started, len(result.violations), len(result.remediations)
    finally:
        analyzer.close()


def median_ms(
    capture: Capture, factory: Any, config: dict[str, Any] | None, runs_: int = RUNS
) -> tuple[float, int, int]:
    runs = [timed(capture, factory, config) for _ in range(runs_)]
    seconds = statistics.median(run[0] for run in runs)
    return seconds / len(capture.resources) * 1000, runs[0][1], runs[0][2]


def main() -> None:
    started = time.perf_counter()
    capture = render(build, mocks=AwsMocks(strict=False), project="team-app", stack="prod")
    render_s = time.perf_counter() - started
    count = len(capture.resources)
    ours = load_pack(DEFAULT_PACK_DIR)
    stack_policies = sum(isinstance(p, StackValidationPolicy) for p in ours.policies)
    shapes = {"no-op": (1, 1), "shaped": (len(ours.policies) - stack_policies, stack_policies)}
    packs = {}
    for label, (resource, stack) in shapes.items():
        with tempfile.TemporaryDirectory() as directory:
            Path(directory, "__main__.py").write_text(NOOP_PACK.format(resource=resource, stack=stack))
            packs[label] = load_pack(directory)
    guard_everywhere: dict[str, Any] = {name: {"projects": ["*"]} for name in GUARD_RAILS}

    noop_ms, _, _ = median_ms(capture, lambda: InProcessAnalyzer(packs["no-op"]), None)
    shaped_ms, _, _ = median_ms(capture, lambda: InProcessAnalyzer(packs["shaped"]), None)
    app_ms, app_violations, _ = median_ms(capture, lambda: InProcessAnalyzer(ours), None)
    all_ms, all_violations, _ = median_ms(capture, lambda: InProcessAnalyzer(ours), guard_everywhere, 1)
    remediate_ms, _, remediations = median_ms(capture, lambda: InProcessAnalyzer(ours), {"all": "remediate"}, 1)
    grpc_s, grpc_violations, _ = timed(capture, lambda: GrpcAnalyzer(DEFAULT_PACK_DIR), None)

    resource_policies, _ = shapes["shaped"]
    print(f"stack: {count} resources (rendered once in {render_s:.1f} s); in-process, median of {RUNS} where noted")
    print(f"  no-op pack, 1 resource + 1 stack policy      {noop_ms:6.3f} ms/resource (median of {RUNS})")
    print(
        f"  no-op pack shaped like ours ({resource_policies} resource + {stack_policies} stack)"
        f" {shaped_ms:6.3f} ms/resource (median of {RUNS}; the SDK decodes the stack once per stack policy)"
    )
    print(
        f"  org-patching, app-team stack                 {app_ms:6.3f} ms/resource "
        f"(median of {RUNS}, {app_violations} violations)"
    )
    print(f"  org-patching, guard rails on every project   {all_ms:6.3f} ms/resource ({all_violations} violations)")
    print(
        f"  org-patching, all at remediate               {remediate_ms:6.3f} ms/resource ({remediations} remediations)"
    )
    print(f"  ratio org-patching / no-op pack              {app_ms / noop_ms:6.2f}")
    print(f"  ratio org-patching / shaped no-op pack       {app_ms / shaped_ms:6.2f}  (our policies' own share)")
    print(f"  ratio guard-rails-everywhere / no-op pack    {all_ms / noop_ms:6.2f}")
    print(
        f"  gRPC, one run incl. pack start               {grpc_s / count * 1000:6.3f} ms/resource "
        f"({grpc_violations} violations)"
    )
    print(f"  whole stack: {app_ms * count / 1000:.2f} s in-process, {grpc_s:.2f} s over gRPC")


if __name__ == "__main__":
    main()
