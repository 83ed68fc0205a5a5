"""App-team rules for standalone EC2 instances: ``ec2-instance-patch-tags`` and ``ec2-instance-profile``.

Resource policies (pulumi-aws and aws-native instances, spot requests), so the tag rule can
remediate: at level ``remediate`` it adds the managed tags the contract derives from
``environment``. An instance launched from a launch template is left to the template rules.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import tag_contract as contract
from ec2_fleet import INSTANCE_TYPES, KIND_LABEL, NATIVE_INSTANCE, instance_tags, instance_template_refs
from pulumi_policy import EnforcementLevel, ReportViolation, ResourceValidationArgs
from registry import resource_policy
from settings import PROFILE_SCHEMA, TAG_SCHEMA, TagSettings
from verdicts import (
    PROFILE_REMEDIATION,
    TAG_REMEDIATION,
    judge_tags,
    profile_message,
    profile_problem,
    tag_message,
    unknown_key_could_skip,
)
from wire import plain, raw


def _remediate_instance(args: ResourceValidationArgs) -> Mapping[str, Any] | None:
    """Add the managed tags the contract derives from ``environment`` (remediate level)."""
    settings = TagSettings.from_config(args.get_config())
    props = plain(args.props)
    tags = instance_tags(args.resource_type, props, args.provider)
    if tags.opaque or unknown_key_could_skip(tags, settings, "instance"):
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
    types=INSTANCE_TYPES,
)
def ec2_instance_patch_tags(args: ResourceValidationArgs, report: ReportViolation) -> None:
    """Standalone instances (pulumi-aws, aws-native, spot requests). An instance launched from a
    launch template that lacks tags is judged with the template by ``launch-template-patch-tags``."""
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
    types=INSTANCE_TYPES,
)
def ec2_instance_profile(args: ResourceValidationArgs, report: ReportViolation) -> None:
    """Instances without a profile can't be reached by SSM; exempt/managed ones are left alone."""
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
