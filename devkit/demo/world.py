"""The simulated organization the demo runs in: the accounts, the program's two stacks as
deployed by the applier, and the fleet the app teams launch.

The organization (a management account and its members, AWS Config on) is what the program
expects to find. Everything the program owns — the hub's buckets, key, IAM, Lambdas, state
machine and catalog; every spoke's roles, instance profile, baselines, runbooks, window, tasks,
association and data sync — is deployed from the rendered stacks by ``devkit.applier``, from the
demo's own stack configuration (:func:`demo_configs`, the models' defaults). The demo itself
creates only what app teams create: instances and Auto Scaling groups (``build_fleet``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from components.config import AccountConfig, BootstrapConfig, CentralConfig, ChildConfig
from components.config_notices import NoticesConfig
from devkit.applier import Applied, apply_central, apply_child
from devkit.applier.__main__ import ensure_config_recorders
from devkit.demo.fleet_spec import FLEET_MIX, kind_counts
from devkit.emulator import Emulator
from devkit.moto_extensions.ec2.reserved_tags import split_reserved, write_service_tags

AMI = "ami-0123456789abcdef0"
HUB_STACK = "organization/org-patching/central"

#: Changes the demo's stack configs before the apply (tests use it to inject a deploy blocker).
Configure = Callable[[CentralConfig, ChildConfig], tuple[CentralConfig, ChildConfig]]


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
    root_id: str
    accounts: list[ChildAccount]
    regions: tuple[str, ...]
    central: Applied | None = None
    child: Applied | None = None
    central_config: CentralConfig | None = None
    kinds: dict[str, str] = field(default_factory=dict)  # instance id -> kind
    placement: dict[str, tuple[str, str]] = field(default_factory=dict)  # instance id -> (account, region)
    asg: dict[str, Any] = field(default_factory=dict)

    @property
    def locations(self) -> list[tuple[str, str]]:
        return [(a.id, r) for a in self.accounts for r in self.regions]

    @property
    def central_outputs(self) -> dict[str, Any]:
        """The central stack's outputs (as its StackReference reads them)."""
        if self.central is None:
            raise RuntimeError("the central stack is not deployed yet")
        return dict(self.central.outputs)

    @property
    def compliance(self) -> dict[str, Any]:
        """The central stack's ``compliance`` output (where spokes write, where reports read)."""
        return dict(self.central_outputs["compliance"])

    @property
    def inventory_bucket(self) -> str:
        return str(self.compliance["inventoryBucket"])

    @property
    def patch_log_bucket(self) -> str:
        return str(self.compliance["patchLogBucket"])

    def instance_profile(self, account: str) -> str:
        """The instance profile the child stack deployed in ``account`` (its output, as app teams read it)."""
        if self.child is None:
            raise RuntimeError("the child stack is not deployed yet")
        return str(self.child.outputs["accounts"][account]["instanceProfile"]["name"])

    def kind_counts(self) -> Counter[str]:
        return Counter(self.kinds.values())


def build_organization(emu: Emulator, scenario: Scenario) -> World:
    """An organization whose management account is the hub, with ``child_accounts`` members."""
    org = emu.session(emu.default_account, "us-east-1").client("organizations")
    org_id = org.create_organization(FeatureSet="ALL")["Organization"]["Id"]
    root_id = org.list_roots()["Roots"][0]["Id"]
    accounts = []
    names = ("workloads-dev", "workloads-test", "workloads-prod", "sandbox", "shared-services")
    for index in range(scenario.child_accounts):
        name = names[index] if index < len(names) else f"workloads-{index}"
        status = org.create_account(Email=f"{name}@example.com", AccountName=name)["CreateAccountStatus"]
        accounts.append(ChildAccount(status["AccountId"], name))
    return World(emu.default_account, "us-east-1", org_id, root_id, accounts, scenario.regions)


def demo_configs(world: World) -> tuple[CentralConfig, ChildConfig]:
    """The demo's central and child stack configs: every setting at the models' default, only
    the organization's identity, accounts and regions filled in (as a user's Pulumi.<stack>.yaml),
    and the payments team's notice topic (the team that launches the product)."""
    common: dict[str, Any] = {
        "org_id": world.org_id,
        "central_account_id": world.hub_account,
        "home_region": world.home_region,
        "regions": list(world.regions),
    }
    central = CentralConfig(
        stack="central",
        accounts=[a.id for a in world.accounts],
        bootstrap=BootstrapConfig(
            deploy_principal_arn=f"arn:aws:iam::{world.hub_account}:role/org-patching-demo-deploy",
            targets=[world.root_id],
            call_as="SELF",  # the demo's hub is the management account
        ),
        notices=NoticesConfig(teams={"payments": []}),
        **common,
    )
    child = ChildConfig(
        stack="child",
        hub_stack=HUB_STACK,
        accounts=[AccountConfig(id=a.id, name=a.name) for a in world.accounts],
        **common,
    )
    return central, child


def deploy_stacks(emu: Emulator, world: World, configure: Configure | None = None) -> None:
    """``pulumi up`` of the central stack, then the child stack, through the applier.

    An input AWS would refuse fails here with the resource's URN and the rule
    (``devkit.applier.ApplyError``), as ``pulumi up`` would fail."""
    central_cfg, child_cfg = demo_configs(world)
    if configure is not None:
        central_cfg, child_cfg = configure(central_cfg, child_cfg)
    world.central_config = central_cfg
    world.central = apply_central(emu, central_cfg)
    ensure_config_recorders(emu, child_cfg)  # the organization has AWS Config on (docs/applier.md)
    world.child = apply_child(emu, child_cfg, world.central.outputs)


def build_fleet(emu: Emulator, world: World, scenario: Scenario) -> None:
    """What app teams launch: about ``scenario.instances`` instances spread over every account
    and region, each of a known kind and with the account's instance profile (the child stack's
    output), plus one Auto Scaling group with a launch template."""
    counts = kind_counts(max(len(FLEET_MIX), scenario.instances // len(world.locations)))
    for account, region in world.locations:
        ec2 = emu.session(account, region).client("ec2")
        for kind in FLEET_MIX:
            count = counts[kind.name]
            request: dict[str, Any] = {
                "ImageId": AMI,
                "MinCount": count,
                "MaxCount": count,
                "InstanceType": "t3.micro",
                "IamInstanceProfile": {"Name": world.instance_profile(account)},
            }
            user_tags, service_tags = split_reserved(dict(kind.tags))  # EC2 refuses aws: keys from users
            if user_tags:
                request["TagSpecifications"] = [
                    {"ResourceType": "instance", "Tags": [{"Key": k, "Value": v} for k, v in user_tags.items()]}
                ]
            launched = [instance["InstanceId"] for instance in ec2.run_instances(**request)["Instances"]]
            write_service_tags(account, region, launched, service_tags)  # as EKS/ECS tag their nodes
            for instance_id in launched:
                world.kinds[instance_id] = kind.name
                world.placement[instance_id] = (account, region)
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
            "IamInstanceProfile": {"Name": world.instance_profile(account)},
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
