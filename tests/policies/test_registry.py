"""``registry``: registration, type filtering and guard-rail project selection (on a private registry)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import pytest
import registry
from policy_testing import R, resource_args, stack_resources
from pulumi_policy import (
    EnforcementLevel,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

BUCKET = "aws:s3/bucket:Bucket"
KEY = "aws:kms/key:Key"


@pytest.fixture(autouse=True)
def private_registry(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, registry.Rule]]:
    """Rules registered here must not leak into the pack's registry."""
    rules: dict[str, registry.Rule] = {}
    monkeypatch.setattr(registry, "REGISTRY", rules)
    yield rules


def _resource_rule(group: registry.Group, types: tuple[str, ...] = ()) -> tuple[ResourceValidationPolicy, list[str]]:
    seen: list[str] = []

    def fix(args: ResourceValidationArgs) -> Mapping[str, Any] | None:
        return {"fixed": args.name}

    @registry.resource_policy(name="r", description="d", remediation="fix it", group=group, remediate=fix, types=types)
    def check(args: ResourceValidationArgs, report: ReportViolation) -> None:
        seen.append(args.name)
        report("bad", None)

    policy = registry.REGISTRY["r"].policy
    assert isinstance(policy, ResourceValidationPolicy)
    return policy, seen


def _run(policy: ResourceValidationPolicy, type_: str, project: str, config: Mapping[str, Any] | None = None) -> int:
    messages: list[str] = []

    def report(message: str, urn: str | None = None) -> None:
        messages.append(message)

    policy.validate(resource_args(type_, {}, project=project, config=config), report)
    return len(messages)


def _ignore(message: str, urn: str | None = None) -> None:
    """A report function for checks whose calls, not messages, are under test."""


def test_rule_metadata_and_schema() -> None:
    policy, _ = _resource_rule("guard-rail", (BUCKET,))
    rule = registry.REGISTRY["r"]
    assert (rule.kind, rule.group, rule.level, rule.remediates, rule.types) == (
        "resource",
        "guard-rail",
        EnforcementLevel.MANDATORY,
        True,
        (BUCKET,),
    )
    assert policy.remediation_steps == "fix it"
    assert policy.config_schema is not None and policy.config_schema.properties == {
        "projects": registry.PROJECTS_SCHEMA
    }
    with pytest.raises(ValueError, match="registered twice"):
        _resource_rule("app-team")


def test_types_filter_the_check_and_the_remediation() -> None:
    policy, seen = _resource_rule("app-team", (BUCKET,))
    assert policy.config_schema is None  # app-team rules get no projects selection
    assert _run(policy, BUCKET, "app") == 1 and _run(policy, KEY, "app") == 0
    assert seen == ["res"]
    assert policy.remediate(resource_args(BUCKET, {})) == {"fixed": "res"}
    assert policy.remediate(resource_args(KEY, {})) is None


def test_no_types_means_every_type() -> None:
    policy, _ = _resource_rule("app-team")
    assert _run(policy, BUCKET, "app") == 1 and _run(policy, KEY, "app") == 1


def test_guard_rails_run_on_the_selected_projects_only() -> None:
    policy, _ = _resource_rule("guard-rail", (BUCKET,))
    assert _run(policy, BUCKET, "org-patching") == 1
    assert _run(policy, BUCKET, "app") == 0
    assert _run(policy, BUCKET, "app", {"projects": ["app"]}) == 1
    assert _run(policy, BUCKET, "app", {"projects": ["*"]}) == 1
    assert policy.remediate(resource_args(BUCKET, {}, project="app")) is None
    assert registry.guarded_projects({"projects": "not-a-list"}) == registry.DEFAULT_GUARDED_PROJECTS


def test_stack_guard_rail_needs_a_resource_of_a_selected_project() -> None:
    calls: list[int] = []

    @registry.stack_policy(name="s", description="d", remediation="r", group="guard-rail", config={"x": {}})
    def check(args: StackValidationArgs, report: ReportViolation) -> None:
        calls.append(len(args.resources))

    rule = registry.REGISTRY["s"]
    policy = rule.policy
    assert isinstance(policy, StackValidationPolicy) and rule.kind == "stack"
    assert policy.config_schema is not None and set(policy.config_schema.properties) == {"x", "projects"}
    for project in ("app", "org-patching"):
        resources = stack_resources([R(BUCKET, "b", {}, project)])
        policy.validate(StackValidationArgs(resources, {}), _ignore)
    assert calls == [1]
    assert [p.name for p in registry.policies("guard-rail")] == ["s"] and registry.policies("app-team") == []
