"""Where a stack's EC2 capacity launches from, and whether the pack can see it.

The tag and profile rules (``app_instances``, ``app_launch_templates``) judge what the stack
declares. An instance can also launch from something the stack does not declare: a launch
template referenced by id or name (created elsewhere, or read from a CloudFormation stack's
outputs), a mixed-instances override, a launch configuration, a spot fleet's or EC2 fleet's
template configs. This module lists every such reference (:func:`launch_refs`) and says, per
reference, whether it points into the stack, outside it, or at something the pack cannot see
(:func:`resolve`). The rules in ``app_launch_sources`` fail closed on the last two.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal

from ec2_fleet import (
    ASG_TYPES,
    INSTANCE_TYPES,
    LAUNCH_TEMPLATE_TYPES,
    NATIVE_ASG,
    asg_template_refs,
    instance_template_refs,
)
from stackview import Node, Pool, StackView
from wire import UNKNOWN, as_list, get_path

LAUNCH_CONFIGURATION: Final = "aws:ec2/launchConfiguration:LaunchConfiguration"
NATIVE_LAUNCH_CONFIGURATION: Final = "aws-native:autoscaling:LaunchConfiguration"
LAUNCH_CONFIGURATION_TYPES: Final = (LAUNCH_CONFIGURATION, NATIVE_LAUNCH_CONFIGURATION)
SPOT_FLEET: Final = "aws:ec2/spotFleetRequest:SpotFleetRequest"
NATIVE_SPOT_FLEET: Final = "aws-native:ec2:SpotFleet"
EC2_FLEET: Final = "aws:ec2/fleet:Fleet"
NATIVE_EC2_FLEET: Final = "aws-native:ec2:Ec2Fleet"
FLEET_TYPES: Final = (SPOT_FLEET, NATIVE_SPOT_FLEET, EC2_FLEET, NATIVE_EC2_FLEET)

Source = Literal["launch template", "launch configuration"]


@dataclass(frozen=True)
class LaunchRef:
    """One reference from a launcher to what it launches from (``value`` may be UNKNOWN)."""

    source: Source
    prop: str
    value: Any


def _specs(items: Any, spec_key: str, id_keys: tuple[str, str], prop: str) -> list[LaunchRef]:
    refs: list[LaunchRef] = []
    for item in as_list(items):
        spec = get_path(item, spec_key)
        if spec is UNKNOWN:
            refs.append(LaunchRef("launch template", prop, UNKNOWN))
        elif isinstance(spec, Mapping):
            refs.extend(LaunchRef("launch template", prop, spec[key]) for key in id_keys if spec.get(key) is not None)
    return refs


def launch_refs(node: Node) -> list[LaunchRef]:
    """Every launch template / launch configuration reference of a launcher (empty: none)."""
    props = node.props
    if node.type in INSTANCE_TYPES:
        return [LaunchRef("launch template", "launchTemplate", ref) for ref in instance_template_refs(node.type, props)]
    if node.type in ASG_TYPES:
        refs = [LaunchRef("launch template", prop, ref) for prop, ref in asg_template_refs(node.type, props)]
        key = "launchConfigurationName" if node.type == NATIVE_ASG else "launchConfiguration"
        if props.get(key) is not None and props.get(key) != "":
            refs.append(LaunchRef("launch configuration", key, props.get(key)))
        return refs
    if node.type == SPOT_FLEET:
        return _specs(
            props.get("launchTemplateConfigs"), "launchTemplateSpecification", ("id", "name"), "launchTemplateConfigs"
        )
    if node.type == NATIVE_SPOT_FLEET:
        configs = get_path(props.get("spotFleetRequestConfigData"), "launchTemplateConfigs")
        ids = ("launchTemplateId", "launchTemplateName")
        return _specs(configs, "launchTemplateSpecification", ids, "spotFleetRequestConfigData")
    if node.type in (EC2_FLEET, NATIVE_EC2_FLEET):
        ids = ("launchTemplateId", "launchTemplateName")
        return _specs(props.get("launchTemplateConfigs"), "launchTemplateSpecification", ids, "launchTemplateConfigs")
    return []


LAUNCHER_TYPES: Final = (*INSTANCE_TYPES, *ASG_TYPES, *FLEET_TYPES)


@dataclass(frozen=True)
class Unseen:
    """A reference the pack cannot follow: ``where`` is "outside" (a known id or name that no
    resource of the stack has) or "opaque" (an unknown value computed from a resource that is
    not a launch template, e.g. a CloudFormation stack's outputs)."""

    ref: LaunchRef
    where: Literal["outside", "opaque"]
    detail: str


def resolve(view: StackView, node: Node, refs: Iterable[LaunchRef], pools: Mapping[Source, Pool]) -> list[Unseen]:
    """The references of ``node`` that do not point at a template/configuration of this stack.

    Per property: a known value is looked up by id, name or ARN; one that matches nothing may
    still be a stack member whose id is not known yet (``pulumi preview``), which the property's
    dependencies show, so each unmatched value uses up one dependency on a member that no
    value matched (a mixed-instances override naming an outside template next to an inside one
    is still caught). An unknown value is followed through the dependencies; one with no
    dependency at all stays undecided (nothing says where it comes from; ``pulumi up`` decides).
    """
    groups: dict[tuple[Source, str], list[LaunchRef]] = {}
    for ref in refs:
        groups.setdefault((ref.source, ref.prop), []).append(ref)
    unseen: list[Unseen] = []
    for (source, prop), group in groups.items():
        pool = pools[source]
        deps = node.resource.property_dependencies.get(prop) or []
        members = [pool.by_urn[dep.urn] for dep in deps if dep.urn in pool.by_urn]
        matched: set[str] = set()
        unmatched: list[LaunchRef] = []
        for ref in group:
            if ref.value is UNKNOWN:
                if deps and not members:
                    origin = ", ".join(
                        f"{view.by_urn[d.urn].type} '{view.by_urn[d.urn].name}'" for d in deps if d.urn in view.by_urn
                    )
                    unseen.append(Unseen(ref, "opaque", origin or "another resource"))
            elif isinstance(ref.value, str) and ref.value:
                hits = pool.lookup(ref.value)
                matched.update(hit.urn for hit in hits)
                if not hits:
                    unmatched.append(ref)
        free = [member for member in members if member.urn not in matched]
        for ref in unmatched:
            if free:
                free.pop()
            else:
                unseen.append(Unseen(ref, "outside", str(ref.value)))
    return unseen


def source_pools(view: StackView) -> dict[Source, Pool]:
    """The stack's launch templates and launch configurations, indexed by what references them."""
    return {
        "launch template": view.pool(
            *LAUNCH_TEMPLATE_TYPES, ids=("name", "arn", "launchTemplateId", "launchTemplateName")
        ),
        "launch configuration": view.pool(*LAUNCH_CONFIGURATION_TYPES, ids=("name", "arn", "launchConfigurationName")),
    }


def allowed(value: str, patterns: Iterable[str]) -> bool:
    """``value`` matches one of the allow-list's shell-style patterns (``lt-0abc*``, ``golden-*``)."""
    return any(fnmatch.fnmatchcase(value, pattern) for pattern in patterns)
