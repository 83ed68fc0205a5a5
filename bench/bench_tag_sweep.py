"""API calls per 1,000 instances in a tag-remediation sweep, counted (not estimated) with a botocore event hook.

Fleets, each in its own moto account+region:

* ``uniform``: 1,000 instances that all need the same tags (``environment=Prod``, no custom window);
* ``mixed``: 1,000 instances with every case of the contract (Prod/prod/PROD/" Prod ", Dev with its own window,
  unknown and missing environment, exempt, EKS, ECS, already compliant) plus 20 Auto Scaling groups.

Each fleet is swept twice: the second sweep must make zero writes. The seed's count comes from running the seed's
per-instance logic (PatchTagMonitoringFunction: one Config event per instance -> DescribeInstances(id) +
DescribeMaintenanceWindows + CreateTags) against the same uniform fleet with the same hook.

Like with like: the seed reacts to one Config event per instance, so ours is also measured per event (the
tag-remediation Lambda invoked with one "Config Rules Compliance Change" per instance, on its own copy of the
fleet); the sweep (one scheduled invocation per account-region) is a separate figure, not the per-event one.

Target (issue 4): <= 5 calls per 1,000 instances that need the same tags. Exit code 1 if missed.
"""

from __future__ import annotations

import contextlib
import io
import sys
from collections import Counter
from collections.abc import Callable
from typing import Any

import boto3
from moto.core import DEFAULT_ACCOUNT_ID

from devkit.emulator import Emulator, load_lambda
from devkit.moto_extensions.awslambda.models import lambda_context
from devkit.moto_extensions.ec2.reserved_tags import split_reserved, write_service_tags

FLEET = 1000
#: The seed makes a fixed number of calls per instance; 200 instances measure it (moto is slow at 3,000 calls).
SEED_FLEET = 200
TARGET_PER_1000 = 5
AMI = "ami-0123456789abcdef0"
SCHEDULED = {"detail-type": "Scheduled Event", "source": "aws.events", "detail": {}}


class Calls:
    """Counts every API call (``before-call``: once per operation, retries are not extra calls)."""

    def __init__(self) -> None:
        self.by_operation: Counter[str] = Counter()

    def __call__(self, model: Any, **_: Any) -> None:
        self.by_operation[model.name] += 1

    @property
    def total(self) -> int:
        return sum(self.by_operation.values())

    @property
    def writes(self) -> int:
        return self.by_operation["CreateTags"] + self.by_operation["CreateOrUpdateTags"]


def launch(ec2: Any, tags: dict[str, str], count: int) -> list[str]:
    ids: list[str] = []
    while count > 0:
        batch = min(count, 50)  # realistic reservations (moto pages DescribeInstances by reservation)
        user_tags, service_tags = split_reserved(tags)  # EC2 refuses aws: keys from users
        spec = (
            [{"ResourceType": "instance", "Tags": [{"Key": k, "Value": v} for k, v in user_tags.items()]}]
            if user_tags
            else []
        )
        reservation = ec2.run_instances(ImageId=AMI, MinCount=batch, MaxCount=batch, TagSpecifications=spec)
        launched = [i["InstanceId"] for i in reservation["Instances"]]
        if service_tags:
            account = boto3.client("sts", region_name=ec2.meta.region_name).get_caller_identity()["Account"]
            write_service_tags(account, ec2.meta.region_name, launched, service_tags)
        ids.extend(launched)
        count -= batch
    return ids


Handler = Callable[[dict[str, Any], Any], dict[str, Any]]


def sweep(session: boto3.session.Session, handler: Handler) -> tuple[Calls, dict[str, Any]]:
    calls = Calls()
    session.events.register("before-call", calls)
    result = handler(SCHEDULED, lambda_context("org-patching-tag-remediation", DEFAULT_ACCOUNT_ID, "us-east-1"))
    session.events.unregister("before-call", calls)
    return calls, result


