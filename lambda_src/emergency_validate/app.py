"""First state of the emergency-patching state machine: validate the request, return the plan.

Why a Lambda and not Choice states: the fields that matter most in an emergency (account and
OU ids, Regions, the override-list URL, rate limits) need patterns, and ASL has no regular
expressions. This function makes no AWS call; it only decides. A bad request raises
:class:`InvalidEmergencyInput` with one line naming the field and why; the state machine turns
it into a failed execution (error ``InvalidInput``) before anything is started.

Request (the seed's payload plus targets, waves, approval and rate control)::

    {
      "patching_operation": "Install",                # required: Scan | Install
      "operation_post_patching": "RebootIfNeeded",    # RebootIfNeeded | NoReboot
      "include_asg": "No",                            # Yes | No (also true/false)
      "retain_healthy_percentage": "90",              # 0-100 (string or number)
      "refresh_asg_instances": "Yes",                 # Yes only (the ASG runbook always refreshes)
      "run_patch_baseline_install_override_list": "", # "" | https://... | s3://bucket/key
      "targets": {"accounts": ["111122223333"], "organizational_units": ["ou-ab12-abcdefgh"],
                  "regions": ["eu-west-1"]},          # accounts and/or OUs; regions default from config
      "waves": ["Dev", "Test", "Prod"],              # or the seed's "env": "Dev" (one wave); a wave patches
                                                      # every instance (and, with include_asg, every ASG) whose
                                                      # "Patch Group" tag is the wave's name, whatever window it
                                                      # is on; "Default" patches Patch Group=Default
      "approval": {"required_before": ["Prod"]},     # adds to the configured approvals, never removes
      "max_concurrency": "10%", "max_errors": "5%",  # instances, inside each account/Region
      "target_location_max_concurrency": "10",       # accounts x Regions at a time
      "target_location_max_errors": "1",             # failed accounts x Regions that stop a wave
      "poll_seconds": 60                              # how often a running wave is polled
    }

Configuration (environment variables, set by the ``EmergencyPatching`` component; defaults in
brackets): ``DEFAULT_WAVES`` [Dev,Test,Prod], ``APPROVAL_BEFORE`` [Prod], ``DEFAULT_REGIONS`` [],
``MAX_CONCURRENCY`` [10%], ``MAX_ERRORS`` [5%], ``TARGET_LOCATION_MAX_CONCURRENCY`` [10],
``TARGET_LOCATION_MAX_ERRORS`` [1], ``POLL_SECONDS`` [60], ``APPROVAL_TIMEOUT_SECONDS``
[86400], ``EXECUTION_ROLE_NAME``, ``ADMINISTRATION_ROLE_ARN``, ``RUNBOOK_STANDALONE``,
``RUNBOOK_ASG`` (required).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

#: The wave names: the values of the tag contract's ``Patch Group`` tag (``tag_contract.PATCH_GROUPS``).
ENVIRONMENTS = ("Dev", "Test", "Prod", "Default")
#: A wave means an environment: the spoke runbooks get ``PatchGroup=<wave>`` and patch every instance
#: and ASG tagged ``Patch Group=<wave>``, whatever maintenance window it is on.
#: SSM's limits for one StartAutomationExecution (TargetLocation.Accounts and TargetLocations).
ACCOUNTS_PER_LOCATION = 50
MAX_LOCATIONS = 100

# ASCII and \Z: "$" also matches before a trailing newline, and \d matches non-ASCII digits (found by tests/fuzz).
_ACCOUNT = re.compile(r"^\d{12}\Z", re.ASCII)
_OU = re.compile(r"^(ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}|r-[0-9a-z]{4,32})\Z")
_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d\Z", re.ASCII)
_CONCURRENCY = re.compile(r"^([1-9][0-9]*|[1-9][0-9]%|[1-9]%|100%)\Z")
_ERRORS = re.compile(r"^([1-9][0-9]*|[0]|[1-9][0-9]%|[0-9]%|100%)\Z")
_OVERRIDE = re.compile(r"^\Z|^https://\S+\Z|^s3://[^/\s]+/\S+\Z")

KNOWN_FIELDS = frozenset(
    {
        "env",
        "include_asg",
        "retain_healthy_percentage",
        "refresh_asg_instances",
        "patching_operation",
        "operation_post_patching",
        "run_patch_baseline_install_override_list",
        "targets",
        "waves",
        "approval",
        "max_concurrency",
        "max_errors",
        "target_location_max_concurrency",
        "target_location_max_errors",
        "poll_seconds",
    }
)


class InvalidEmergencyInput(Exception):  # the class name is the Step Functions error name
    """The request cannot be run; the message names the field and the reason."""


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
        )


def _bad(field: str, value: Any, why: str) -> InvalidEmergencyInput:
    return InvalidEmergencyInput(f"{field}: {value!r} {why}")


def _choice(request: Mapping[str, Any], field: str, allowed: tuple[str, ...], default: str | None) -> str:
    value = request.get(field, default)
    if value is None:
        raise InvalidEmergencyInput(f"{field}: is required (one of {', '.join(allowed)})")
    if value not in allowed:
        raise _bad(field, value, f"is not one of {', '.join(allowed)}")
    return str(value)


def _yes_no(request: Mapping[str, Any], field: str, default: str) -> str:
    value = request.get(field, default)
    if value is True or value is False:
        return "Yes" if value else "No"
    if not isinstance(value, str) or value.lower() not in ("yes", "no"):
        raise _bad(field, value, "is not Yes or No")
    return "Yes" if value.lower() == "yes" else "No"


def _rate(request: Mapping[str, Any], field: str, default: str, pattern: re.Pattern[str], what: str) -> str:
    value = request.get(field, default)
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not pattern.match(value):
        raise _bad(field, value, f"is not {what}")
    return value


def _string_list(value: Any, field: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _bad(field, value, "is not a list of strings")
    if len(set(value)) != len(value):
        duplicate = next(v for v in value if value.count(v) > 1)
        raise _bad(field, duplicate, "is listed twice")
    return value


def _waves(request: Mapping[str, Any], settings: Settings) -> list[str]:
    if "env" in request and "waves" in request:
        raise InvalidEmergencyInput("waves: give either 'env' (one wave, the seed's form) or 'waves', not both")
    if "env" in request:
        return [_choice(request, "env", ENVIRONMENTS, None)]
    waves = _string_list(request.get("waves", list(settings.default_waves)), "waves")
    if not waves:
        raise InvalidEmergencyInput("waves: [] is empty: name at least one of Dev, Test, Prod, Default")
    for index, wave in enumerate(waves):
        if wave not in ENVIRONMENTS:
            raise _bad(f"waves[{index}]", wave, f"is not one of {', '.join(ENVIRONMENTS)}")
    return waves


def _approvals(request: Mapping[str, Any], settings: Settings) -> set[str]:
    """Configured approvals are a floor: a request can add some, never remove one."""
    required = set(settings.approval_before)
    approval = request.get("approval", {})
    if not isinstance(approval, dict):
        raise _bad("approval", approval, 'is not an object like {"required_before": ["Prod"]}')
    for key in approval:
        if key != "required_before":
            raise _bad(f"approval.{key}", approval[key], "is not a known field (only required_before)")
    extra = _string_list(approval.get("required_before", []), "approval.required_before")
    for index, wave in enumerate(extra):
        if wave not in ENVIRONMENTS:
            raise _bad(f"approval.required_before[{index}]", wave, f"is not one of {', '.join(ENVIRONMENTS)}")
    return required | set(extra)


def _targets(request: Mapping[str, Any], settings: Settings) -> tuple[list[str], list[str]]:
    targets = request.get("targets")
    if not isinstance(targets, dict):
        raise _bad(
            "targets", targets, 'is required: {"accounts": [...], "organizational_units": [...], "regions": [...]}'
        )
    for key in targets:
        if key not in ("accounts", "organizational_units", "regions"):
            raise _bad(f"targets.{key}", targets[key], "is not a known field (accounts, organizational_units, regions)")
    accounts = _string_list(targets.get("accounts", []), "targets.accounts")
    for index, account in enumerate(accounts):
        if not _ACCOUNT.match(account):
            raise _bad(f"targets.accounts[{index}]", account, "is not a 12-digit account id")
    ous = _string_list(targets.get("organizational_units", []), "targets.organizational_units")
    for index, ou in enumerate(ous):
        if not _OU.match(ou):
            raise _bad(
                f"targets.organizational_units[{index}]", ou, "is not an OU or root id (ou-xxxx-xxxxxxxx, r-xxxx)"
            )
    if not accounts and not ous:
        raise InvalidEmergencyInput("targets: name at least one account or organizational unit")
    regions = _string_list(targets.get("regions", list(settings.default_regions)), "targets.regions")
    if not regions:
        raise InvalidEmergencyInput("targets.regions: no Regions given and none configured")
    if len(regions) > ACCOUNTS_PER_LOCATION:
        raise _bad("targets.regions", len(regions), f"Regions: SSM takes at most {ACCOUNTS_PER_LOCATION}")
    for index, region in enumerate(regions):
        if not _REGION.match(region):
            raise _bad(f"targets.regions[{index}]", region, "is not a Region name")
    entries = accounts + ous
    if len(entries) > ACCOUNTS_PER_LOCATION * MAX_LOCATIONS:
        raise _bad(
            "targets",
            len(entries),
            f"accounts and OUs: one wave takes at most {ACCOUNTS_PER_LOCATION * MAX_LOCATIONS}; use OUs",
        )
    return entries, regions


def plan(request: Any, settings: Settings) -> dict[str, Any]:
    """The validated request as the state machine consumes it (pure; raises InvalidEmergencyInput)."""
    if not isinstance(request, dict):
        raise _bad("input", request, "is not a JSON object")
    for key in request:
        if key not in KNOWN_FIELDS:
            raise _bad(key, request[key], "is not a known field (a typo here must not be ignored in an emergency)")
    operation = _choice(request, "patching_operation", ("Scan", "Install"), None)
    reboot = _choice(request, "operation_post_patching", ("RebootIfNeeded", "NoReboot"), "RebootIfNeeded")
    include_asg = _yes_no(request, "include_asg", "No")
    refresh = _yes_no(request, "refresh_asg_instances", "Yes")
    if refresh == "No":
        # The spoke's ASG runbook always rolls the group onto the rebaked image (instance refresh
        # with MinHealthyPercentage and auto-rollback): a new image no instance runs patches nothing.
        raise _bad(
            "refresh_asg_instances", request["refresh_asg_instances"], "is not supported: ASGs are always refreshed"
        )
    healthy = request.get("retain_healthy_percentage", 90)
    if isinstance(healthy, str) and healthy.isascii() and healthy.isdigit():  # "²".isdigit(), but int("²") fails
        healthy = int(healthy)
    if isinstance(healthy, bool) or not isinstance(healthy, int) or not 0 <= healthy <= 100:
        raise _bad("retain_healthy_percentage", request.get("retain_healthy_percentage"), "is not a whole number 0-100")
    override = request.get("run_patch_baseline_install_override_list", "")
    if not isinstance(override, str) or not _OVERRIDE.match(override):
        raise _bad(
            "run_patch_baseline_install_override_list", override, "is not empty, an https:// URL or s3://bucket/key"
        )
    concurrency = _rate(request, "max_concurrency", settings.max_concurrency, _CONCURRENCY, "a count or 1%-100%")
    errors = _rate(request, "max_errors", settings.max_errors, _ERRORS, "a count or 0%-100%")
    tl_concurrency = _rate(
        request,
        "target_location_max_concurrency",
        settings.target_location_max_concurrency,
        _CONCURRENCY,
        "a count or 1%-100%",
    )
    tl_errors = _rate(
        request, "target_location_max_errors", settings.target_location_max_errors, _ERRORS, "a count or 0%-100%"
    )
    poll = request.get("poll_seconds", settings.poll_seconds)
    if isinstance(poll, bool) or not isinstance(poll, int) or not 0 <= poll <= 3600:
        raise _bad("poll_seconds", poll, "is not a whole number of seconds 0-3600")
    waves = _waves(request, settings)
    approvals = _approvals(request, settings)
    entries, regions = _targets(request, settings)

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


def handler(event: Any, context: Any) -> dict[str, Any]:
    """Step Functions passes the execution input; the error name is the exception's class name."""
    return plan(event, Settings.from_env(os.environ))
