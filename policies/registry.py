"""The policy registry (as AWSGuard does it): each policy is a small function registered with
its name, description, remediation text, group and default level; ``__main__.py`` assembles
the registry into the pack.

Two groups:

* ``app-team``: run on every stack of the organization (the pack is enabled org-wide).
* ``guard-rail``: rules for org-patching's OWN stacks. They run only when the stack's project
  (read from the URN, so it works under the engine and under the offline harness alike) is one
  of the policy's ``projects`` config (default ``["org-patching"]``); an app team's bucket is
  not this pack's business. Set ``projects`` to ``["*"]`` to apply them everywhere.

Keeping the selection here, not in every rule, means a guard rail cannot forget it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Literal, cast

from pulumi_policy import (
    EnforcementLevel,
    Policy,
    PolicyConfigSchema,
    ReportViolation,
    ResourceRemediation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from wire import config_strings, urn_project

Group = Literal["app-team", "guard-rail"]
ResourceCheck = Callable[[ResourceValidationArgs, ReportViolation], None]
StackCheck = Callable[[StackValidationArgs, ReportViolation], None]
Remediation = Callable[[ResourceValidationArgs], Mapping[str, Any] | None]

PACK_NAME: Final = "org-patching"
#: Projects whose stacks the guard rails apply to, unless a policy's config says otherwise.
DEFAULT_GUARDED_PROJECTS: Final = ("org-patching",)

PROJECTS_SCHEMA: Final[dict[str, Any]] = {
    "type": "array",
    "items": {"type": "string", "minLength": 1},
    "default": list(DEFAULT_GUARDED_PROJECTS),
    "description": 'Pulumi projects whose stacks this guard rail checks ("*": every project).',
}


@dataclass(frozen=True)
class Rule:
    """One registered policy plus what the docs and the pack need to know about it."""

    name: str
    description: str
    remediation: str
    group: Group
    level: EnforcementLevel
    kind: Literal["resource", "stack"]
    schema: Mapping[str, Any] = field(default_factory=dict)
    remediates: bool = False
    policy: Policy | None = None
    #: Resource types a resource policy looks at (empty: all).
    types: tuple[str, ...] = ()


REGISTRY: dict[str, Rule] = {}


def _schema(group: Group, properties: Mapping[str, Any] | None) -> PolicyConfigSchema | None:
    merged: dict[str, Any] = dict(properties or {})
    if group == "guard-rail":
        merged.setdefault("projects", PROJECTS_SCHEMA)
    return PolicyConfigSchema(properties=merged) if merged else None


def guarded_projects(config: Mapping[str, Any]) -> tuple[str, ...]:
    """The ``projects`` a guard rail applies to (schema default when the engine sent none)."""
    return config_strings(config.get("projects"), DEFAULT_GUARDED_PROJECTS)


def project_selected(urn: str, config: Mapping[str, Any]) -> bool:
    """True when a guard rail configured with ``config`` applies to the resource ``urn``."""
    projects = guarded_projects(config)
    return "*" in projects or urn_project(urn) in projects


def _register(rule: Rule) -> None:
    if rule.name in REGISTRY:
        raise ValueError(f"policy {rule.name!r} registered twice")
    REGISTRY[rule.name] = rule


def resource_policy(
    *,
    name: str,
    description: str,
    remediation: str,
    group: Group,
    level: EnforcementLevel = EnforcementLevel.MANDATORY,
    config: Mapping[str, Any] | None = None,
    remediate: Remediation | None = None,
    types: Iterable[str] = (),
) -> Callable[[ResourceCheck], ResourceCheck]:
    """Register ``check`` as a resource policy for resources of ``types`` (every type when empty).

    ``check`` and ``remediate`` see only those types (AWSGuard's ``validateResourceOfType``), and
    a guard rail only the selected projects' resources, so no rule repeats either filter.
    """
    selected = tuple(types)

    def applies(args: ResourceValidationArgs) -> bool:
        if selected and args.resource_type not in selected:
            return False
        return group != "guard-rail" or project_selected(args.urn, args.get_config())

    def register(check: ResourceCheck) -> ResourceCheck:
        def validate(args: ResourceValidationArgs, report: ReportViolation) -> None:
            if applies(args):
                check(args, report)

        def fix(args: ResourceValidationArgs) -> Mapping[str, Any] | None:
            assert remediate is not None
            return remediate(args) if applies(args) else None

        policy = ResourceValidationPolicy(
            name=name,
            description=description,
            validate=validate,
            remediate=cast(ResourceRemediation, fix) if remediate is not None else None,
            enforcement_level=level,
            config_schema=_schema(group, config),
            remediation_steps=remediation,
        )
        _register(
            Rule(
                name,
                description,
                remediation,
                group,
                level,
                "resource",
                dict(config or {}),
                remediate is not None,
                policy,
                selected,
            )
        )
        return check

    return register


def stack_policy(
    *,
    name: str,
    description: str,
    remediation: str,
    group: Group,
    level: EnforcementLevel = EnforcementLevel.MANDATORY,
    config: Mapping[str, Any] | None = None,
) -> Callable[[StackCheck], StackCheck]:
    """Register ``check`` as a stack policy; guard rails see only the selected projects' stacks."""

    def register(check: StackCheck) -> StackCheck:
        def validate(args: StackValidationArgs, report: ReportViolation) -> None:
            if group == "guard-rail":
                config_ = args.get_config()
                if not any(project_selected(resource.urn, config_) for resource in args.resources):
                    return
            check(args, report)

        policy = StackValidationPolicy(
            name=name,
            description=description,
            validate=validate,
            enforcement_level=level,
            config_schema=_schema(group, config),
            remediation_steps=remediation,
        )
        _register(Rule(name, description, remediation, group, level, "stack", dict(config or {}), False, policy))
        return check

    return register


def policies(group: Group | None = None) -> list[Policy]:
    """The SDK policy objects, in registration order (optionally one group)."""
    return [rule.policy for rule in REGISTRY.values() if rule.policy is not None and group in (None, rule.group)]
