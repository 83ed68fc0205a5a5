"""App-team rules for launch templates and the Auto Scaling groups that launch from them:
``launch-template-patch-tags``, ``launch-template-instance-profile`` and ``asg-patch-tags``.

Stack policies: only the stack shows who launches a template and whether EKS or ECS manages
it (:func:`ec2_fleet.build_fleet`). Unknown values (``pulumi preview``) never produce a
violation: a rule that cannot tell stays quiet and the real ``pulumi up`` decides.
"""

from __future__ import annotations

import tag_contract as contract
from ec2_fleet import (
    ASG_TYPES,
    INSTANCE_TYPES,
    KIND_LABEL,
    Fleet,
    asg_tags,
    asg_template_refs,
    build_fleet,
    instance_tags,
    template_instance_tags,
    template_own_tags,
    template_profile,
)
from pulumi_policy import EnforcementLevel, ReportViolation, StackValidationArgs
from registry import stack_policy
from settings import PROFILE_SCHEMA, TAG_SCHEMA, TagSettings
from stackview import Node
from verdicts import PROFILE_REMEDIATION, TAG_REMEDIATION, judge_tags, profile_message, profile_problem, tag_message
from wire import Tags, merge_tags


def _template_skip(template: Node, fleet: Fleet, settings: TagSettings) -> bool:
    """EKS/ECS capacity or exempt. A template that launches plain instances of the stack is read
    as those instances are: a marker tag on it would only land on instances, where it is no
    evidence of a managed node (``tag_contract.managed_elsewhere_reason``)."""
    if template.urn in fleet.managed:
        return True
    own = template_own_tags(template.type, template.props)
    merged = merge_tags([own, template_instance_tags(template.type, template.props)])
    plain_users = any(user.type in INSTANCE_TYPES for user in fleet.template_users[template.urn])
    kind: contract.ResourceKind = "instance" if plain_users else "launch_template"
    return contract.skip_reason(settings.to_contract(merged.known), kind) is not None


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
