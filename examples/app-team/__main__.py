"""An app team's workload, patched by org-patching: one EC2 instance and one Auto Scaling group.

What makes them patchable (and lets them pass the org-patching policy pack):

* an ``environment`` tag (Dev, Test or Prod) on the instance, in the launch template's
  ``instance`` tag specification and propagated by the ASG: org-patching derives the
  ``Patch Group`` and ``maintenance_window`` tags from it and writes them itself;
* the instance profile org-patching created in this account (read from the child stack's
  outputs), whose role lets SSM in.

org-patching owns ``Patch Group`` and ``maintenance_window``: the provider ignores them, so its
tag remediation never shows up as drift here. The window that will patch these machines is
exported so the team can see it (a team gets its own ``<Env>_maintenance_window`` by launching
the Service Catalog product; until then the default window patches it).

Which child stack (shard) holds this account: the central stack exports ``accountStacks``
(account id → child stack); this program reads it and references that shard. An account the map
does not list is not enrolled, and the program stops saying so, instead of deploying with
defaults that may not exist in the account. ``childStack`` is only the fallback for a central
stack that does not export the map yet (and must agree with it once it does).

The child stack's outputs (``schemas/child-outputs.schema.json`` in org-patching) are read
defensively: if they cannot be read at all (an offline check with no outputs), or an output is
missing (an older ``outputsVersion``), the documented defaults below are used and the export
``childOutputsUsed`` says which outputs were read. Reading both stacks needs a Pulumi token with
read access to the central stack and to the shard.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pulumi
import pulumi_aws as aws

#: Created by org-patching in every enrolled account (README, "Stack outputs").
DEFAULT_INSTANCE_PROFILE = "InstanceProfileforPatching"
#: The window every enrolled account/region has.
DEFAULT_WINDOW = "Default_maintenance_window"
ENVIRONMENTS = ("Dev", "Test", "Prod")
#: Tags org-patching writes and owns.
MANAGED_TAGS = ["Patch Group", "maintenance_window"]


class NotEnrolledError(Exception):
    """This account is not enrolled in org-patching (or it cannot be told which shard holds it)."""


config = pulumi.Config()
environment = config.require("environment")
if environment not in ENVIRONMENTS:
    raise ValueError(f"app-team-example:environment: {environment!r} is not one of {', '.join(ENVIRONMENTS)}")
account_id = config.require("accountId")
central_stack = config.get("centralStack")
configured_child = config.get("childStack")
if not central_stack and not configured_child:
    raise ValueError("app-team-example:centralStack: set it to org-patching's central stack (org/org-patching/central)")


def qualify(stack: str) -> str:
    """``child-eu`` → ``<org>/<project>/child-eu``, in the central stack's organization and project."""
    if stack.count("/") == 2 or not central_stack or central_stack.count("/") != 2:
        return stack
    return f"{central_stack.rsplit('/', 1)[0]}/{stack}"


def child_stack_for(account_stacks: Any) -> str:
    """The shard enrolling ``account_id``, from the central stack's ``accountStacks`` output."""
    if isinstance(account_stacks, Mapping) and account_stacks:
        stack = account_stacks.get(account_id)
        if not isinstance(stack, str) or not stack:
            raise NotEnrolledError(
                f"account {account_id} is not enrolled in org-patching: the central stack {central_stack} maps "
                f"{len(account_stacks)} account(s) to child stacks (output accountStacks) and not this one. "
                "Ask the central cloud team to enroll it (org-patching:accounts or discover) before deploying here."
            )
        child = qualify(stack)
        if configured_child and configured_child != child:
            raise NotEnrolledError(
                f"app-team-example:childStack is {configured_child}, but the central stack {central_stack} puts "
                f"account {account_id} in {child}: remove childStack (the central stack's map decides)"
            )
        return child
    if configured_child:
        return configured_child
    raise NotEnrolledError(
        f"cannot tell which child stack enrolls account {account_id}: the central stack {central_stack} exports "
        "no accountStacks (not deployed yet, or an org-patching without the export); set app-team-example:childStack"
    )


if central_stack:
    central = pulumi.StackReference(central_stack)
    child_stack: pulumi.Output[str] = central.get_output("accountStacks").apply(child_stack_for)
else:
    child_stack = pulumi.Output.from_input(configured_child or "")
child = pulumi.StackReference("org-patching-child", stack_name=child_stack)


REGION = aws.config.region or "eu-west-1"


def _lookup(outputs: Mapping[str, Any], *path: str) -> Any:
    value: Any = outputs
    for key in path:
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value


def instance_profile_of(outputs: Mapping[str, Any]) -> str:
    """This account's patching instance profile (``accounts.<id>.instanceProfile.name``)."""
    value = _lookup(outputs, "accounts", account_id, "instanceProfile", "name")
    return value if isinstance(value, str) and value else DEFAULT_INSTANCE_PROFILE


