"""The EC2 fleet of a stack as the app-team policies see it: instances, launch templates, Auto
Scaling groups and instance profiles in their wire form, and who launches and manages what.

Where the tags of an instance come from decides which policy looks:

* a standalone instance (pulumi-aws, aws-native, spot request): its own ``tags`` plus the
  provider's ``defaultTags`` -> ``ec2-instance-*`` (resource policies, so they can remediate);
* an instance launched from a launch template, or a launch template: the template's
  ``instance`` tag specifications merged with the instance's tags -> ``launch-template-*``;
* an Auto Scaling group: tags it propagates at launch merged with its launch template's ->
  ``asg-patch-tags``.

The launch-template and ASG rules are stack policies because the contract exempts EKS- and
ECS-managed capacity, and only the stack shows that a template belongs to an EKS node group or
an ASG to an ECS capacity provider (:func:`build_fleet` joins them once per stack policy).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

import tag_contract as contract
from pulumi_policy import PolicyProviderResource, StackValidationArgs
from stackview import Node, Pool, StackView
from wire import UNKNOWN, Tags, as_list, get_path, merge_tags, provider_config, read_tags

EC2_INSTANCE: Final = "aws:ec2/instance:Instance"
SPOT_REQUEST: Final = "aws:ec2/spotInstanceRequest:SpotInstanceRequest"
NATIVE_INSTANCE: Final = "aws-native:ec2:Instance"
INSTANCE_TYPES: Final = (EC2_INSTANCE, SPOT_REQUEST, NATIVE_INSTANCE)
LAUNCH_TEMPLATE: Final = "aws:ec2/launchTemplate:LaunchTemplate"
NATIVE_LAUNCH_TEMPLATE: Final = "aws-native:ec2:LaunchTemplate"
LAUNCH_TEMPLATE_TYPES: Final = (LAUNCH_TEMPLATE, NATIVE_LAUNCH_TEMPLATE)
ASG: Final = "aws:autoscaling/group:Group"
NATIVE_ASG: Final = "aws-native:autoscaling:AutoScalingGroup"
ASG_TYPES: Final = (ASG, NATIVE_ASG)
EKS_NODE_GROUP_TYPES: Final = ("aws:eks/nodeGroup:NodeGroup", "aws-native:eks:Nodegroup")
ECS_CAPACITY_PROVIDER_TYPES: Final = ("aws:ecs/capacityProvider:CapacityProvider", "aws-native:ecs:CapacityProvider")
INSTANCE_PROFILE_TYPES: Final = ("aws:iam/instanceProfile:InstanceProfile", "aws-native:iam:InstanceProfile")

KIND_LABEL: Final = {
    EC2_INSTANCE: "EC2 instance",
    SPOT_REQUEST: "spot instance request",
    NATIVE_INSTANCE: "EC2 instance (aws-native)",
    LAUNCH_TEMPLATE: "launch template",
    NATIVE_LAUNCH_TEMPLATE: "launch template (aws-native)",
    ASG: "Auto Scaling group",
    NATIVE_ASG: "Auto Scaling group (aws-native)",
}


# --- reading the wire form -----------------------------------------------------------------


def provider_default_tags(provider: PolicyProviderResource | None) -> Tags:
    """pulumi-aws provider ``defaultTags.tags`` (JSON text on the wire) apply to instances too."""
    return read_tags(get_path(provider_config(provider, "defaultTags"), "tags"))


def instance_tags(type_: str, props: Mapping[str, Any], provider: PolicyProviderResource | None = None) -> Tags:
    """The tags an instance-like resource is created with."""
    own = read_tags(props.get("tags"))
    if type_ == NATIVE_INSTANCE:
        return own
    return merge_tags([provider_default_tags(provider), own])


def template_data(node_type: str, props: Mapping[str, Any]) -> Mapping[str, Any] | Any:
    """Where a launch template keeps its instance settings (aws-native nests them)."""
    if node_type == NATIVE_LAUNCH_TEMPLATE:
        data = props.get("launchTemplateData")
        return data if data is not None else {}
    return props


def template_instance_tags(node_type: str, props: Mapping[str, Any]) -> Tags:
    """Tags a launch template gives the instances it launches (``resourceType: instance``)."""
    data = template_data(node_type, props)
    specs = get_path(data, "tagSpecifications") if data is not UNKNOWN else UNKNOWN
    parts: list[Tags] = []
    for spec in as_list(specs):
        if spec is UNKNOWN:
            parts.append(Tags({}, set(), True))
            continue
        if not isinstance(spec, Mapping):
            continue
        resource_type = spec.get("resourceType")
        if resource_type is UNKNOWN:
            parts.append(Tags({}, set(), True))
        elif resource_type == "instance":
            parts.append(read_tags(spec.get("tags")))
    return merge_tags(parts)


def template_own_tags(node_type: str, props: Mapping[str, Any]) -> Tags:
    """Tags on the launch template itself (markers such as EKS's live here)."""
    if node_type == NATIVE_LAUNCH_TEMPLATE:
        parts = [
            read_tags(spec.get("tags"))
            for spec in as_list(props.get("tagSpecifications"))
            if isinstance(spec, Mapping) and spec.get("resourceType") == "launch-template"
        ]
        return merge_tags(parts)
    return read_tags(props.get("tags"))


def template_profile(node_type: str, props: Mapping[str, Any]) -> Any:
    """The launch template's instance profile name or ARN (None: none; UNKNOWN: can't tell)."""
    profile = get_path(template_data(node_type, props), "iamInstanceProfile")
    if profile is None or profile is UNKNOWN:
        return profile
    name = get_path(profile, "name")
    arn = get_path(profile, "arn")
    if name is UNKNOWN or arn is UNKNOWN:
        return UNKNOWN
    return name or arn or None


def asg_tags(props: Mapping[str, Any]) -> tuple[Tags, Tags]:
    """(all tags, tags propagated at launch) of an Auto Scaling group (both providers)."""
    entries = as_list(props.get("tags"))
    everything = read_tags(props.get("tags"))
    propagated: list[Any] = []
    opaque = False
    for entry in entries:
        if entry is UNKNOWN:
            opaque = True
        elif isinstance(entry, Mapping):
            flag = entry.get("propagateAtLaunch")
            if flag is UNKNOWN:
                opaque = True
            elif flag is True or (isinstance(flag, str) and flag.lower() == "true"):
                propagated.append(entry)
    tags = read_tags(propagated)
    return everything, Tags(tags.known, tags.unknown_keys, tags.opaque or opaque)


def asg_template_refs(node_type: str, props: Mapping[str, Any]) -> list[tuple[str, Any]]:
    """(top-level prop, id-or-name) for every launch template an ASG references."""
    refs: list[tuple[str, Any]] = []
    direct = props.get("launchTemplate")
    id_key, name_key = ("launchTemplateId", "launchTemplateName") if node_type == NATIVE_ASG else ("id", "name")
    if direct is UNKNOWN:
        refs.append(("launchTemplate", UNKNOWN))
    elif isinstance(direct, Mapping):
        refs.extend(("launchTemplate", direct.get(key)) for key in (id_key, name_key) if direct.get(key) is not None)
    spec = get_path(props.get("mixedInstancesPolicy"), "launchTemplate", "launchTemplateSpecification")
    if spec is UNKNOWN:
        refs.append(("mixedInstancesPolicy", UNKNOWN))
    elif isinstance(spec, Mapping):
        refs.extend(
            ("mixedInstancesPolicy", spec.get(key))
            for key in ("launchTemplateId", "launchTemplateName")
            if spec.get(key) is not None
        )
    # A mixed-instances override may launch some instance types from another template.
    overrides = get_path(props.get("mixedInstancesPolicy"), "launchTemplate", "overrides")
    for override in as_list(overrides):
        spec = get_path(override, "launchTemplateSpecification")
        if spec is UNKNOWN:
            refs.append(("mixedInstancesPolicy", UNKNOWN))
        elif isinstance(spec, Mapping):
            refs.extend(
                ("mixedInstancesPolicy", spec.get(key))
                for key in ("launchTemplateId", "launchTemplateName")
                if spec.get(key) is not None
            )
    return refs


def instance_template_refs(node_type: str, props: Mapping[str, Any]) -> list[Any]:
    """Launch template ids/names an instance is launched from."""
    spec = props.get("launchTemplate")
    if spec is UNKNOWN:
        return [UNKNOWN]
    if not isinstance(spec, Mapping):
        return []
    keys = ("launchTemplateId", "launchTemplateName") if node_type == NATIVE_INSTANCE else ("id", "name")
    return [spec.get(key) for key in keys if spec.get(key) is not None]


# --- joining the stack ---------------------------------------------------------------------


@dataclass
class Fleet:
    """The stack's EC2 capacity and who manages it, joined once per stack policy."""

    view: StackView
    templates: Pool
    asgs: Pool
    instances: list[Node]
    #: template URN -> instances / ASGs launched from it
    template_users: dict[str, list[Node]]
    #: instance URN -> the templates in this stack it is launched from
    instance_templates: dict[str, list[Node]]
    #: ASG URN -> its templates; None: at least one reference can't be resolved yet
    asg_templates: dict[str, list[Node] | None]
    #: URNs of templates/ASGs EKS or ECS manages, with the reason
    managed: dict[str, str]


_TEMPLATE_IDS: Final = ("name", "arn", "launchTemplateId", "launchTemplateName")


def build_fleet(args: StackValidationArgs) -> Fleet:
    view = StackView(args.resources)
    templates = view.pool(*LAUNCH_TEMPLATE_TYPES, ids=_TEMPLATE_IDS)
    asgs = view.pool(*ASG_TYPES, ids=("arn", "name"))
    instances = list(view.of_type(*INSTANCE_TYPES))
    users: dict[str, list[Node]] = {template.urn: [] for template in templates}
    instance_templates: dict[str, list[Node]] = {}
    asg_templates: dict[str, list[Node] | None] = {}
    managed: dict[str, str] = {}

    for asg in asgs:
        found: list[Node] | None = []
        for prop, ref in asg_template_refs(asg.type, asg.props):
            hits = view.points_to(asg, prop, [ref], templates)
            if hits is None or found is None:
                found = None
                continue
            found.extend(hit for hit in hits if hit not in found)
        asg_templates[asg.urn] = found
        for template in found or []:
            users[template.urn].append(asg)
    for instance in instances:
        refs = instance_template_refs(instance.type, instance.props)
        hits = view.points_to(instance, "launchTemplate", refs, templates) if refs else []
        instance_templates[instance.urn] = hits or []
        for template in hits or []:
            users[template.urn].append(instance)

    for group in view.of_type(*EKS_NODE_GROUP_TYPES):
        spec = group.props.get("launchTemplate")
        refs = [spec] if spec is UNKNOWN else [get_path(spec, "id"), get_path(spec, "name")]
        for template in view.points_to(group, "launchTemplate", [r for r in refs if r is not None], templates) or []:
            managed[template.urn] = f"managed: launch template of EKS node group '{group.name}'"
    for provider in view.of_type(*ECS_CAPACITY_PROVIDER_TYPES):
        arn = get_path(provider.props, "autoScalingGroupProvider", "autoScalingGroupArn")
        for asg in view.points_to(provider, "autoScalingGroupProvider", [arn], asgs) or []:
            managed[asg.urn] = f"managed: Auto Scaling group of ECS capacity provider '{provider.name}'"
    for asg in asgs:
        everything, _ = asg_tags(asg.props)
        reason = contract.managed_elsewhere_reason(everything.known, "asg")
        if reason and asg.urn not in managed:
            managed[asg.urn] = reason
    for asg in asgs:
        if asg.urn in managed:
            for template in asg_templates.get(asg.urn) or []:
                managed.setdefault(template.urn, f"{managed[asg.urn]} (via Auto Scaling group '{asg.name}')")
    return Fleet(view, templates, asgs, instances, users, instance_templates, asg_templates, managed)


def profile_users(view: StackView, profiles: Pool) -> dict[str, list[Node]]:
    """Profile URN -> the instances and launch templates of the stack that use it."""
    users: dict[str, list[Node]] = {}
    for node in view.nodes:
        if node.type in INSTANCE_TYPES:
            hits = view.referenced(node, "iamInstanceProfile", profiles)
        elif node.type in LAUNCH_TEMPLATE_TYPES:
            prop = "launchTemplateData" if node.type == NATIVE_LAUNCH_TEMPLATE else "iamInstanceProfile"
            value = template_profile(node.type, node.props)
            hits = view.points_to(node, prop, [value] if value else [], profiles)
        else:
            continue
        for profile in hits or []:
            users.setdefault(profile.urn, []).append(node)
    return users
