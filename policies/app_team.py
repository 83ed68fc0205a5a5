"""App-team policies: every EC2 workload in the organization can be patched by org-patching.

They run on every stack of the organization (the pack is enabled org-wide). An EC2 workload
is patchable when it carries the patch tags the tag contract asks for (an ``environment`` tag
alone is enough: org-patching derives the rest) and has an instance profile whose role lets
SSM in. The tag rules are ``tag_contract``'s; this module only finds the tags in each
resource type's wire form and words the messages.

Where the tags of an instance come from decides which policy looks:

* a standalone instance (pulumi-aws, aws-native, spot request): its own ``tags`` plus the
  provider's ``defaultTags`` -> ``ec2-instance-*`` (resource policies, so they can remediate);
* an instance launched from a launch template, or a launch template: the template's
  ``instance`` tag specifications merged with the instance's tags -> ``launch-template-*``;
* an Auto Scaling group: tags it propagates at launch merged with its launch template's ->
  ``asg-patch-tags``.

The launch-template and ASG rules are stack policies because the contract exempts EKS- and
ECS-managed capacity, and only the stack shows that a template belongs to an EKS node group or
an ASG to an ECS capacity provider. Unknown values (``pulumi preview``) never produce a
violation: a rule that cannot tell stays quiet and the real ``pulumi up`` decides.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final

import tag_contract as contract
from pulumi_policy import (
    EnforcementLevel,
    PolicyProviderResource,
    ReportViolation,
    ResourceValidationArgs,
    StackValidationArgs,
)
from registry import resource_policy, stack_policy
from settings import PROFILE_SCHEMA, TAG_SCHEMA, TagSettings
from stackview import Node, Pool, StackView
from wire import (
    UNKNOWN,
    Tags,
    as_list,
    get_path,
    is_unknown,
    json_or_obj,
    merge_tags,
    plain,
    provider_config,
    raw,
    read_tags,
    strings,
)

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
ROLE_TYPES: Final = ("aws:iam/role:Role", "aws-native:iam:Role")
MANAGED_POLICY_TYPES: Final = ("aws:iam/policy:Policy", "aws-native:iam:ManagedPolicy")

KIND_LABEL: Final = {
    EC2_INSTANCE: "EC2 instance",
    SPOT_REQUEST: "spot instance request",
    NATIVE_INSTANCE: "EC2 instance (aws-native)",
    LAUNCH_TEMPLATE: "launch template",
    NATIVE_LAUNCH_TEMPLATE: "launch template (aws-native)",
    ASG: "Auto Scaling group",
    NATIVE_ASG: "Auto Scaling group (aws-native)",
}

#: The managed policy that lets SSM manage (and so patch) an instance.
SSM_CORE_POLICY: Final = "AmazonSSMManagedInstanceCore"
#: What SSM Agent needs to register, receive Run Command (AWS-RunPatchBaseline) and report
#: patch compliance: the core of AmazonSSMManagedInstanceCore. A custom policy granting all of
#: these is accepted instead of the managed one.
SSM_PATCH_ACTIONS: Final = (
    "ssm:UpdateInstanceInformation",
    "ssm:ListInstanceAssociations",
    "ssm:GetDocument",
    "ssm:PutInventory",
    "ssm:PutComplianceItems",
    "ec2messages:GetMessages",
    "ec2messages:AcknowledgeMessage",
    "ec2messages:SendReply",
)

TAG_REMEDIATION: Final = (
    "Tag the workload environment=Dev|Test|Prod (org-patching derives 'Patch Group' and "
    "'maintenance_window' from it and its tag-remediation Lambda keeps them current), or set both managed "
    "tags to contract values, or opt out with install_patch=no. Let org-patching own the two managed tags "
    "(pulumi-aws provider ignoreTags.keys) so your stack does not fight the Lambda. At enforcement level "
    "'remediate' the pack adds missing managed tags derived from environment on instances."
)
PROFILE_REMEDIATION: Final = (
    "Give the workload an IAM instance profile whose role has AmazonSSMManagedInstanceCore attached "
    "(org-patching creates 'InstanceProfileforPatching' in every account), or opt out with install_patch=no."
)


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


# --- deciding --------------------------------------------------------------------------------


@dataclass(frozen=True)
class TagVerdict:
    """``problems`` empty: fine. ``undecided``: unknowns could change the answer (stay quiet)."""

    problems: tuple[str, ...] = ()
    skip: str | None = None
    undecided: bool = False

    @property
    def violates(self) -> bool:
        return bool(self.problems) and not self.undecided and self.skip is None


def _unknown_key_could_skip(tags: Tags, settings: TagSettings, kind: contract.ResourceKind) -> bool:
    return any(
        key in settings.relevant_keys or contract.managed_elsewhere_reason({key: "?"}, kind)
        for key in tags.unknown_keys
    )


def judge_tags(tags: Tags, settings: TagSettings, kind: contract.ResourceKind = "instance") -> TagVerdict:
    """The contract's deploy-time verdict on ``tags``, in the configured vocabulary."""
    view = settings.to_contract(tags.known)
    reason = contract.skip_reason(view, kind)
    if reason:
        return TagVerdict(skip=reason)
    problems = [settings.say(problem) for problem in contract.deploy_time_problems(view, kind)]
    bad_environment = settings.disallowed_environment(tags.known)
    if bad_environment is not None:
        problems.append(
            f"tag '{settings.environment_tag}'={bad_environment!r} is not an environment this organization allows "
            f"(allowed: {', '.join(settings.environments)})"
        )
    undecided = bool(problems) and (tags.opaque or _unknown_key_could_skip(tags, settings, kind))
    return TagVerdict(tuple(problems), None, undecided)


