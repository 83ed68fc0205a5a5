"""First state of the emergency-patching state machine: validate the request, return the plan.

Why a Lambda and not Choice states: the fields that matter most in an emergency (account and
OU ids, Regions, the override-list URL, rate limits) need patterns, and ASL has no regular
expressions. This function makes no AWS call; it only decides. A bad request raises
:class:`InvalidEmergencyInput` with one line naming the field and why; the state machine turns
it into a failed execution (error ``InvalidInput``) before anything is started.

The request (the seed's payload plus targets, waves, approval and rate control) is the
:class:`EmergencyRequest` model, read with the Powertools parser; ``schemas/emergency-request.schema.json``
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
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any

import tag_contract
from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.parser import parse
from aws_lambda_powertools.utilities.typing import LambdaContext
from lambda_shared.validation import (
    Hints,
    first_problem,
    matching,
    one_of,
    pattern_schema,
    reject,
    unique_strings,
    without_nulls,
    yes_no,
)
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, WithJsonSchema, model_validator

logger = Logger(service=os.environ.get("POWERTOOLS_SERVICE_NAME", "org-patching-emergency-validate"))

#: The wave names: the tag contract's patch groups, environments first (the order of the messages).
ENVIRONMENTS: tuple[str, ...] = (*tag_contract.ENVIRONMENTS, tag_contract.DEFAULT)
#: SSM's limits for one StartAutomationExecution (TargetLocation.Accounts and TargetLocations).
ACCOUNTS_PER_LOCATION = 50
MAX_LOCATIONS = 100

# ASCII and \Z: "$" also matches before a trailing newline, and \d matches non-ASCII digits (found by tests/fuzz).
_ACCOUNT = re.compile(r"^\d{12}\Z", re.ASCII)
_OU = re.compile(r"^(ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}|r-[0-9a-z]{4,32})\Z")
_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d\Z", re.ASCII)
_CONCURRENCY = re.compile(r"^([1-9][0-9]*|[1-9][0-9]%|[1-9]%|100%)\Z")
_ERRORS = re.compile(r"^([1-9][0-9]*|[0]|[1-9][0-9]%|[0-9]%|100%)\Z")
#: S3 bucket naming rules (3-63 lowercase letters, digits, dots, hyphens; letter or digit at both ends):
#: the runbook's OutputS3BucketName allowedPattern is the same expression.
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]\Z", re.ASCII)
_OVERRIDE = re.compile(r"^\Z|^https://\S+\Z|^s3://[^/\s]+/\S+\Z")


class InvalidEmergencyInput(Exception):  # the class name is the Step Functions error name
    """The request cannot be run; the message names the field and the reason."""


# --------------------------------------------------------------------------------------------------------------
# The request: each field's check raises "why" (the field and the value are added from where it failed)
# --------------------------------------------------------------------------------------------------------------


def _always_refreshed(value: Any) -> str:
    if yes_no(value) == "No":
        # The spoke's ASG runbook always rolls the group onto the rebaked image (instance refresh
        # with MinHealthyPercentage and auto-rollback): a new image no instance runs patches nothing.
        raise reject("is not supported: ASGs are always refreshed")
    return "Yes"


def _percentage(value: Any) -> int:
    healthy = int(value) if isinstance(value, str) and value.isascii() and value.isdigit() else value  # "²".isdigit()
    if isinstance(healthy, bool) or not isinstance(healthy, int) or not 0 <= healthy <= 100:
        raise reject("is not a whole number 0-100")
    return healthy


def _seconds(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 3600:
        raise reject("is not a whole number of seconds 0-3600")
    return value


def _waves(value: Any) -> Any:
    if unique_strings(value) == []:
        raise reject(f"is empty: name at least one of {', '.join(ENVIRONMENTS)}")
    return value


def _rate(pattern: re.Pattern[str]) -> dict[str, Any]:
    return {"anyOf": [pattern_schema(pattern), {"type": "integer", "minimum": 0}]}


UNIQUE = Field(json_schema_extra={"uniqueItems": True})
YES_NO = WithJsonSchema({"anyOf": [{"type": "boolean"}, {"type": "string", "pattern": "^([Yy][Ee][Ss]|[Nn][Oo])$"}]})
WAVES = WithJsonSchema({"type": "string", "enum": list(ENVIRONMENTS)})
Wave = Annotated[str | None, BeforeValidator(one_of(ENVIRONMENTS)), WAVES]
Account = Annotated[
    str, BeforeValidator(matching(_ACCOUNT, "a 12-digit account id")), WithJsonSchema(pattern_schema(_ACCOUNT))
]
OrganizationalUnit = Annotated[
    str,
    BeforeValidator(matching(_OU, "an OU or root id (ou-xxxx-xxxxxxxx, r-xxxx)")),
    WithJsonSchema(pattern_schema(_OU)),
]
Region = Annotated[str, BeforeValidator(matching(_REGION, "a Region name")), WithJsonSchema(pattern_schema(_REGION))]
Concurrency = Annotated[
    str | None,
    BeforeValidator(matching(_CONCURRENCY, "a count or 1%-100%", converts_int=True)),
    WithJsonSchema(_rate(_CONCURRENCY)),
]
Errors = Annotated[
    str | None,
    BeforeValidator(matching(_ERRORS, "a count or 0%-100%", converts_int=True)),
    WithJsonSchema(_rate(_ERRORS)),
]


class Targets(BaseModel):
    """Where the waves run: accounts and/or OUs (at least one), in Regions (default: the configured ones)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=without_nulls)

    accounts: Annotated[list[Account], BeforeValidator(unique_strings), UNIQUE] = []
    organizational_units: Annotated[list[OrganizationalUnit], BeforeValidator(unique_strings), UNIQUE] = []
    regions: Annotated[list[Region] | None, BeforeValidator(unique_strings), UNIQUE] = None

    @model_validator(mode="after")
    def _someone(self) -> Targets:
        if not self.accounts and not self.organizational_units:
            raise reject("name at least one account or organizational unit", whole=True)
        return self


