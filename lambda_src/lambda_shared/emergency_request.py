"""The emergency patching request: one model for the state machine's validation step and for ``patchctl emergency``.

The validation Lambda (``lambda_src/emergency_validate``) reads an execution input with it, and
``patchctl emergency start`` checks a request with it before anything is sent: the same fields,
the same patterns, the same one-line messages (``field: value why``). ``schemas/emergency-request.schema.json``
is its JSON Schema. It lives in the shared runtime because both the Lambda's archive and the
installed CLI carry ``lambda_shared``.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

import tag_contract
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, WithJsonSchema, model_validator

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
BUCKET_NAME = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]\Z", re.ASCII)
#: Who asked: set by the approval gate from the caller's authenticated ARN (never trusted for approval
#: decisions: the gate keeps its own record), shown in the summary and the approval message.
_PRINCIPAL = re.compile(r"^arn:aws[a-z-]*:(iam|sts)::\d{12}:[\w+=,.@/-]{1,512}\Z", re.ASCII)
#: Amazon Inspector finding ARNs (Inspector2 Finding events' detail.findingArn).
_FINDING = re.compile(r"^arn:aws[a-z-]*:inspector2:[a-z]{2}(-[a-z]+)+-\d:\d{12}:finding/[0-9a-f]{1,64}\Z", re.ASCII)
MAX_FINDINGS = 100
#: EC2 instance ARNs (an Inspector finding's resource): the account and Region come with the instance.
_INSTANCE = re.compile(r"^arn:aws[a-z-]*:ec2:[a-z]{2}(-[a-z]+)+-\d:\d{12}:instance/i-[0-9a-f]{8,17}\Z", re.ASCII)
#: SendCommand's InstanceIds takes at most 50 ids (botocore: InstanceIdList max 50).
MAX_INSTANCES = 50
#: Vulnerability ids of the findings (CVE-2024-1234, GHSA-..., ALAS2-...): Inspector's vulnerabilityId.
_VULNERABILITY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}\Z", re.ASCII)
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
    #: Exactly these instances (EC2 instance ARNs), each in its own account and Region (the Inspector rule).
    instances: Annotated[
        list[Annotated[str, BeforeValidator(matching(_INSTANCE, "an EC2 instance ARN"))]],
        BeforeValidator(unique_strings),
        Field(max_length=MAX_INSTANCES, json_schema_extra={"uniqueItems": True, "items": pattern_schema(_INSTANCE)}),
    ] = []

    @model_validator(mode="after")
    def _someone(self) -> Targets:
        if self.instances and (self.accounts or self.organizational_units or self.regions is not None):
            raise reject("give instances (their ARNs name the account and Region) or accounts/OUs/regions", whole=True)
        if not self.accounts and not self.organizational_units and not self.instances:
            raise reject("name at least one account or organizational unit, or instances", whole=True)
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
    requested_by: Annotated[
        str | None,
        BeforeValidator(matching(_PRINCIPAL, "an IAM or STS principal ARN")),
        WithJsonSchema(pattern_schema(_PRINCIPAL)),
    ] = Field(None, description="Set by the approval gate from the caller's authenticated ARN")
    findings: Annotated[
        list[Annotated[str, BeforeValidator(matching(_FINDING, "an Amazon Inspector finding ARN"))]],
        BeforeValidator(unique_strings),
        Field(max_length=MAX_FINDINGS, json_schema_extra={"uniqueItems": True, "items": pattern_schema(_FINDING)}),
    ] = Field([], description="Inspector findings this rollout remediates (set by the Inspector rule)")
    vulnerabilities: Annotated[
        list[Annotated[str, BeforeValidator(matching(_VULNERABILITY, "a vulnerability id like CVE-2024-1234"))]],
        BeforeValidator(unique_strings),
        Field(
            max_length=MAX_FINDINGS, json_schema_extra={"uniqueItems": True, "items": pattern_schema(_VULNERABILITY)}
        ),
    ] = Field([], description="The findings' vulnerability ids (CVEs), for people and the summary")

    freeze_override: bool = Field(
        False,
        description="Run although the change calendar is CLOSED (a change freeze); recorded with the approval",
    )

    @model_validator(mode="before")
    @classmethod
    def _one_form_of_waves(cls, data: Any) -> Any:
        if isinstance(data, dict) and "env" in data and "waves" in data:
            why = "give either 'env' (one wave, the seed's form) or 'waves', not both"
            raise reject(why, field="waves", whole=True)
        return data

    @model_validator(mode="after")
    def _instances_in_one_wave(self) -> EmergencyRequest:
        """An instance list is patched in ONE wave (its patch group: approvals follow it) and has no ASGs."""
        if self.targets.instances:
            if self.env is None and len(self.waves or []) != 1:
                raise reject("with targets.instances give exactly one wave (env)", field="waves", whole=True)
            if self.include_asg == "Yes":
                raise reject("is not supported with targets.instances", field="include_asg", whole=True)
        return self


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
        "targets": "accounts, organizational_units, regions, instances",
        "approval": "only required_before",
    },
)


def check_request(request: Any) -> EmergencyRequest:
    """The request as the model, or :class:`InvalidEmergencyInput` naming its first problem (the
    validation Lambda's check, without the Lambda runtime: ``patchctl emergency start`` uses it)."""
    if not isinstance(request, dict):
        raise InvalidEmergencyInput(f"input: {request!r} is not a JSON object")
    try:
        return EmergencyRequest.model_validate(request)
    except ValidationError as invalid:
        raise InvalidEmergencyInput(first_problem(invalid, HINTS)) from None