def tag_message(label: str, name: str, verdict: TagVerdict, settings: TagSettings, via: str = "") -> str:
    """What the user needs: which resource, which tag, what values are allowed, how to exempt."""
    return (
        f"{label} '{name}'{via} would not be patched: {'; '.join(verdict.problems)}. "
        f"Fix: set tag '{settings.environment_tag}' to one of {', '.join(settings.environments)} "
        f"(org-patching derives '{settings.patch_group_tag}' and '{settings.maintenance_window_tag}' from it), "
        f"or set both of those tags yourself, or {settings.exemption_hint()}."
    )


def profile_name(value: str) -> str:
    """``arn:aws:iam::123:instance-profile/path/name`` -> ``name``; a name stays a name."""
    return value.rsplit("/", 1)[-1] if value.startswith("arn:") else value


def profile_problem(value: Any, settings: TagSettings) -> str | None:
    """Why an instance profile setting does not let SSM patch (None: fine or can't tell)."""
    if value is UNKNOWN:
        return None
    if not isinstance(value, str) or not value.strip():
        return "has no IAM instance profile, so SSM cannot reach it to patch"
    if settings.instance_profiles and profile_name(value) not in settings.instance_profiles:
        return (
            f"uses instance profile '{profile_name(value)}', which is not one of the allowed profiles "
            f"({', '.join(settings.instance_profiles)})"
        )
    return None


def profile_message(label: str, name: str, problem: str, settings: TagSettings, via: str = "") -> str:
    allowed = (
        f"one of {', '.join(settings.instance_profiles)}"
        if settings.instance_profiles
        else "a profile whose role has AmazonSSMManagedInstanceCore (e.g. 'InstanceProfileforPatching')"
    )
    return (
        f"{label} '{name}'{via} {problem}. Fix: set iam_instance_profile to {allowed}, or {settings.exemption_hint()}."
    )


# --- instances: resource policies (they can remediate) ---------------------------------------


def _remediate_instance(args: ResourceValidationArgs) -> Mapping[str, Any] | None:
    """Add the managed tags the contract derives from ``environment`` (remediate level)."""
    if args.resource_type not in INSTANCE_TYPES:
        return None
    settings = TagSettings.from_config(args.get_config())
    props = plain(args.props)
    tags = instance_tags(args.resource_type, props, args.provider)
    if tags.opaque or _unknown_key_could_skip(tags, settings, "instance"):
        return None
    fixed = contract.remediated_tags(settings.to_contract(tags.known), "instance")
    if fixed is None:
        return None
    added = {key: value for key, value in settings.from_contract(fixed, tags.known).items() if key not in tags.known}
    if not added:
        return None
    new_props = raw(args.props)
    if args.resource_type == NATIVE_INSTANCE:
        new_props["tags"] = [*(new_props.get("tags") or []), *({"key": k, "value": v} for k, v in added.items())]
    else:
        new_props["tags"] = {**(new_props.get("tags") or {}), **added}
    return new_props