def seed_sweep(session: boto3.session.Session, instance_ids: list[str]) -> Calls:
    """The seed's deployed monitor, one Config event per instance (its logic, not its bugs' side effects)."""
    calls = Calls()
    session.events.register("before-call", calls)
    ec2, ssm = session.client("ec2"), session.client("ssm")
    for instance_id in instance_ids:
        instance = ec2.describe_instances(InstanceIds=[instance_id])["Reservations"][0]["Instances"][0]
        tags = {t["Key"]: t["Value"] for t in instance.get("Tags", [])}
        env = tags.get("environment", "Default")
        windows = ssm.describe_maintenance_windows()["WindowIdentities"]
        window = f"{env}_maintenance_window"
        if not any(w["Name"] == window for w in windows):
            window = "Default_maintenance_window"
        ec2.create_tags(
            Resources=[instance_id],
            Tags=[{"Key": "Patch Group", "Value": env}, {"Key": "maintenance_window", "Value": window}],
        )
    session.events.unregister("before-call", calls)
    return calls


def per_1000(calls: int, instances: int) -> float:
    return calls * 1000 / instances


def uniform_fleet(emu: Emulator, handler: Handler, failures: list[str]) -> float:
    """1,000 instances that all need the same tags; returns the first sweep's calls per 1,000."""
    with emu.as_account("210000000001", "us-east-1") as session:
        launch(session.client("ec2"), {"environment": "Prod"}, FLEET)
        first, result = sweep(session, handler)
        second, _ = sweep(session, handler)
    assert len(result["tagged"]) == FLEET and not result["errors"], result["errors"]
    print(f"uniform fleet ({FLEET} instances needing the same tags)")
    print(
        f"  first sweep : {first.total} calls = {per_1000(first.total, FLEET):.1f} per 1,000 "
        f"({dict(first.by_operation)})"
    )
    print(f"  second sweep: {second.total} calls, {second.writes} writes")
    if per_1000(first.total, FLEET) > TARGET_PER_1000:
        failures.append(f"uniform: {per_1000(first.total, FLEET):.1f} calls per 1,000 > {TARGET_PER_1000}")
    if second.writes:
        failures.append(f"uniform: second sweep made {second.writes} writes")
    return per_1000(first.total, FLEET)


def config_event(instance_id: str, account: str, region: str) -> dict[str, Any]:
    """The "Config Rules Compliance Change" event EventBridge delivers for one NON_COMPLIANT instance."""
    return {
        "version": "0",
        "id": f"bench-{instance_id}",
        "detail-type": "Config Rules Compliance Change",
        "source": "aws.config",
        "account": account,
        "region": region,
        "resources": [],
        "detail": {
            "resourceId": instance_id,
            "awsRegion": region,
            "awsAccountId": account,
            "configRuleName": "org-patching-patch-tags",
            "messageType": "ComplianceChangeNotification",
            "resourceType": "AWS::EC2::Instance",
            "newEvaluationResult": {"complianceType": "NON_COMPLIANT"},
        },
    }


def ours_per_event(emu: Emulator, handler: Handler, failures: list[str]) -> float:
    """Our Lambda on one Config event per instance (the seed's trigger): calls per event."""
    account, region = "210000000004", "us-east-1"
    with emu.as_account(account, region) as session:
        ids = launch(session.client("ec2"), {"environment": "Prod"}, SEED_FLEET)
        calls = Calls()
        session.events.register("before-call", calls)
        context = lambda_context("org-patching-tag-remediation", account, region)
        # Powertools flushes its metric blob (EMF) to stdout every 100 values: keep the bench's output readable.
        with contextlib.redirect_stdout(io.StringIO()):
            tagged = sum(len(handler(config_event(i, account, region), context)["tagged"]) for i in ids)
        session.events.unregister("before-call", calls)
    if tagged != SEED_FLEET:
        failures.append(f"per event: {tagged} of {SEED_FLEET} instances tagged")
    per_event = calls.total / SEED_FLEET
    print(
        f"per event, ours (one Config event per instance, {SEED_FLEET} events): {calls.total} calls = "
        f"{per_event:.2f} per event ({dict(calls.by_operation)})"
    )
    return per_event


