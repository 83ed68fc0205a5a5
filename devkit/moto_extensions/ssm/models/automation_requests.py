"""What SSM checks in a ``StartAutomationExecution`` request, and how it expands ``TargetLocations``.

* The document must exist in the caller's account and Region (moto's SSM documents) and be an
  Automation document; names of AWS-owned runbooks (``AWS-``, ``AWSSupport-``, ``AWSEC2-``,
  ``AWSConfigRemediation-``) are accepted without a document.
* Parameters are checked against the document: unknown names, missing required parameters,
  several values for a ``String`` parameter, ``allowedValues`` and ``allowedPattern`` give
  ``InvalidAutomationExecutionParametersException``.
* ``TargetLocations`` members are checked against the botocore model's limits and patterns
  (Step Functions' SDK clients skip client-side validation, so the service has to do it) →
  ``ValidationException``. OU ids are expanded through moto's Organizations data (direct
  children only unless ``IncludeChildOrganizationUnits``); ``ExcludeAccounts`` removes accounts.
"""

from __future__ import annotations

import functools
import math
import re
from typing import Any

import botocore.session
from moto.ssm.models import ssm_backends

from devkit.moto_extensions.ssm.exceptions import AutomationError

AWS_OWNED_PREFIXES = ("AWS-", "AWSSupport-", "AWSEC2-", "AWSConfigRemediation-")

_ACCOUNT = re.compile(r"^\d{12}$")
_OU = re.compile(r"^ou-[a-z0-9]{4,32}-[a-z0-9]{8,32}$")
_ROOT = re.compile(r"^r-[0-9a-z]{4,32}$")
_CONCURRENCY = re.compile(r"^([1-9][0-9]*|[1-9][0-9]%|[1-9]%|100%)$")
_ERRORS = re.compile(r"^([1-9][0-9]*|[0]|[1-9][0-9]%|[0-9]%|100%)$")
_ROLE_NAME = re.compile(r"^[\w+=,.@/-]{1,64}$")


def _invalid(message: str) -> AutomationError:
    return AutomationError("ValidationException", message)


@functools.cache
def _known_regions() -> frozenset[str]:
    session = botocore.session.get_session()
    regions: set[str] = set()
    for partition in session.get_available_partitions():
        regions.update(session.get_available_regions("ssm", partition_name=partition))
    return frozenset(regions)


def rate(value: str, total: int, *, minimum: int) -> int:
    """A count, or a percentage of ``total`` (rounded down, at least ``minimum``)."""
    if value.endswith("%"):
        return max(minimum, math.floor(total * int(value[:-1]) / 100))
    return int(value)


def document_parameters(account: str, region: str, name: str, version: str | None) -> tuple[str, dict[str, Any] | None]:
    """The document's version and parameter declarations (``None`` = AWS-owned, unchecked)."""
    documents = ssm_backends[account][region]._documents.get(name)
    if documents is None:
        if name.startswith(AWS_OWNED_PREFIXES):
            return version or "1", None
        raise AutomationError("AutomationDefinitionNotFoundException", f"Document with name {name} does not exist.")
    if version in (None, "$DEFAULT"):
        document = documents.get_default_version()
    elif version == "$LATEST":
        document = documents.get_latest_version()
    else:
        found = documents.find_by_version(version)
        if found is None:
            raise AutomationError(
                "AutomationDefinitionVersionNotFoundException",
                f"Document {name} does not have version {version}.",
            )
        document = found
    if document.document_type != "Automation":
        raise AutomationError(
            "AutomationDefinitionNotFoundException",
            f"Document {name} is a {document.document_type} document, not an Automation runbook.",
        )
    return document.document_version, dict(document.content_json.get("parameters") or {})


def check_parameters(name: str, declared: dict[str, Any] | None, given: dict[str, Any]) -> dict[str, list[str]]:
    def bad(message: str) -> AutomationError:
        return AutomationError("InvalidAutomationExecutionParametersException", f"{name}: {message}")

    values: dict[str, list[str]] = {}
    for key, raw in given.items():
        if not isinstance(raw, list) or not all(isinstance(v, str) for v in raw):
            raise bad(f"parameter {key} must be a list of strings")
        for value in raw:
            if not 1 <= len(value) <= 512:
                # AutomationParameterValue is 1..512 characters (the service model); an empty
                # string is rejected even where the document's default is "": omit the key.
                raise AutomationError(
                    "ValidationException",
                    f"1 validation error detected: Value '{value}' at 'parameters.{key}' failed to satisfy "
                    "constraint: Member must have length between 1 and 512",
                )
        values[key] = list(raw)
    if declared is None:
        return values
    for key in values:
        if key not in declared:
            raise bad(
                f"Parameter {key} is not defined in the document (it has {', '.join(sorted(declared)) or 'none'})."
            )
    for key, spec in declared.items():
        spec = spec or {}
        if key not in values:
            if "default" not in spec:
                raise bad(f"Parameter {key} is required and has no default value.")
            continue
        current = values[key]
        if spec.get("type", "String") in ("String", "Boolean", "Integer") and len(current) != 1:
            raise bad(f"Parameter {key} of type {spec.get('type', 'String')} takes exactly one value.")
        allowed = spec.get("allowedValues")
        pattern = spec.get("allowedPattern")
        for value in current:
            if allowed is not None and value not in [str(a) for a in allowed]:
                raise bad(f"Parameter {key} value {value!r} is not one of {', '.join(map(str, allowed))}.")
            if pattern is not None and not re.search(pattern, value):
                raise bad(f"Parameter {key} value {value!r} does not match the pattern {pattern}.")
    return values