@resource_policy(
    name="ec2-instance-patch-tags",
    description="EC2 instances carry the org-patching patch tags (or environment, or an exemption).",
    remediation=TAG_REMEDIATION,
    group="app-team",
    level=EnforcementLevel.MANDATORY,
    config=TAG_SCHEMA,
    remediate=_remediate_instance,
)
def ec2_instance_patch_tags(args: ResourceValidationArgs, report: ReportViolation) -> None:
    """Standalone instances (pulumi-aws, aws-native, spot requests). An instance launched from a
    launch template that lacks tags is judged with the template by ``launch-template-patch-tags``."""
    if args.resource_type not in INSTANCE_TYPES:
        return
    settings = TagSettings.from_config(args.get_config())
    props = plain(args.props)
    verdict = judge_tags(instance_tags(args.resource_type, props, args.provider), settings)
    if not verdict.violates or instance_template_refs(args.resource_type, props):
        return
    report(tag_message(KIND_LABEL[args.resource_type], args.name, verdict, settings), None)


@resource_policy(
    name="ec2-instance-profile",
    description="EC2 instances have an IAM instance profile, so SSM can patch them.",
    remediation=PROFILE_REMEDIATION,
    group="app-team",
    level=EnforcementLevel.MANDATORY,
    config={**TAG_SCHEMA, **PROFILE_SCHEMA},
)
def ec2_instance_profile(args: ResourceValidationArgs, report: ReportViolation) -> None:
    """Instances without a profile can't be reached by SSM; exempt/managed ones are left alone."""
    if args.resource_type not in INSTANCE_TYPES:
        return
    settings = TagSettings.from_config(args.get_config())
    props = plain(args.props)
    verdict = judge_tags(instance_tags(args.resource_type, props, args.provider), settings)
    if verdict.skip or (verdict.undecided and verdict.problems):
        return
    value = props.get("iamInstanceProfile")
    if (value is None or value == "") and instance_template_refs(args.resource_type, props):
        return  # the launch template may carry it: launch-template-instance-profile decides
    problem = profile_problem(value, settings)
    if problem:
        report(profile_message(KIND_LABEL[args.resource_type], args.name, problem, settings), None)


# --- launch templates and Auto Scaling groups: stack policies --------------------------------


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


def _template_skip(template: Node, fleet: Fleet, settings: TagSettings) -> bool:
    if template.urn in fleet.managed:
        return True
    own = template_own_tags(template.type, template.props)
    merged = merge_tags([own, template_instance_tags(template.type, template.props)])
    return contract.skip_reason(settings.to_contract(merged.known), "launch_template") is not None


@stack_policy(
    name="launch-template-patch-tags",
    description="Launch templates tag the instances they launch with the org-patching patch tags.",
    remediation=TAG_REMEDIATION.replace(
        "on instances.",
        "on instances (launch templates: add a tag_specifications entry with resource_type 'instance').",
    ),
    group="app-team",
    level=EnforcementLevel.MANDATORY,
    config=TAG_SCHEMA,
)
def launch_template_patch_tags(args: StackValidationArgs, report: ReportViolation) -> None:
    """A template used by an ASG is judged with the ASG (``asg-patch-tags``: propagated tags
    count too); a template used by instances is judged with each instance's own tags merged in;
    a template nobody in this stack uses is judged on its own (another stack may launch it)."""
    settings = TagSettings.from_config(args.get_config())
    fleet = build_fleet(args)
    for template in fleet.templates:
        if _template_skip(template, fleet, settings):
            continue
        label = KIND_LABEL[template.type]
        own = template_instance_tags(template.type, template.props)
        users = fleet.template_users[template.urn]
        if any(user.type in ASG_TYPES for user in users):
            continue
        if not users:
            verdict = judge_tags(own, settings)
            if verdict.violates:
                report(
                    tag_message(label, template.name, verdict, settings, " (instance tag specifications)"), template.urn
                )
            continue
        for user in users:
            merged = merge_tags([own, instance_tags(user.type, user.props, user.resource.provider)])
            verdict = judge_tags(merged, settings)
            if verdict.violates:
                via = f" (instances launched by {KIND_LABEL[user.type]} '{user.name}')"
                report(tag_message(label, template.name, verdict, settings, via), template.urn)


