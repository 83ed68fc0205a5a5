"""First state of the emergency-patching state machine: validate the request, return the plan.

Why a Lambda and not Choice states: the fields that matter most in an emergency (account and
OU ids, Regions, the override-list URL, rate limits) need patterns, and ASL has no regular
expressions. This function makes no AWS call; it only decides. A bad request raises
:class:`InvalidEmergencyInput` with one line naming the field and why; the state machine turns
it into a failed execution (error ``InvalidInput``) before anything is started.

The request (the seed's payload plus targets, waves, approval and rate control) is the
:class:`EmergencyRequest` model (``lambda_shared/emergency_request.py``, shared with
``patchctl emergency start``), read with the Powertools parser; ``schemas/emergency-request.schema.json``
is its JSON Schema (a test keeps the two equal)::

    {"patching_operation": "Install", "include_asg": "Yes",
     "targets": {"accounts": ["111122223333"], "organizational_units": ["ou-ab12-abcdefgh"],
                 "regions": ["eu-west-1"]},
     "waves": ["Dev", "Test", "Prod"], "approval": {"required_before": ["Prod"]}}

A wave is a patch group of the tag contract: the spoke runbooks get ``PatchGroup=<wave>`` and patch
every instance (and, with ``include_asg``, every ASG) tagged ``Patch Group=<wave>``, whatever
maintenance window it is on. What a request leaves out comes from the configuration.

Configuration (environment variables, set by the ``EmergencyPatching`` component; defaults in
brackets): ``DEFAULT_WAVES`` [Dev,Test,Prod], ``APPROVAL_BEFORE`` [Prod], ``DEFAULT_REGIONS`` [],
``MAX_CONCURRENCY`` [10%], ``MAX_ERRORS`` [5%], ``TARGET_LOCATION_MAX_CONCURRENCY`` [10],
``TARGET_LOCATION_MAX_ERRORS`` [1], ``POLL_SECONDS`` [60], ``APPROVAL_TIMEOUT_SECONDS``
[86400], ``EXECUTION_ROLE_NAME``, ``ADMINISTRATION_ROLE_ARN``, ``RUNBOOK_STANDALONE``,
``RUNBOOK_ASG``, ``PATCH_LOG_BUCKET`` (required: the hub's patch-log bucket, the standalone
runbook's ``OutputS3BucketName``; SendCommand refuses an empty bucket name, so the plan always
passes one).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.parser import parse
from aws_lambda_powertools.utilities.typing import LambdaContext
from lambda_shared.emergency_request import (
    ACCOUNTS_PER_LOCATION,
    BUCKET_NAME,
    ENVIRONMENTS,
    HINTS,
    MAX_LOCATIONS,
    Approval,
    EmergencyRequest,
    InvalidEmergencyInput,
    Targets,
)
from lambda_shared.validation import first_problem
from pydantic import ValidationError

__all__ = ["ENVIRONMENTS", "Approval", "EmergencyRequest", "InvalidEmergencyInput", "Targets", "handler", "plan"]

logger = Logger(service=os.environ.get("POWERTOOLS_SERVICE_NAME", "org-patching-emergency-validate"))


def parse_request(request: Any) -> EmergencyRequest:
    """The request as the model (Powertools parser), or :class:`InvalidEmergencyInput` naming its first problem."""
    if not isinstance(request, dict):  # the parser would also read a JSON string; Step Functions sends objects
        raise InvalidEmergencyInput(f"input: {request!r} is not a JSON object")
    try:
        return parse(event=request, model=EmergencyRequest)
    except ValidationError as invalid:
        raise InvalidEmergencyInput(first_problem(invalid, HINTS)) from None


@dataclass(frozen=True)
class Settings:
    """What the platform team configured (stack config → environment variables)."""

    default_waves: tuple[str, ...]
    approval_before: tuple[str, ...]
    default_regions: tuple[str, ...]
    max_concurrency: str
    max_errors: str
    target_location_max_concurrency: str
    target_location_max_errors: str
    poll_seconds: int
    approval_timeout_seconds: int
    execution_role_name: str
    administration_role_arn: str
    runbook_standalone: str
    runbook_asg: str
    #: The hub's patch-log bucket: every wave's ``OutputS3BucketName``. SendCommand refuses a
    #: bucket name shorter than 3 characters (SendCommand API reference, OutputS3BucketName), so
    #: an empty value is a configuration error here, not a failed wave in every target location.
    patch_log_bucket: str

    def __post_init__(self) -> None:
        if not BUCKET_NAME.match(self.patch_log_bucket):
            raise ValueError(f"PATCH_LOG_BUCKET: {self.patch_log_bucket!r} is not an S3 bucket name")

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Settings:
        def listed(name: str, default: str) -> tuple[str, ...]:
            return tuple(v.strip() for v in env.get(name, default).split(",") if v.strip())

        return cls(
            default_waves=listed("DEFAULT_WAVES", "Dev,Test,Prod"),
            approval_before=listed("APPROVAL_BEFORE", "Prod"),
            default_regions=listed("DEFAULT_REGIONS", ""),
            max_concurrency=env.get("MAX_CONCURRENCY", "10%"),
            max_errors=env.get("MAX_ERRORS", "5%"),
            target_location_max_concurrency=env.get("TARGET_LOCATION_MAX_CONCURRENCY", "10"),
            target_location_max_errors=env.get("TARGET_LOCATION_MAX_ERRORS", "1"),
            poll_seconds=int(env.get("POLL_SECONDS", "60")),
            approval_timeout_seconds=int(env.get("APPROVAL_TIMEOUT_SECONDS", "86400")),
            execution_role_name=env["EXECUTION_ROLE_NAME"],
            administration_role_arn=env["ADMINISTRATION_ROLE_ARN"],
            runbook_standalone=env["RUNBOOK_STANDALONE"],
            runbook_asg=env["RUNBOOK_ASG"],
            patch_log_bucket=env.get("PATCH_LOG_BUCKET", ""),
        )


def instance_locations(arns: list[str]) -> dict[tuple[str, str], list[str]]:
    """(account, Region) -> instance ids, from EC2 instance ARNs (``arn:aws:ec2:<region>:<account>:instance/<id>``)."""
    located: dict[tuple[str, str], list[str]] = {}
    for arn in arns:
        parts = arn.split(":")
        located.setdefault((parts[4], parts[3]), []).append(parts[5].removeprefix("instance/"))
    return located


def _bad(field: str, value: Any, why: str) -> InvalidEmergencyInput:
    return InvalidEmergencyInput(f"{field}: {value!r} {why}")


def plan(request: Any, settings: Settings) -> dict[str, Any]:
    """The validated request as the state machine consumes it (pure; raises InvalidEmergencyInput)."""
    parsed = parse_request(request)
    operation, reboot = str(parsed.patching_operation), str(parsed.operation_post_patching)
    include_asg, refresh, healthy = parsed.include_asg, parsed.refresh_asg_instances, parsed.retain_healthy_percentage
    override = str(parsed.run_patch_baseline_install_override_list)
    concurrency = parsed.max_concurrency or settings.max_concurrency
    errors = parsed.max_errors or settings.max_errors
    tl_concurrency = parsed.target_location_max_concurrency or settings.target_location_max_concurrency
    tl_errors = parsed.target_location_max_errors or settings.target_location_max_errors
    poll = settings.poll_seconds if parsed.poll_seconds is None else parsed.poll_seconds
    waves = [str(parsed.env)] if parsed.env is not None else list(parsed.waves or settings.default_waves)
    if not waves:
        raise InvalidEmergencyInput(f"waves: [] is empty: name at least one of {', '.join(ENVIRONMENTS)}")
    approvals = set(settings.approval_before) | {str(wave) for wave in parsed.approval.required_before}
    targets = parsed.targets
    # An instance list (the Inspector rule): one location per account x Region of its instances.
    instances = instance_locations(targets.instances)
    entries = [*targets.accounts, *targets.organizational_units] or sorted({a for a, _ in instances})
    regions = list(settings.default_regions if targets.regions is None else targets.regions)
    regions = sorted({r for _, r in instances}) if instances else regions
    if not regions:
        raise InvalidEmergencyInput("targets.regions: no Regions given and none configured")
    if len(regions) > ACCOUNTS_PER_LOCATION:
        raise _bad("targets.regions", len(regions), f"Regions: SSM takes at most {ACCOUNTS_PER_LOCATION}")
    if len(entries) > ACCOUNTS_PER_LOCATION * MAX_LOCATIONS:
        raise _bad(
            "targets",
            len(entries),
            f"accounts and OUs: one wave takes at most {ACCOUNTS_PER_LOCATION * MAX_LOCATIONS}; use OUs",
        )

    locations = [
        {
            "Accounts": entries[start : start + ACCOUNTS_PER_LOCATION],
            "Regions": regions,
            "TargetLocationMaxConcurrency": tl_concurrency,
            "TargetLocationMaxErrors": tl_errors,
            "ExecutionRoleName": settings.execution_role_name,
            # An OU target covers its direct accounts only unless this is set (TargetLocation,
            # IncludeChildOrganizationUnits, SSM API reference): nested OUs are part of a wave too.
            "IncludeChildOrganizationUnits": True,
        }
        for start in range(0, len(entries), ACCOUNTS_PER_LOCATION)
    ]
    plan_waves = []
    by_location: list[tuple[dict[str, Any], dict[str, list[str]]]] = [
        (
            {**locations[0], "Accounts": [account], "Regions": [region]} if locations else {},
            {"InstanceIds": ids},
        )
        for (account, region), ids in instances.items()
    ]
    for wave in waves:
        common: dict[str, list[str]] = {
            "AutomationAssumeRole": [settings.administration_role_arn],
            "PatchGroup": [str(wave)],
            "Operation": [operation],
            # SSM rejects an empty parameter value: without a list the runbook's default ("") applies.
            **({"InstallOverrideList": [override]} if override else {}),
        }
        standalone: dict[str, list[str]] = {
            **common,
            "RebootOption": [reboot],
            "MaxConcurrency": [concurrency],
            "MaxErrors": [errors],
            "OutputS3BucketName": [settings.patch_log_bucket],
        }
        # Each start names its own target locations: the whole request's, or one account x Region per instance list.
        runbooks: list[dict[str, Any]] = [
            {"DocumentName": settings.runbook_standalone, "Parameters": standalone, "TargetLocations": locations}
        ]
        if by_location:
            runbooks = [
                {
                    "DocumentName": settings.runbook_standalone,
                    "Parameters": {**standalone, **ids},
                    "TargetLocations": [location],
                }
                for location, ids in by_location
            ]
        if include_asg == "Yes":
            runbooks.append(
                {
                    "DocumentName": settings.runbook_asg,
                    "Parameters": {
                        **common,
                        "MinHealthyPercentage": [str(healthy)],
                    },
                    "TargetLocations": locations,
                }
            )
        plan_waves.append({"name": wave, "approval": wave in approvals, "runbooks": runbooks})
    return {
        "waves": plan_waves,
        "wave_names": waves,
        "wave_count": len(plan_waves),
        "target_locations": locations,
        "poll_seconds": poll,
        "approval_timeout_seconds": settings.approval_timeout_seconds,
        "request": {
            "patching_operation": operation,
            "operation_post_patching": reboot,
            "include_asg": include_asg,
            "retain_healthy_percentage": healthy,
            "refresh_asg_instances": refresh,
            "run_patch_baseline_install_override_list": override,
            "targets": {"accounts_and_ous": entries, "regions": regions},
            "approval_before": sorted(approvals),
            "max_concurrency": concurrency,
            "max_errors": errors,
            "target_location_max_concurrency": tl_concurrency,
            "target_location_max_errors": tl_errors,
            "requested_by": parsed.requested_by or "",
            "findings": [str(finding) for finding in parsed.findings],
            "vulnerabilities": [str(v) for v in parsed.vulnerabilities],
            "instances": [str(i) for i in targets.instances],
            "freeze_override": parsed.freeze_override,
        },
    }


@logger.inject_lambda_context
def handler(event: Any, context: LambdaContext) -> dict[str, Any]:
    """Step Functions passes the execution input; the error name is the exception's class name."""
    return plan(event, Settings.from_env(os.environ))
