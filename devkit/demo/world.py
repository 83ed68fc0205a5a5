"""The simulated organization the demo runs in: accounts, the hub, spokes and a fleet.

What is set up comes from the same definitions the Pulumi program deploys — the names in
``components.naming``, the default window from ``components.config``, the runbooks from
``components.runbooks`` — so the demo exercises the real contract, not a copy.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from components import naming
from components.config import MaintenanceWindowConfig
from devkit.emulator import Emulator

#: Instance kinds of the fleet and their share; each kind exercises one rule of the contract.
FLEET_MIX: tuple[tuple[str, dict[str, str], int], ...] = (
    ("dev", {"environment": "Dev"}, 4),
    ("test", {"environment": "Test"}, 4),
    ("prod", {"environment": "Prod"}, 4),
    ("prod-lower", {"environment": "prod"}, 2),
    ("prod-upper", {"environment": "PROD"}, 2),
    ("prod-blanks", {"environment": " Prod "}, 1),
    ("misspelled", {"environment": "Production"}, 2),
    ("untagged", {}, 4),
    ("exempt", {"environment": "Prod", "install_patch": "no"}, 2),
    ("eks-node", {"environment": "Prod", "eks:nodegroup-name": "web", "eks:cluster-name": "main"}, 2),
    ("ecs-node", {"environment": "Dev", "AmazonECSManaged": ""}, 1),
    (
        "already-right",
        {"environment": "Dev", "Patch Group": "Dev", "maintenance_window": "Default_maintenance_window"},
        2,
    ),
)
FLEET_WEIGHT = sum(weight for _, _, weight in FLEET_MIX)
AMI = "ami-0123456789abcdef0"


@dataclass
class Scenario:
    child_accounts: int = 3
    regions: tuple[str, ...] = ("us-east-1", "eu-west-1")
    instances: int = 200
    seed: int = 7


@dataclass
class ChildAccount:
    id: str
    name: str


@dataclass
class World:
    hub_account: str
    home_region: str
    org_id: str
    accounts: list[ChildAccount]
    regions: tuple[str, ...]
    inventory_bucket: str = ""
    patch_log_bucket: str = ""
    kinds: dict[str, str] = field(default_factory=dict)  # instance id -> kind
    placement: dict[str, tuple[str, str]] = field(default_factory=dict)  # instance id -> (account, region)
    asg: dict[str, Any] = field(default_factory=dict)

    @property
    def locations(self) -> list[tuple[str, str]]:
        return [(a.id, r) for a in self.accounts for r in self.regions]

    def kind_counts(self) -> Counter[str]:
        return Counter(self.kinds.values())


def build_organization(emu: Emulator, scenario: Scenario) -> World:
    """An organization whose management account is the hub, with ``child_accounts`` members."""
    org = emu.session(emu.default_account, "us-east-1").client("organizations")
    org_id = org.create_organization(FeatureSet="ALL")["Organization"]["Id"]
    accounts = []
    names = ("workloads-dev", "workloads-test", "workloads-prod", "sandbox", "shared-services")
    for index in range(scenario.child_accounts):
        name = names[index] if index < len(names) else f"workloads-{index}"
        status = org.create_account(Email=f"{name}@example.com", AccountName=name)["CreateAccountStatus"]
        accounts.append(ChildAccount(status["AccountId"], name))
    return World(emu.default_account, "us-east-1", org_id, accounts, scenario.regions)


def install_hub(emu: Emulator, world: World) -> None:
    """The compliance lake's buckets and key in the hub (what ComplianceLake deploys)."""
    session = emu.session(world.hub_account, world.home_region)
    kms = session.client("kms")
    key_arn = kms.create_key(Description="org-patching compliance (demo)")["KeyMetadata"]["Arn"]
    s3 = session.client("s3")
    for attribute, suffix in (("inventory_bucket", "inventory"), ("patch_log_bucket", "patch-logs")):
        bucket = f"org-patching-{suffix}-{world.hub_account}"
        s3.create_bucket(Bucket=bucket)
        s3.put_bucket_encryption(
            Bucket=bucket,
            ServerSideEncryptionConfiguration={
                "Rules": [
                    {
                        "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key_arn},
                        "BucketKeyEnabled": True,
                    }
                ]
            },
        )
        setattr(world, attribute, bucket)