@stack_policy(
    name="launch-template-instance-profile",
    description="Launch templates give their instances an IAM instance profile, so SSM can patch them.",
    remediation=PROFILE_REMEDIATION.replace(
        "Give the workload", "Set iam_instance_profile (name or arn) on the launch template: give the instances"
    ),
    group="app-team",
    level=EnforcementLevel.MANDATORY,
    config={**TAG_SCHEMA, **PROFILE_SCHEMA},
)
def launch_template_instance_profile(args: StackValidationArgs, report: ReportViolation) -> None:
    """An instance launched from the template may set its own profile; ASGs cannot. A template
    from another stack is not judged here: the pack judged it in its own stack, where nothing
    launched it, so it must carry a profile itself (reporting the instance would be a false
    positive for every team using a shared golden template)."""
    settings = TagSettings.from_config(args.get_config())
    fleet = build_fleet(args)
    for template in fleet.templates:
        if _template_skip(template, fleet, settings):
            continue
        value = template_profile(template.type, template.props)
        problem = profile_problem(value, settings)
        if problem is None:
            continue
        users = fleet.template_users[template.urn]
        if (
            value is None
            and users
            and all(
                user.type in INSTANCE_TYPES and profile_problem(user.props.get("iamInstanceProfile"), settings) is None
                for user in users
            )
        ):
            continue  # every instance launched from it brings its own profile
        report(profile_message(KIND_LABEL[template.type], template.name, problem, settings), template.urn)


@stack_policy(
    name="asg-patch-tags",
    description="Auto Scaling groups launch instances with the org-patching patch tags.",
    remediation=(
        "Add the tags to the group with propagate_at_launch=True, or to its launch template's tag_specifications "
        "(resource_type 'instance'). " + TAG_REMEDIATION
    ),
    group="app-team",
    level=EnforcementLevel.MANDATORY,
    config=TAG_SCHEMA,
)
def asg_patch_tags(args: StackValidationArgs, report: ReportViolation) -> None:
    """Propagated group tags merged with the launch template's instance tags must satisfy the
    contract. EKS/ECS-managed and exempt groups are left alone; a template outside the stack
    (referenced by a known id) can't be seen, so only the group's own tags count then."""
    settings = TagSettings.from_config(args.get_config())
    fleet = build_fleet(args)
    for asg in fleet.asgs:
        if asg.urn in fleet.managed:
            continue
        everything, propagated = asg_tags(asg.props)
        if contract.skip_reason(settings.to_contract(everything.known), "asg"):
            continue
        templates = fleet.asg_templates.get(asg.urn)
        if templates is None:
            continue  # a template reference is unknown (preview)
        parts = [template_instance_tags(t.type, t.props) for t in templates]
        external = [ref for _, ref in asg_template_refs(asg.type, asg.props)]
        if external and not templates:
            # The template lives in another stack; its tags are invisible here.
            parts.append(Tags({}, set(), True))
        verdict = judge_tags(merge_tags([*parts, propagated]), settings, "asg")
        if verdict.violates:
            report(
                tag_message(KIND_LABEL[asg.type], asg.name, verdict, settings, " (tags propagated at launch)"), asg.urn
            )


# --- the instance profile's role can patch ---------------------------------------------------


def granted_actions(documents: Iterable[Any]) -> tuple[set[str], bool]:
    """(required SSM actions the documents allow, any document unknown)."""
    granted: set[str] = set()
    unknown = False
    for document in documents:
        document = json_or_obj(document)
        if document is UNKNOWN:
            unknown = True
            continue
        if not isinstance(document, Mapping):
            continue
        for statement in as_list(document.get("Statement")):
            if not isinstance(statement, Mapping) or statement.get("Effect") != "Allow":
                continue
            for pattern in strings(statement.get("Action")):
                granted.update(
                    action for action in SSM_PATCH_ACTIONS if fnmatch.fnmatchcase(action.lower(), pattern.lower())
                )
    return granted, unknown


@dataclass
class RoleGrants:
    """What is attached to one role in this stack."""

    policy_arns: list[Any]
    documents: list[Any]


#: type -> (prop naming the role(s), prop with policy ARN(s), prop with a document)
_ROLE_LINKS: Final[dict[str, tuple[str, str | None, str | None]]] = {
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": ("role", "policyArn", None),
    "aws:iam/policyAttachment:PolicyAttachment": ("roles", "policyArn", None),
    "aws:iam/rolePolicyAttachmentsExclusive:RolePolicyAttachmentsExclusive": ("roleName", "policyArns", None),
    "aws:iam/rolePolicy:RolePolicy": ("role", None, "policy"),
    "aws-native:iam:RolePolicy": ("roleName", None, "policyDocument"),
    "aws-native:iam:ManagedPolicy": ("roles", None, "policyDocument"),
}
_ROLE_IDS: Final = ("name", "roleName", "arn")


