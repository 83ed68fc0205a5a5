"""App-team rules that close the launch paths the tag rules cannot see (fail closed):
``launch-source-visible``, ``launch-configuration-instance-profile``, ``spot-fleet-patch-tags``,
``cloudformation-ec2-visible`` and ``managed-tags-not-separate``.

``app_instances`` and ``app_launch_templates`` judge the EC2 capacity a stack declares. These
rules report what would otherwise launch unjudged: a launch template or configuration that is
not in the stack (by id or name, from a CloudFormation stack output, as a mixed-instances
override), a launch configuration without an instance profile, a spot fleet's launch
specifications, a CloudFormation template holding EC2 capacity, and ``aws.ec2.Tag`` /
``aws.autoscaling.Tag`` resources writing the managed or exemption keys on the side.

The escape hatches are the standard enforcement level (``advisory``) and, for shared golden
templates and vetted CloudFormation stacks, the ``allow`` list of each rule (docs/policy-pack.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

import tag_contract as contract
from cfn_templates import TemplateError, launch_resources, parse_template
from ec2_fleet import ASG_TYPES, INSTANCE_TYPES, KIND_LABEL, asg_tags, build_fleet, instance_tags
from launch_sources import (
    LAUNCH_CONFIGURATION_TYPES,
    LAUNCHER_TYPES,
    NATIVE_SPOT_FLEET,
    SPOT_FLEET,
    Unseen,
    allowed,
    launch_refs,
    resolve,
    source_pools,
)
from pulumi_policy import EnforcementLevel, ReportViolation, ResourceValidationArgs, StackValidationArgs
from registry import resource_policy, stack_policy
from settings import PROFILE_SCHEMA, TAG_SCHEMA, TagSettings
from stackview import Node, Pool, StackView
from verdicts import judge_tags, profile_problem
from wire import UNKNOWN, Tags, as_list, config_strings, get_path, plain, read_tags

ALLOW_SCHEMA: Final[dict[str, Any]] = {
    "allow": {
        "type": "array",
        "items": {"type": "string", "minLength": 1},
        "default": [],
        "description": "Shell-style patterns of the vetted sources this rule trusts without seeing them.",
    },
}
CFN_STACK_TYPES: Final = (
    "aws:cloudformation/stack:Stack",
    "aws:cloudformation/stackSet:StackSet",
    "aws-native:cloudformation:Stack",
    "aws-native:cloudformation:StackSet",
)
EC2_TAG: Final = "aws:ec2/tag:Tag"
ASG_TAG: Final = "aws:autoscaling/tag:Tag"

LABELS: Final = {
    **KIND_LABEL,
    SPOT_FLEET: "spot fleet request",
    NATIVE_SPOT_FLEET: "spot fleet (aws-native)",
    "aws:ec2/fleet:Fleet": "EC2 fleet",
    "aws-native:ec2:Ec2Fleet": "EC2 fleet (aws-native)",
}


def _allow(config: Mapping[str, Any]) -> tuple[str, ...]:
    return config_strings(config.get("allow"), ())


def _brings_its_own(node: Node, settings: TagSettings) -> bool:
    """An instance whose own tags and profile already make it patchable: the template it launches
    from can add tags, not take them away (the instance's tags win), so it cannot hide it."""
    if node.type not in INSTANCE_TYPES:
        return False
    verdict = judge_tags(instance_tags(node.type, node.props, node.resource.provider), settings)
    if verdict.problems:
        return False
    value = node.props.get("iamInstanceProfile")
    return value is not None and value != "" and profile_problem(value, settings) is None


def _unseen_message(node: Node, miss: Unseen, settings: TagSettings) -> str:
    what = miss.ref.source
    if miss.where == "outside":
        where = f"{what} '{miss.detail}', which is not in this stack"
    else:
        where = f"a {what} computed from {miss.detail} (e.g. a CloudFormation stack output)"
    fix = "declare the " + what + " in this stack"
    if node.type in INSTANCE_TYPES:
        fix += ", or set the patch tags and iam_instance_profile on the instance itself"
    return (
        f"{LABELS.get(node.type, node.type)} '{node.name}' launches from {where}: the pack cannot see the tags and "
        f"instance profile of what it launches. Fix: {fix}, or have the platform team add the vetted {what} to "
        f"this policy's 'allow' list, or {settings.exemption_hint()}."
    )


@stack_policy(
    name="launch-source-visible",
    description="Instances, Auto Scaling groups and fleets launch only from templates the pack can judge.",
    remediation=(
        "Declare the launch template (or configuration) in the same stack, so the template rules judge it; or add "
        "a vetted shared template's id or name to this policy's 'allow' list; or exempt the workload."
    ),
    group="app-team",
    level=EnforcementLevel.MANDATORY,
    config={**TAG_SCHEMA, **PROFILE_SCHEMA, **ALLOW_SCHEMA},
)
def launch_source_visible(args: StackValidationArgs, report: ReportViolation) -> None:
    """A reference the stack cannot resolve is a violation unless it is allow-listed, the
    launcher is exempt or EKS/ECS-managed, or (instances) the instance is patchable on its own.
    A fully unknown reference with no dependency stays quiet (``pulumi up`` decides)."""
    config = args.get_config()
    settings = TagSettings.from_config(config)
    patterns = _allow(config)
    fleet = build_fleet(args)
    pools = source_pools(fleet.view)
    for node in fleet.view.of_type(*LAUNCHER_TYPES):
        refs = launch_refs(node)
        if not refs or node.urn in fleet.managed:
            continue
        if node.type in ASG_TYPES:
            everything, _ = asg_tags(node.props)
            if contract.skip_reason(settings.to_contract(everything.known), "asg"):
                continue
        elif node.type in INSTANCE_TYPES and _brings_its_own(node, settings):
            continue
        elif node.type in INSTANCE_TYPES:
            own = instance_tags(node.type, node.props, node.resource.provider)
            if judge_tags(own, settings).skip:
                continue
        for miss in resolve(fleet.view, node, refs, pools):
            if miss.where == "outside" and allowed(miss.detail, patterns):
                continue
            report(_unseen_message(node, miss, settings), node.urn)


@stack_policy(
    name="launch-configuration-instance-profile",
    description="Launch configurations give their instances an IAM instance profile, so SSM can patch them.",
    remediation=(
        "Set iam_instance_profile on the launch configuration to a profile whose role has "
        "AmazonSSMManagedInstanceCore (better: move to a launch template; AWS no longer adds features to "
        "launch configurations)."
    ),
    group="app-team",
    level=EnforcementLevel.MANDATORY,
    config={**TAG_SCHEMA, **PROFILE_SCHEMA},
)
def launch_configuration_instance_profile(args: StackValidationArgs, report: ReportViolation) -> None:
    """A launch configuration has no tags; it is left alone only when every group of the stack
    that uses it is exempt or EKS/ECS-managed (its tags are judged by ``asg-patch-tags``)."""
    settings = TagSettings.from_config(args.get_config())
    fleet = build_fleet(args)
    pools = source_pools(fleet.view)
    configurations = pools["launch configuration"]
    users: dict[str, list[Node]] = {node.urn: [] for node in configurations}
    for asg in fleet.asgs:
        for ref in launch_refs(asg):
            if ref.source == "launch configuration":
                for hit in fleet.view.points_to(asg, ref.prop, [ref.value], configurations) or []:
                    users[hit.urn].append(asg)
    for node in configurations:
        groups = users[node.urn]
        if groups and all(
            asg.urn in fleet.managed or contract.skip_reason(settings.to_contract(asg_tags(asg.props)[0].known), "asg")
            for asg in groups
        ):
            continue
        key = "iamInstanceProfile"
        problem = profile_problem(node.props.get(key), settings)
        if problem:
            report(
                f"launch configuration '{node.name}' {problem}. Fix: set iam_instance_profile to a profile whose role "
                f"has AmazonSSMManagedInstanceCore (e.g. 'InstanceProfileforPatching'), or "
                f"{settings.exemption_hint()} on its Auto Scaling group.",
                node.urn,
            )


def _spot_specs(type_: str, props: Mapping[str, Any]) -> list[tuple[Tags, Any]]:
    """(instance tags, instance profile) of each launch specification of a spot fleet."""
    if type_ == SPOT_FLEET:
        return [
            (
                read_tags(get_path(spec, "tags")),
                get_path(spec, "iamInstanceProfile") or get_path(spec, "iamInstanceProfileArn"),
            )
            for spec in as_list(props.get("launchSpecifications"))
        ]
    specs = as_list(get_path(props.get("spotFleetRequestConfigData"), "launchSpecifications"))
    found: list[tuple[Tags, Any]] = []
    for spec in specs:
        tag_parts = [
            read_tags(get_path(item, "tags"))
            for item in as_list(get_path(spec, "tagSpecifications"))
            if get_path(item, "resourceType") in ("instance", UNKNOWN)
        ]
        tags = tag_parts[0] if len(tag_parts) == 1 else Tags({}, set(), False)
        for part in tag_parts[1:]:
            tags = Tags({**tags.known, **part.known}, tags.unknown_keys | part.unknown_keys, tags.opaque or part.opaque)
        profile = get_path(spec, "iamInstanceProfile", "arn")
        found.append((tags, profile))
    return found


@resource_policy(
    name="spot-fleet-patch-tags",
    description="Spot fleet launch specifications tag their instances and give them an instance profile.",
    remediation=(
        "Give each launch specification the patch tags (environment=Dev|Test|Prod) and an instance profile with "
        "AmazonSSMManagedInstanceCore; the request's own tags do not reach its instances."
    ),
    group="app-team",
    level=EnforcementLevel.MANDATORY,
    config={**TAG_SCHEMA, **PROFILE_SCHEMA},
    types=(SPOT_FLEET, NATIVE_SPOT_FLEET),
)
def spot_fleet_patch_tags(args: ResourceValidationArgs, report: ReportViolation) -> None:
    """Each launch specification is an instance of its own: its tags and profile must pass.
    Template configs are for ``launch-source-visible`` and the template rules."""
    settings = TagSettings.from_config(args.get_config())
    props = plain(args.props)
    for position, (tags, profile) in enumerate(_spot_specs(args.resource_type, props)):
        verdict = judge_tags(tags, settings)
        if verdict.skip:
            continue
        problems = list(verdict.problems) if verdict.violates else []
        problem = profile_problem(profile, settings)
        if problem:
            problems.append(problem)
        if problems:
            report(
                f"{LABELS[args.resource_type]} '{args.name}' launch specification {position} would not be patched: "
                f"{'; '.join(problems)}. Fix: set tag '{settings.environment_tag}' to one of "
                f"{', '.join(settings.environments)} and an instance profile on the launch specification, or "
                f"{settings.exemption_hint()}.",
                None,
            )


def _stack_name(props: Mapping[str, Any], name: str) -> str:
    for key in ("name", "stackName", "stackSetName"):
        value = props.get(key)
        if isinstance(value, str) and value:
            return value
    return name


@resource_policy(
    name="cloudformation-ec2-visible",
    description="CloudFormation stacks and stack sets launch only EC2 capacity the pack can judge.",
    remediation=(
        "Declare EC2 instances and launch templates in Pulumi (or give them literal patch tags and an instance "
        "profile in the template); vetted stacks go into this policy's 'allow' list."
    ),
    group="app-team",
    level=EnforcementLevel.MANDATORY,
    config={**TAG_SCHEMA, **ALLOW_SCHEMA},
    types=CFN_STACK_TYPES,
)
def cloudformation_ec2_visible(args: ResourceValidationArgs, report: ReportViolation) -> None:
    """A template by URL or unreadable is a violation; in a readable body, an instance or launch
    template must carry literal patch tags (or an exemption) and an instance profile, and every
    other launch resource (groups, configurations, fleets, nested stacks, macros) is reported."""
    config = args.get_config()
    settings = TagSettings.from_config(config)
    props = plain(args.props)
    name = _stack_name(props, args.name)
    if allowed(name, _allow(config)):
        return
    body = props.get("templateBody")
    kind = "stack set" if args.resource_type.lower().endswith("stackset") else "stack"
    label = f"CloudFormation {kind} '{args.name}'"
    hint = f"add '{name}' to this policy's 'allow' list once vetted"
    if body is UNKNOWN:
        return  # computed at preview: the real pulumi up decides with the text
    if not isinstance(body, str) or not body.strip():
        if props.get("templateUrl"):
            report(
                f"{label} takes its template from templateUrl: the pack cannot see whether it launches unpatchable "
                f"EC2 instances. Fix: pass template_body, or {hint}.",
                None,
            )
        return
    try:
        resources = launch_resources(parse_template(body))
    except TemplateError as error:
        report(f"{label}: {error}; the pack cannot see what it launches. Fix: {hint}.", None)
        return
    for resource in resources:
        if not resource.judgeable:
            report(
                f"{label} declares {resource.type} '{resource.logical_id}': the pack cannot judge what it launches "
                f"from the template. Fix: declare it in Pulumi, or {hint}.",
                None,
            )
            continue
        verdict = judge_tags(Tags(resource.tags, set(), resource.hidden_tags), settings)
        if verdict.skip:
            continue
        problems = list(verdict.problems)
        if problems and resource.hidden_tags:
            problems.append("(some tags are intrinsic functions the pack cannot read)")
        if not resource.has_profile:
            problems.append("no IamInstanceProfile, so SSM cannot reach its instances")
        if problems:
            report(
                f"{label} declares {resource.type} '{resource.logical_id}' that would not be patched: "
                f"{'; '.join(problems)}. Fix: give it literal Tags with '{settings.environment_tag}' "
                f"({', '.join(settings.environments)}) and an IamInstanceProfile, or {hint}.",
                None,
            )


def _written_tag(node: Node) -> tuple[Any, Any, str]:
    """(key, value, target property) of a tag resource."""
    if node.type == ASG_TAG:
        return get_path(node.props, "tag", "key"), get_path(node.props, "tag", "value"), "autoscalingGroupName"
    return node.props.get("key"), node.props.get("value"), "resourceId"


def _targets_own(node: Node, prop: str, own: Pool, view: StackView) -> bool:
    """The tag resource's target is one of this stack's resources (or can't be told yet)."""
    hits = view.referenced(node, prop, own)
    if hits is None:
        return not node.resource.property_dependencies.get(prop)
    return bool(hits)


@stack_policy(
    name="managed-tags-not-separate",
    description="No separate tag resource writes the managed tags, or an exemption onto another stack's resource.",
    remediation=(
        "Set 'environment' on the resource itself and let org-patching write 'Patch Group' and 'maintenance_window'; "
        "exempt a resource with install_patch=no on the resource itself, in the stack that owns it."
    ),
    group="app-team",
    level=EnforcementLevel.MANDATORY,
    config=TAG_SCHEMA,
)
def managed_tags_not_separate(args: StackValidationArgs, report: ReportViolation) -> None:
    """``aws.ec2.Tag``/``aws.autoscaling.Tag`` act on any resource id, including another team's
    instance or a resource no stack judges: a managed key written that way is never checked, and
    an exemption written that way opts out someone else's capacity. Exemptions are accepted when
    the target is an instance, group or template of this same stack."""
    settings = TagSettings.from_config(args.get_config())
    fleet = build_fleet(args)
    own = fleet.view.pool(*INSTANCE_TYPES, *ASG_TYPES, *LAUNCH_CONFIGURATION_TYPES, ids=("name", "arn"))
    managed_keys = (settings.patch_group_tag, settings.maintenance_window_tag)
    for node in fleet.view.of_type(EC2_TAG, ASG_TAG):
        key, value, target_prop = _written_tag(node)
        target = node.props.get(target_prop)
        label = f"{'Auto Scaling' if node.type == ASG_TAG else 'EC2'} tag resource '{node.name}'"
        if key in managed_keys:
            report(
                f"{label} writes the managed tag '{key}' on {target if isinstance(target, str) else 'a resource'}: "
                f"only org-patching writes it. Fix: set '{settings.environment_tag}' on the resource itself.",
                node.urn,
            )
        elif (
            key in settings.exemption_tags
            and isinstance(value, str)
            and value.strip().casefold() == contract.EXEMPTION_VALUE
            and not _targets_own(node, target_prop, own, fleet.view)
        ):
            report(
                f"{label} exempts {target if isinstance(target, str) else 'a resource'} that is not declared in this "
                f"stack. Fix: set {key}={value} on the resource itself, in the stack that owns it.",
                node.urn,
            )