def seed_on_the_same_fleet(emu: Emulator, ours_per_1000: float, ours_event: float) -> None:
    """The seed's per-instance monitor on the same kind of fleet, compared per event and per sweep."""
    with emu.as_account("210000000003", "us-east-1") as seed_session:
        seed_ids = launch(seed_session.client("ec2"), {"environment": "Prod"}, SEED_FLEET)
        seed = seed_sweep(seed_session, seed_ids)
    seed_event = seed.total / SEED_FLEET
    print(
        f"per event, seed (same {SEED_FLEET} events): {seed.total} calls = {seed_event:.2f} per event "
        f"({dict(seed.by_operation)})"
    )
    print(f"  per event, like with like: the seed makes {seed_event / ours_event:.2f}x our calls")
    print(
        f"  per sweep: ours {ours_per_1000:.1f} calls per 1,000 instances in one scheduled invocation; the seed has "
        f"no sweep, its only path costs {per_1000(seed.total, SEED_FLEET):.0f} per 1,000 (one event each)"
    )


def mixed_fleet(emu: Emulator, handler: Handler, failures: list[str]) -> None:
    """Every case of the contract, plus 20 Auto Scaling groups."""
    with emu.as_account("210000000002", "eu-west-1") as session:
        ec2, ssm = session.client("ec2"), session.client("ssm")
        ssm.create_maintenance_window(
            Name="Dev_maintenance_window", Schedule="rate(7 days)", Duration=4, Cutoff=1, AllowUnassociatedTargets=True
        )
        mix = [
            ({"environment": "Prod"}, 150),
            ({"environment": "prod"}, 100),
            ({"environment": "PROD"}, 50),
            ({"environment": " Prod "}, 50),
            ({"environment": "dev"}, 150),
            ({"environment": "Production"}, 80),
            ({"environment": ""}, 20),
            ({}, 100),
            ({"environment": "Test", "install_patch": "no"}, 100),
            ({"environment": "Prod", "aws:eks:nodegroup-name": "ng"}, 50),
            ({"environment": "Prod", "aws:ecs:clusterName": "c"}, 50),
            ({"environment": "Test", "Patch Group": "Test", "maintenance_window": "Default_maintenance_window"}, 100),
        ]
        for tags, count in mix:
            launch(ec2, tags, count)
        template = ec2.create_launch_template(
            LaunchTemplateName="bench", LaunchTemplateData={"ImageId": AMI, "InstanceType": "t3.micro"}
        )["LaunchTemplate"]["LaunchTemplateId"]
        subnet = ec2.describe_subnets()["Subnets"][0]["SubnetId"]
        for n in range(20):
            session.client("autoscaling").create_auto_scaling_group(
                AutoScalingGroupName=f"asg-{n}",
                LaunchTemplate={"LaunchTemplateId": template, "Version": "$Default"},
                MinSize=0,
                MaxSize=1,
                DesiredCapacity=0,
                VPCZoneIdentifier=subnet,
                Tags=[{"ResourceId": f"asg-{n}", "Key": "environment", "Value": ("Prod", "dev")[n % 2]}],
            )
        total = sum(count for _, count in mix)
        first, result = sweep(session, handler)
        second, _ = sweep(session, handler)
    assert not result["errors"], result["errors"]
    print(
        f"mixed fleet ({total} instances, 20 ASGs; {len(result['tagged'])} resources tagged, "
        f"{len(result['skipped'])} skipped, {result['unchanged']} already right)"
    )
    print(
        f"  first sweep : {first.total} calls = {per_1000(first.total, total):.1f} per 1,000 "
        f"({dict(first.by_operation)})"
    )
    print(f"  second sweep: {second.total} calls, {second.writes} writes")
    if second.writes:
        failures.append(f"mixed: second sweep made {second.writes} writes")


def main() -> int:
    failures: list[str] = []
    with Emulator(extra_env={"POWERTOOLS_LOG_LEVEL": "WARNING", "POWERTOOLS_METRICS_DISABLED": "true"}) as emu:
        handler = load_lambda("tag_remediation").handler  # imported here: its logger reads the level above
        ours = uniform_fleet(emu, handler, failures)
        event = ours_per_event(emu, handler, failures)
        seed_on_the_same_fleet(emu, ours, event)
        mixed_fleet(emu, handler, failures)
    for failure in failures:
        print(f"FAILED: {failure}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