class Approval(BaseModel):
    """Waves that wait for an approver: adds to the configured approvals, never removes one."""

    model_config = ConfigDict(extra="forbid")

    required_before: Annotated[list[Wave], BeforeValidator(unique_strings), UNIQUE] = []


def _schema(schema: dict[str, Any]) -> None:
    without_nulls(schema)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://github.com/org-patching/org-patching/schemas/emergency-request.schema.json"


class EmergencyRequest(BaseModel):
    """An emergency patching request (the execution input of the emergency state machine).

    Fields left out take the configured defaults (waves, Regions, rate limits, poll interval).
    """

    model_config = ConfigDict(
        extra="forbid", title="org-patching emergency patching request", json_schema_extra=_schema
    )

    patching_operation: Annotated[
        str, BeforeValidator(one_of(("Scan", "Install"))), WithJsonSchema({"enum": ["Scan", "Install"]})
    ]
    operation_post_patching: Annotated[
        str,
        BeforeValidator(one_of(("RebootIfNeeded", "NoReboot"))),
        WithJsonSchema({"enum": ["RebootIfNeeded", "NoReboot"]}),
    ] = "RebootIfNeeded"
    include_asg: Annotated[str, BeforeValidator(yes_no), YES_NO] = "No"
    refresh_asg_instances: Annotated[str, BeforeValidator(_always_refreshed), YES_NO] = Field(
        "Yes", description="Yes only: the ASG runbook always refreshes the group"
    )
    retain_healthy_percentage: Annotated[
        int,
        BeforeValidator(_percentage),
        WithJsonSchema(
            {"anyOf": [{"type": "integer", "minimum": 0, "maximum": 100}, {"type": "string", "pattern": "^[0-9]+$"}]}
        ),
    ] = 90
    run_patch_baseline_install_override_list: Annotated[
        str,
        BeforeValidator(matching(_OVERRIDE, "empty, an https:// URL or s3://bucket/key")),
        WithJsonSchema(pattern_schema(_OVERRIDE)),
    ] = ""
    max_concurrency: Concurrency = Field(None, description="Instances at a time, inside each account and Region")
    max_errors: Errors = Field(None, description="Failed instances that stop an account and Region")
    target_location_max_concurrency: Concurrency = Field(None, description="Accounts x Regions at a time")
    target_location_max_errors: Errors = Field(None, description="Failed accounts x Regions that stop a wave")
    poll_seconds: Annotated[
        int | None, BeforeValidator(_seconds), WithJsonSchema({"type": "integer", "minimum": 0, "maximum": 3600})
    ] = Field(None, description="How often a running wave is polled")
    env: Wave = Field(None, description="The seed's form of one wave (give env or waves, not both)")
    waves: Annotated[
        list[Wave] | None, BeforeValidator(_waves), Field(json_schema_extra={"uniqueItems": True, "minItems": 1})
    ] = Field(None, description="Patch groups, patched in this order")
    approval: Approval = Approval()
    targets: Targets

    @model_validator(mode="before")
    @classmethod
    def _one_form_of_waves(cls, data: Any) -> Any:
        if isinstance(data, dict) and "env" in data and "waves" in data:
            why = "give either 'env' (one wave, the seed's form) or 'waves', not both"
            raise reject(why, field="waves", whole=True)
        return data


#: What the model adds to pydantic's errors: the one-line messages of this function's contract.
HINTS = Hints(
    missing={
        "patching_operation": "is required (one of Scan, Install)",
        "targets": 'None is required: {"accounts": [...], "organizational_units": [...], "regions": [...]}',
    },
    not_an_object={
        "": "is not a JSON object",
        "targets": 'is required: {"accounts": [...], "organizational_units": [...], "regions": [...]}',
        "approval": 'is not an object like {"required_before": ["Prod"]}',
    },
    unknown={
        "": "a typo here must not be ignored in an emergency",
        "targets": "accounts, organizational_units, regions",
        "approval": "only required_before",
    },
)


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
        if not _BUCKET.match(self.patch_log_bucket):
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
    entries = [*targets.accounts, *targets.organizational_units]
    regions = list(settings.default_regions if targets.regions is None else targets.regions)
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
        }
        for start in range(0, len(entries), ACCOUNTS_PER_LOCATION)
    ]
    plan_waves = []
    for wave in waves:
        common = {
            "AutomationAssumeRole": [settings.administration_role_arn],
            "PatchGroup": [wave],
            "Operation": [operation],
            # SSM rejects an empty parameter value: without a list the runbook's default ("") applies.
            **({"InstallOverrideList": [override]} if override else {}),
        }
        runbooks = [
            {
                "DocumentName": settings.runbook_standalone,
                "Parameters": {
                    **common,
                    "RebootOption": [reboot],
                    "MaxConcurrency": [concurrency],
                    "MaxErrors": [errors],
                    "OutputS3BucketName": [settings.patch_log_bucket],
                },
            }
        ]
        if include_asg == "Yes":
            runbooks.append(
                {
                    "DocumentName": settings.runbook_asg,
                    "Parameters": {
                        **common,
                        "MinHealthyPercentage": [str(healthy)],
                    },
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
        },
    }


@logger.inject_lambda_context
def handler(event: Any, context: LambdaContext) -> dict[str, Any]:
    """Step Functions passes the execution input; the error name is the exception's class name."""
    return plan(event, Settings.from_env(os.environ))