def _own_grants(role: Node) -> RoleGrants:
    grants = RoleGrants(list(as_list(role.props.get("managedPolicyArns"))), [])
    for inline in as_list(role.props.get("inlinePolicies")) + as_list(role.props.get("policies")):
        if inline is UNKNOWN:
            grants.documents.append(UNKNOWN)
        elif isinstance(inline, Mapping):
            grants.documents.append(inline.get("policy", inline.get("policyDocument")))
    return grants


def role_grants(view: StackView) -> dict[str, RoleGrants]:
    """What is attached to each role of the stack, in one pass over the stack.

    An attachment whose role can't be resolved yet (unknown at preview) counts for every role:
    it might be theirs, and a policy must not fail a role on a guess.
    """
    roles = view.pool(*ROLE_TYPES, ids=_ROLE_IDS)
    grants = {role.urn: _own_grants(role) for role in roles}
    unresolved = RoleGrants([], [])
    for node in view.nodes:
        link = _ROLE_LINKS.get(node.type)
        if link is None:
            continue
        ref_prop, arn_prop, document_prop = link
        targets = view.referenced(node, ref_prop, roles)
        for target in [unresolved] if targets is None else [grants[role.urn] for role in targets]:
            if arn_prop:
                target.policy_arns.extend(as_list(node.props.get(arn_prop)))
            if document_prop:
                target.documents.append(node.props.get(document_prop))
    for role_grants_ in grants.values():
        role_grants_.policy_arns.extend(unresolved.policy_arns)
        role_grants_.documents.extend(unresolved.documents)
    return grants


def role_can_patch(view: StackView, grants: RoleGrants) -> tuple[bool | None, list[str]]:
    """(True/False, missing actions); None when unknowns leave it open."""
    documents = list(grants.documents)
    undecided = False
    managed = view.pool(*MANAGED_POLICY_TYPES, ids=("arn",))
    for arn in grants.policy_arns:
        if arn is UNKNOWN or is_unknown(arn):
            undecided = True
            continue
        if not isinstance(arn, str):
            continue
        if arn.endswith(f":iam::aws:policy/{SSM_CORE_POLICY}"):
            return True, []
        documents.extend(
            policy.props.get("policy", policy.props.get("policyDocument")) for policy in managed.lookup(arn)
        )
    granted, unknown = granted_actions(documents)
    missing = [action for action in SSM_PATCH_ACTIONS if action not in granted]
    if not missing:
        return True, []
    if undecided or unknown:
        return None, missing
    return False, missing


@stack_policy(
    name="instance-profile-can-patch",
    description="Instance profiles created with the workload let SSM in (AmazonSSMManagedInstanceCore or equivalent).",
    remediation=(
        "Attach arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore to the profile's role "
        "(aws.iam.RolePolicyAttachment), or a policy allowing " + ", ".join(SSM_PATCH_ACTIONS) + "."
    ),
    group="app-team",
    level=EnforcementLevel.MANDATORY,
)
def instance_profile_can_patch(args: StackValidationArgs, report: ReportViolation) -> None:
    """Only profiles created in this stack and used by an EC2 workload here are judged: a
    profile from elsewhere (by name) is that stack's business."""
    view = StackView(args.resources)
    profiles = view.pool(*INSTANCE_PROFILE_TYPES, ids=("name", "arn", "instanceProfileName"))
    if not profiles:
        return
    roles = view.pool(*ROLE_TYPES, ids=_ROLE_IDS)
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
    if not users:
        return
    grants = role_grants(view)
    for profile in profiles:
        if profile.urn not in users:
            continue
        prop = "roles" if profile.type == "aws-native:iam:InstanceProfile" else "role"
        found = view.referenced(profile, prop, roles)
        if not found:
            continue  # no role, an unknown one, or a role from another stack
        for role in found:
            verdict, missing = role_can_patch(view, grants[role.urn])
            if verdict is False:
                used_by = ", ".join(f"'{user.name}'" for user in users[profile.urn])
                report(
                    f"instance profile '{profile.name}' (used by {used_by}) has role '{role.name}' without "
                    f"{SSM_CORE_POLICY} or a policy allowing {', '.join(missing)}: SSM cannot patch its instances. "
                    f"Attach arn:aws:iam::aws:policy/{SSM_CORE_POLICY} to role '{role.name}'.",
                    profile.urn,
                )