def install_spoke(emu: Emulator, world: World, account: str, region: str, window: MaintenanceWindowConfig) -> None:
    """What AccountBaseline + RegionalSpoke deploy that the runtime reads: the instance profile,
    the default maintenance window (from the same config model) and the runbooks."""
    from components.runbooks import render_runbook

    session = emu.session(account, region)
    iam = session.client("iam")
    if region == world.regions[0]:
        iam.create_role(
            RoleName=naming.INSTANCE_ROLE, AssumeRolePolicyDocument='{"Version":"2012-10-17","Statement":[]}'
        )
        iam.create_instance_profile(InstanceProfileName=naming.INSTANCE_PROFILE)
        iam.add_role_to_instance_profile(InstanceProfileName=naming.INSTANCE_PROFILE, RoleName=naming.INSTANCE_ROLE)
    ssm = session.client("ssm")
    ssm.create_maintenance_window(
        Name="Default_maintenance_window",
        Schedule=window.schedule,
        ScheduleTimezone=window.schedule_timezone,
        Duration=window.duration_hours,
        Cutoff=window.cutoff_hours,
        AllowUnassociatedTargets=False,
    )
    for document_name, runbook in ((naming.RUNBOOK_STANDALONE, "patch_instances"), (naming.RUNBOOK_ASG, "patch_asgs")):
        ssm.create_document(
            Name=document_name, Content=render_runbook(runbook), DocumentType="Automation", DocumentFormat="YAML"
        )


def kind_counts(total: int) -> Counter[str]:
    """``total`` instances split over the kinds by weight (largest remainder, at least one each)."""
    shares = {kind: total * weight / FLEET_WEIGHT for kind, _, weight in FLEET_MIX}
    counts = Counter({kind: max(1, int(share)) for kind, share in shares.items()})
    by_remainder = sorted(shares, key=lambda kind: shares[kind] - int(shares[kind]), reverse=True)
    for kind in by_remainder[: max(0, total - sum(counts.values()))]:
        counts[kind] += 1
    return counts


def build_fleet(emu: Emulator, world: World, scenario: Scenario) -> None:
    """About ``scenario.instances`` instances spread over every account and region, each of
    a known kind, plus one Auto Scaling group with a launch template."""
    counts = kind_counts(max(len(FLEET_MIX), scenario.instances // len(world.locations)))
    for account, region in world.locations:
        ec2 = emu.session(account, region).client("ec2")
        for kind, tags, _ in FLEET_MIX:
            count = counts[kind]
            request: dict[str, Any] = {
                "ImageId": AMI,
                "MinCount": count,
                "MaxCount": count,
                "InstanceType": "t3.micro",
                "IamInstanceProfile": {"Name": naming.INSTANCE_PROFILE},
            }
            if tags:
                request["TagSpecifications"] = [
                    {"ResourceType": "instance", "Tags": [{"Key": k, "Value": v} for k, v in tags.items()]}
                ]
            for instance in ec2.run_instances(**request)["Instances"]:
                world.kinds[instance["InstanceId"]] = kind
                world.placement[instance["InstanceId"]] = (account, region)
    build_asg(emu, world)


def build_asg(emu: Emulator, world: World) -> None:
    """One launch-template ASG in the prod account's home region, patched by AMI rebake."""
    account = world.accounts[-1].id
    region = world.regions[0]
    session = emu.session(account, region)
    ec2 = session.client("ec2")
    subnets = sorted(s["SubnetId"] for s in ec2.describe_subnets()["Subnets"])
    template = ec2.create_launch_template(
        LaunchTemplateName="web-frontend",
        LaunchTemplateData={
            "ImageId": AMI,
            "InstanceType": "t3.small",
            "IamInstanceProfile": {"Name": naming.INSTANCE_PROFILE},
            "MetadataOptions": {"HttpTokens": "required"},
        },
        # the app team tags its template into the contract: the rebake adds versions only to such templates
        TagSpecifications=[{"ResourceType": "launch-template", "Tags": [{"Key": "Patch Group", "Value": "Prod"}]}],
    )["LaunchTemplate"]
    autoscaling = session.client("autoscaling")
    autoscaling.create_auto_scaling_group(
        AutoScalingGroupName="web-frontend",
        LaunchTemplate={"LaunchTemplateId": template["LaunchTemplateId"], "Version": "$Default"},
        MinSize=2,
        MaxSize=4,
        DesiredCapacity=2,
        VPCZoneIdentifier=",".join(subnets[:2]),
        Tags=[{"Key": "environment", "Value": "Prod", "PropagateAtLaunch": True}],
    )
    members = autoscaling.describe_auto_scaling_groups(AutoScalingGroupNames=["web-frontend"])["AutoScalingGroups"][0][
        "Instances"
    ]
    for member in members:
        world.kinds[member["InstanceId"]] = "asg-member"
        world.placement[member["InstanceId"]] = (account, region)
    world.asg = {"name": "web-frontend", "account": account, "region": region, "template": template["LaunchTemplateId"]}
