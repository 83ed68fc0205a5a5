"""Guard rails for compute and operations: ``lambda-runtime-allowed``, ``lambda-log-retention``
and ``maintenance-window-cutoff``.

A guard rail runs on org-patching's own stacks only (see ``registry``): it encodes a convention
of docs/DEVELOPING.md so a change that weakens it fails ``pulumi preview`` (and ``patchctl preview``).
"""

from __future__ import annotations

from typing import Final

from pulumi_policy import EnforcementLevel, ReportViolation, ResourceValidationArgs, StackValidationArgs
from registry import resource_policy, stack_policy
from stackview import Node, StackView
from wire import UNKNOWN, get_path, plain

LAMBDA_TYPES: Final = ("aws:lambda/function:Function", "aws-native:lambda:Function")
LOG_GROUP_TYPES: Final = ("aws:cloudwatch/logGroup:LogGroup", "aws-native:logs:LogGroup")
DEFAULT_RUNTIMES: Final = ("python3.12", "python3.13")


@resource_policy(
    name="lambda-runtime-allowed",
    description="Lambda functions use a runtime from the allow-list.",
    remediation="Use one of the allowed runtimes (policy config 'runtimes'); container images are not checked.",
    group="guard-rail",
    level=EnforcementLevel.MANDATORY,
    config={
        "runtimes": {
            "type": "array",
            "items": {"type": "string", "minLength": 1},
            "minItems": 1,
            "default": list(DEFAULT_RUNTIMES),
            "description": "Lambda runtimes org-patching's functions may use.",
        }
    },
    types=LAMBDA_TYPES,
)
def lambda_runtime_allowed(args: ResourceValidationArgs, report: ReportViolation) -> None:
    props = plain(args.props)
    if props.get("packageType") == "Image":
        return
    runtime = props.get("runtime")
    if runtime is UNKNOWN:
        return
    allowed = args.get_config().get("runtimes") or list(DEFAULT_RUNTIMES)
    if runtime not in allowed:
        report(f"Lambda function '{args.name}' uses runtime {runtime!r}; allowed: {', '.join(allowed)}.", None)


@stack_policy(
    name="lambda-log-retention",
    description="Every Lambda function logs to a log group of this stack with a retention period.",
    remediation=(
        "Create an aws.cloudwatch.LogGroup named /aws/lambda/<function name> (or pass it as logging_config.log_group) "
        "with retention_in_days set."
    ),
    group="guard-rail",
    level=EnforcementLevel.MANDATORY,
)
def lambda_log_retention(args: StackValidationArgs, report: ReportViolation) -> None:
    view = StackView(args.resources)
    groups = view.pool(*LOG_GROUP_TYPES, ids=("name", "logGroupName", "arn"))
    for group in groups:
        retention = group.props.get("retentionInDays")
        if retention is UNKNOWN:
            continue
        if not isinstance(retention, (int, float)) or retention <= 0:
            report(f"log group '{group.name}' keeps logs forever: set retention_in_days.", group.urn)
    names_unknown = any(group.props.get("name", group.props.get("logGroupName")) is UNKNOWN for group in groups)
    for function in view.of_type(*LAMBDA_TYPES):
        target = get_path(function.props, "loggingConfig", "logGroup")
        name = function.props.get("name", function.props.get("functionName"))
        if target is UNKNOWN or name is UNKNOWN:
            continue
        wanted = [target] if isinstance(target, str) and target else []
        if isinstance(name, str):
            wanted.append(f"/aws/lambda/{name}")
        found = view.points_to(function, "loggingConfig", wanted, groups)
        if found is None or names_unknown:
            continue
        if [group for group in found if _same_place(group, function)]:
            continue
        report(
            f"Lambda function '{function.name}' has no log group in this stack "
            f"({' or '.join(wanted) or 'name unknown'}): its logs would be kept forever.",
            function.urn,
        )


def _same_place(a: Node, b: Node) -> bool:
    """Same provider (account) and same region: log group names repeat in every region."""
    provider_a, provider_b = a.resource.provider, b.resource.provider
    if (provider_a.urn if provider_a else None) != (provider_b.urn if provider_b else None):
        return False
    region_a, region_b = a.props.get("region"), b.props.get("region")
    return region_a is UNKNOWN or region_b is UNKNOWN or region_a == region_b


# --- maintenance windows -------------------------------------------------------------------------------

WINDOW_TYPES: Final = ("aws:ssm/maintenanceWindow:MaintenanceWindow", "aws-native:ssm:MaintenanceWindow")


@resource_policy(
    name="maintenance-window-cutoff",
    description="A maintenance window's cutoff is shorter than its duration.",
    remediation="Set cutoff (hours before the end when no new task starts) below duration, e.g. duration 4, cutoff 1.",
    group="guard-rail",
    level=EnforcementLevel.MANDATORY,
    types=WINDOW_TYPES,
)
def maintenance_window_cutoff(args: ResourceValidationArgs, report: ReportViolation) -> None:
    props = plain(args.props)
    duration, cutoff = props.get("duration"), props.get("cutoff")
    if not isinstance(duration, (int, float)) or not isinstance(cutoff, (int, float)):
        return  # unknown at preview, or missing (the provider rejects that itself)
    if cutoff >= duration:
        report(
            f"maintenance window '{args.name}' has cutoff {cutoff:g}h >= duration {duration:g}h: "
            "no task could ever start.",
            None,
        )
