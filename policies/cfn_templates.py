"""What a CloudFormation template in a Pulumi stack would launch, as far as the pack can tell.

A stack can hand EC2 capacity to CloudFormation (``aws.cloudformation.Stack``/``StackSet``,
aws-native ``Stack``/``StackSet``), where no Pulumi policy sees the resources. This module
parses ``templateBody`` (JSON, or YAML with CloudFormation's short-form ``!Ref``-style tags)
and lists the EC2 launch resources it holds (:func:`launch_findings`): instances and launch
templates are judged from their literal ``Tags``/``TagSpecifications`` and instance profile;
everything the pack cannot judge from the template alone (Auto Scaling groups, launch
configurations, fleets, nested stacks and provisioned products, a template only reachable by
``templateUrl``) is a finding the rule reports (fail closed). Intrinsic functions count as
values the pack cannot see.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Final

import yaml

#: CloudFormation types that launch EC2 instances and whose patchability the pack cannot judge
#: from the template (their instances' tags and profile come from elsewhere).
OPAQUE_LAUNCH_TYPES: Final = (
    "AWS::AutoScaling::AutoScalingGroup",
    "AWS::AutoScaling::LaunchConfiguration",
    "AWS::EC2::SpotFleet",
    "AWS::EC2::EC2Fleet",
    "AWS::CloudFormation::Stack",
    "AWS::CloudFormation::StackSet",
    "AWS::ServiceCatalog::CloudFormationProvisionedProduct",
)
#: AWS-owned transforms that create no EC2 capacity (SAM; LanguageExtensions' Fn::ForEach is
#: expanded by :func:`launch_resources` itself). Any other transform is a macro: it can add
#: anything, so the pack cannot see what the stack will launch.
KNOWN_TRANSFORMS: Final = ("AWS::Serverless-2016-10-31", "AWS::LanguageExtensions")
INSTANCE: Final = "AWS::EC2::Instance"
LAUNCH_TEMPLATE: Final = "AWS::EC2::LaunchTemplate"


class _Loader(yaml.SafeLoader):
    """SafeLoader that reads CloudFormation short forms (``!Ref x``) as ``{"Fn::Ref": x}``."""


def _intrinsic(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    return {f"Fn::{suffix}": value}


_Loader.add_multi_constructor("!", _intrinsic)


class TemplateError(ValueError):
    """The template body is neither JSON nor YAML the pack can read."""


def parse_template(body: str) -> Mapping[str, Any]:
    """The template as data (JSON first: it is what ``json.dumps`` bodies are)."""
    try:
        data = json.loads(body)
    except ValueError:
        try:
            data = yaml.load(body, Loader=_Loader)  # a SafeLoader subclass: only adds the intrinsic tags
        except yaml.YAMLError as error:
            raise TemplateError(f"template body is neither JSON nor YAML: {str(error).splitlines()[0]}") from error
    if not isinstance(data, Mapping):
        raise TemplateError("template body is not a mapping")
    return data


def _resources(resources: Any) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """(logical id, resource) pairs, including those inside ``Fn::ForEach`` loops."""
    if not isinstance(resources, Mapping):
        return
    for logical_id, resource in resources.items():
        if isinstance(logical_id, str) and logical_id.startswith("Fn::ForEach::") and isinstance(resource, list):
            for part in resource:
                if isinstance(part, Mapping):
                    yield from _resources(part)
        elif isinstance(resource, Mapping):
            yield str(logical_id), resource


def literal_tags(tags: Any) -> tuple[dict[str, str], bool]:
    """(literal tags, True when some key or value is an intrinsic function the pack can't read)."""
    known: dict[str, str] = {}
    hidden = False
    for tag in tags if isinstance(tags, list) else ([] if tags is None else [tags]):
        if not isinstance(tag, Mapping):
            hidden = True
            continue
        key, value = tag.get("Key"), tag.get("Value")
        if isinstance(key, str) and isinstance(value, str | int | float | bool):
            known[key] = str(value)
        else:
            hidden = True
    return known, hidden


@dataclass(frozen=True)
class LaunchResource:
    """An EC2 launch resource of the template: its type and, when judgeable, its instance tags
    and whether it sets an instance profile."""

    logical_id: str
    type: str
    tags: dict[str, str]
    hidden_tags: bool
    has_profile: bool

    @property
    def judgeable(self) -> bool:
        return self.type in (INSTANCE, LAUNCH_TEMPLATE)


def launch_resources(template: Mapping[str, Any]) -> list[LaunchResource]:
    """The template's resources that launch (or describe) EC2 instances."""
    found: list[LaunchResource] = []
    for logical_id, resource in _resources(template.get("Resources")):
        type_ = resource.get("Type")
        props = resource.get("Properties") if isinstance(resource.get("Properties"), Mapping) else {}
        assert isinstance(props, Mapping)
        if type_ == INSTANCE:
            tags, hidden = literal_tags(props.get("Tags"))
            found.append(LaunchResource(logical_id, INSTANCE, tags, hidden, bool(props.get("IamInstanceProfile"))))
        elif type_ == LAUNCH_TEMPLATE:
            data = props.get("LaunchTemplateData") if isinstance(props.get("LaunchTemplateData"), Mapping) else {}
            assert isinstance(data, Mapping)
            tags, hidden = {}, False
            for spec in data.get("TagSpecifications") or []:
                if not isinstance(spec, Mapping) or not isinstance(spec.get("ResourceType"), str):
                    hidden = True
                elif spec["ResourceType"] == "instance":
                    more, more_hidden = literal_tags(spec.get("Tags"))
                    tags.update(more)
                    hidden = hidden or more_hidden
            profile = data.get("IamInstanceProfile")
            found.append(LaunchResource(logical_id, LAUNCH_TEMPLATE, tags, hidden, bool(profile)))
        elif type_ in OPAQUE_LAUNCH_TYPES:
            found.append(LaunchResource(logical_id, str(type_), {}, True, False))
    transforms = [t for t in as_strings(template.get("Transform")) if t not in KNOWN_TRANSFORMS]
    found.extend(LaunchResource(name, "Transform", {}, True, False) for name in transforms)
    return found


def as_strings(value: Any) -> list[str]:
    """A ``Transform`` entry as names (a macro with parameters is ``{"Name": ...}``)."""
    items = value if isinstance(value, list) else ([] if value is None else [value])
    return [
        item if isinstance(item, str) else str(item.get("Name")) if isinstance(item, Mapping) else str(item)
        for item in items
    ]