def expand_accounts(caller: str, spec: dict[str, Any]) -> list[str]:
    """Accounts and OU ids of one target location → account ids (Organizations data in moto)."""
    from moto.organizations.models import organizations_backends

    partition_backends = organizations_backends.get(caller)
    master = organizations_backends.master_accounts.get(caller)
    backend = None
    if master is not None:
        backend = organizations_backends[master[0]][master[1]]
    elif partition_backends is not None:
        backend = partition_backends.get("aws")
    include_children = bool(spec.get("IncludeChildOrganizationUnits"))
    accounts: list[str] = []
    for entry in spec.get("Accounts") or [caller]:
        if _ACCOUNT.match(entry):
            accounts.append(entry)
            continue
        if backend is None or backend.org is None:
            raise AutomationError("InvalidTarget", f"Organizational unit {entry} cannot be resolved: no organization.")
        try:
            parents = [entry]
            backend.validate_parent_id(entry)
        except Exception:
            raise AutomationError("InvalidTarget", f"Organizational unit {entry} does not exist.") from None
        while parents:
            parent = parents.pop(0)
            accounts.extend(a.id for a in backend.accounts if a.parent_id == parent)
            if include_children:
                parents.extend(ou.id for ou in backend.ou if ou.parent_id == parent)
    excluded = set(spec.get("ExcludeAccounts") or [])
    unique = list(dict.fromkeys(accounts))
    return [a for a in unique if a not in excluded]


def check_location(index: int, spec: Any) -> dict[str, Any]:
    where = f"TargetLocations[{index}]"
    if not isinstance(spec, dict):
        raise _invalid(f"{where} must be an object")
    known = {
        "Accounts",
        "Regions",
        "TargetLocationMaxConcurrency",
        "TargetLocationMaxErrors",
        "ExecutionRoleName",
        "IncludeChildOrganizationUnits",
        "ExcludeAccounts",
        "TargetLocationAlarmConfiguration",
        "Targets",
        "TargetsMaxConcurrency",
        "TargetsMaxErrors",
    }
    for key in spec:
        if key not in known:
            raise _invalid(f"{where}: unknown member {key}")
    for key in ("Accounts", "Regions"):
        if key in spec and (not isinstance(spec[key], list) or not 1 <= len(spec[key]) <= 50):
            raise _invalid(f"{where}.{key} must be a list of 1 to 50 items")
    for account in spec.get("Accounts", []):
        if not isinstance(account, str) or not (_ACCOUNT.match(account) or _OU.match(account) or _ROOT.match(account)):
            raise _invalid(f"{where}.Accounts: {account!r} is not an account id or an organizational unit id")
    for account in spec.get("ExcludeAccounts", []):
        if not isinstance(account, str) or not (_ACCOUNT.match(account) or _OU.match(account)):
            raise _invalid(f"{where}.ExcludeAccounts: {account!r} is not an account id or an organizational unit id")
    for region in spec.get("Regions", []):
        if region not in _known_regions():
            raise _invalid(f"{where}.Regions: {region!r} is not a Region")
    concurrency = spec.get("TargetLocationMaxConcurrency", "1")
    if not isinstance(concurrency, str) or not _CONCURRENCY.match(concurrency):
        raise _invalid(f"{where}.TargetLocationMaxConcurrency: {concurrency!r} is not a count or percentage")
    errors = spec.get("TargetLocationMaxErrors", "0")
    if not isinstance(errors, str) or not _ERRORS.match(errors):
        raise _invalid(f"{where}.TargetLocationMaxErrors: {errors!r} is not a count or percentage")
    role = spec.get("ExecutionRoleName", "AWS-SystemsManager-AutomationExecutionRole")
    if not isinstance(role, str) or not _ROLE_NAME.match(role):
        raise _invalid(f"{where}.ExecutionRoleName: {role!r} is not a role name")
    return {
        **spec,
        "TargetLocationMaxConcurrency": concurrency,
        "TargetLocationMaxErrors": errors,
        "ExecutionRoleName": role,
    }


def check_document_name(name: Any) -> str:
    if not isinstance(name, str) or not re.match(r"^[a-zA-Z0-9_\-.:/]{3,128}$", name):
        raise _invalid(f"DocumentName {name!r} is not a document name")
    return name


def check_target_locations(raw: Any) -> list[dict[str, Any]]:
    """``TargetLocations`` (absent: a local execution), each location checked and given its defaults."""
    if raw is not None and (not isinstance(raw, list) or not 1 <= len(raw) <= 100):
        raise _invalid("TargetLocations must be a list of 1 to 100 locations")
    return [check_location(i, spec) for i, spec in enumerate(raw or [])]
