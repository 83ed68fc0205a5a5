"""Unit-test helpers for this directory: call one registered policy the way the SDK analyzer does.

Props are wrapped in the SDK's own unknown-checking proxy and the urn has the engine's
format, so a policy that would trip over an unknown or mis-read the project fails here too.
End-to-end tests (render + the pack's real ``__main__.py`` through the analyzer) live in
``test_policy_check_e2e.py``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pack
from pulumi_policy import (
    PolicyCustomTimeouts,
    PolicyProviderResource,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE, unknown_checking_proxy

U = UNKNOWN_STRING_VALUE


def urn(type_: str, name: str, project: str = "app", stack: str = "dev") -> str:
    return f"urn:pulumi:{stack}::{project}::{type_}::{name}"


def _opts() -> PolicyResourceOptions:
    return PolicyResourceOptions(False, [], None, [], PolicyCustomTimeouts(0, 0, 0), [], None)


@dataclass
class R:
    """A resource for a stack policy test; ``deps`` maps a property to the names it references."""

    type: str
    name: str
    props: dict[str, Any]
    project: str = "app"
    provider: PolicyProviderResource | None = None
    deps: dict[str, list[str]] = field(default_factory=dict)
    parent: str | None = None


def provider(name: str, props: Mapping[str, Any], project: str = "app") -> PolicyProviderResource:
    return PolicyProviderResource(
        "pulumi:providers:aws", unknown_checking_proxy(dict(props)), urn("pulumi:providers:aws", name, project), name
    )


def _policy(name: str) -> Any:
    rule = pack.REGISTRY[name]
    assert rule.policy is not None
    return rule.policy


def resource_args(
    type_: str,
    props: Mapping[str, Any],
    *,
    config: Mapping[str, Any] | None = None,
    project: str = "app",
    resource_name: str = "res",
    prov: PolicyProviderResource | None = None,
) -> ResourceValidationArgs:
    """What the SDK hands a resource policy for one resource."""
    return ResourceValidationArgs(
        type_,
        unknown_checking_proxy(dict(props)),
        urn(type_, resource_name, project),
        resource_name,
        _opts(),
        prov,
        dict(config or {}),
    )


def run_resource(
    name: str,
    type_: str,
    props: Mapping[str, Any],
    *,
    config: Mapping[str, Any] | None = None,
    project: str = "app",
    resource_name: str = "res",
    prov: PolicyProviderResource | None = None,
) -> list[str]:
    """Messages the policy reports for one resource (as the SDK would: it raises on unknowns)."""
    policy = _policy(name)
    assert isinstance(policy, ResourceValidationPolicy)
    messages: list[str] = []
    args = resource_args(type_, props, config=config, project=project, resource_name=resource_name, prov=prov)

    def report(message: str, _urn: str | None = None) -> None:
        messages.append(message)

    policy.validate(args, report)
    return messages


def remediate(
    name: str, type_: str, props: Mapping[str, Any], *, config: Mapping[str, Any] | None = None
) -> Mapping[str, Any] | None:
    policy = _policy(name)
    assert isinstance(policy, ResourceValidationPolicy)
    result = policy.remediate(resource_args(type_, props, config=config))
    assert not hasattr(result, "__await__")
    return result  # type: ignore[return-value]


def stack_resources(resources: list[R]) -> list[PolicyResource]:
    """The SDK's view of a stack: props behind the unknown-checking proxy, parents and
    property dependencies linked by resource name."""
    built: dict[str, PolicyResource] = {}
    for r in resources:
        built[r.name] = PolicyResource(
            r.type,
            unknown_checking_proxy(dict(r.props)),
            urn(r.type, r.name, r.project),
            r.name,
            _opts(),
            r.provider,
            None,
            [],
            {},
        )
    for r in resources:
        if r.parent is not None:
            built[r.name].parent = built[r.parent]
        for prop, names in r.deps.items():
            built[r.name].property_dependencies[prop] = [built[n] for n in names]
            built[r.name].dependencies.extend(built[n] for n in names)
    return list(built.values())


def run_stack(name: str, resources: list[R], *, config: Mapping[str, Any] | None = None) -> list[tuple[str, str]]:
    """(resource name, message) pairs the stack policy reports."""
    policy = _policy(name)
    assert isinstance(policy, StackValidationPolicy)
    built = stack_resources(resources)
    by_urn = {res.urn: res.name for res in built}
    found: list[tuple[str, str]] = []

    def report(message: str, urn_: str | None = None) -> None:
        found.append((by_urn.get(urn_ or "", ""), message))

    policy.validate(StackValidationArgs(built, dict(config or {})), report)
    return found