def windows_here(outputs: Mapping[str, Any]) -> list[str]:
    """Names of the maintenance windows org-patching runs in this account and region."""
    windows = _lookup(outputs, "accounts", account_id, "regions", REGION, "maintenanceWindows")
    return sorted(windows) if isinstance(windows, Mapping) and windows else [DEFAULT_WINDOW]


def window_for(outputs: Mapping[str, Any]) -> str:
    """The window that patches ``environment`` here: the team's own ``<Env>_maintenance_window``
    if it exists in this account/region (Service Catalog product), else the default one."""
    own = f"{environment}_maintenance_window"
    return own if own in windows_here(outputs) else DEFAULT_WINDOW


def child_outputs() -> pulumi.Output[dict[str, Any]]:
    """The child stack outputs we read (``schemas/child-outputs.schema.json``); absent ones are left out.
    A child stack whose ``accounts`` do not include this account has not enrolled it: stop."""
    names = ("outputsVersion", "accounts", "tagContract")

    def collect(args: list[Any]) -> dict[str, Any]:
        stack, *values = args
        found = {name: value for name, value in zip(names, values, strict=True) if value is not None}
        accounts = found.get("accounts")
        if isinstance(accounts, Mapping) and account_id not in accounts:
            raise NotEnrolledError(
                f"account {account_id} is not enrolled in org-patching: the child stack {stack} does not list it "
                f"in its accounts output ({len(accounts)} account(s)). Ask the central cloud team to enroll it."
            )
        version = str(found.get("outputsVersion", "1.0"))
        if not version.startswith("1."):
            pulumi.log.warn(f"child stack outputsVersion {version}: this program was written for 1.x; check the README")
        return found

    return pulumi.Output.all(child_stack, *(child.get_output(name) for name in names)).apply(collect)


outputs = child_outputs()
profile_name = outputs.apply(instance_profile_of)
window = outputs.apply(window_for)

provider = aws.Provider(
    account_id,
    region=REGION,
    allowed_account_ids=[account_id],
    ignore_tags=aws.ProviderIgnoreTagsArgs(keys=MANAGED_TAGS),
)
opts = pulumi.ResourceOptions(provider=provider)
invoke = pulumi.InvokeOptions(provider=provider)

ami = aws.ec2.get_ami_output(
    most_recent=True,
    owners=["amazon"],
    filters=[aws.ec2.GetAmiFilterArgs(name="name", values=["al2023-ami-*-x86_64"])],
    opts=invoke,
)
vpc = aws.ec2.get_vpc_output(default=True, opts=invoke)
subnets = aws.ec2.get_subnets_output(
    filters=vpc.id.apply(lambda vpc_id: [aws.ec2.GetSubnetsFilterArgs(name="vpc-id", values=[vpc_id])]),
    opts=invoke,
)
workload_tags = {"environment": environment, "team": "payments"}

web = aws.ec2.Instance(
    "web",
    ami=ami.id,
    instance_type="t3.micro",
    subnet_id=subnets.ids[0],
    iam_instance_profile=profile_name,
    metadata_options=aws.ec2.InstanceMetadataOptionsArgs(http_tokens="required"),
    tags={**workload_tags, "Name": "web"},
    opts=opts,
)

template = aws.ec2.LaunchTemplate(
    "workers",
    image_id=ami.id,
    instance_type="t3.small",
    iam_instance_profile=aws.ec2.LaunchTemplateIamInstanceProfileArgs(name=profile_name),
    metadata_options=aws.ec2.LaunchTemplateMetadataOptionsArgs(http_tokens="required"),
    # Tags every instance the group launches carries from its first second (before the ASG's
    # own propagated tags are applied).
    tag_specifications=[
        aws.ec2.LaunchTemplateTagSpecificationArgs(resource_type="instance", tags={**workload_tags, "Name": "worker"}),
        aws.ec2.LaunchTemplateTagSpecificationArgs(resource_type="volume", tags=workload_tags),
    ],
    tags=workload_tags,
    opts=opts,
)

workers = aws.autoscaling.Group(
    "workers",
    min_size=1,
    max_size=3,
    desired_capacity=1,
    vpc_zone_identifiers=subnets.ids,
    launch_template=aws.autoscaling.GroupLaunchTemplateArgs(id=template.id, version="$Latest"),
    # org-patching patches the group (AMI rebake + instance refresh), found by these tags.
    tags=[
        aws.autoscaling.GroupTagArgs(key=key, value=value, propagate_at_launch=True)
        for key, value in workload_tags.items()
    ],
    opts=opts,
)

pulumi.export("instanceId", web.id)
pulumi.export("autoScalingGroup", workers.name)
pulumi.export("instanceProfile", profile_name)
pulumi.export("maintenanceWindow", window)
pulumi.export("maintenanceWindowsHere", outputs.apply(windows_here))
pulumi.export("childStack", child_stack)
pulumi.export("childOutputsUsed", outputs.apply(lambda found: sorted(found)))
