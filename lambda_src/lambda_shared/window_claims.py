"""One maintenance window per name in an account and Region, even when two launches race.

Two product launches of the same team and environment create two windows of the same name (SSM allows
duplicate names). The window-tagging custom resource claims the name before it tags anything, with
``PutParameter`` (``Overwrite`` false) on ``/org-patching/windows/<window name>``, value the window id: SSM
creates a parameter only once (``ParameterAlreadyExists`` otherwise), so exactly one claim wins. The loser's
custom resource fails, its stack rolls back and deletes its own window: one window remains.

A claim whose window no longer exists (its stack deleted while the function could not run) is stale and is
taken over. Releasing happens by window id, never by name: a stack deletes only its own claim.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

CLAIM_PREFIX = "/org-patching/windows/"


def claim_name(window_name: str) -> str:
    return f"{CLAIM_PREFIX}{window_name}"


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def window_name_of(ssm: Any, window_id: str) -> str | None:
    """The name of window ``window_id``, or ``None`` when it does not exist."""
    try:
        name = ssm.get_maintenance_window(WindowId=window_id).get("Name")
    except ClientError as error:
        if _code(error) in ("DoesNotExistException", "ValidationException"):
            return None
        raise
    return str(name) if name is not None else None


def claim(ssm: Any, window_name: str, window_id: str) -> str | None:
    """Claim ``window_name`` for ``window_id``; the id of the window that holds it otherwise (``None``: ours)."""
    name = claim_name(window_name)
    for _ in range(2):
        try:
            ssm.put_parameter(
                Name=name,
                Value=window_id,
                Type="String",
                Overwrite=False,
                Description="org-patching: the one window of this name (window tagging)",
            )
            return None
        except ClientError as error:
            if _code(error) != "ParameterAlreadyExists":
                raise
        holder = str(ssm.get_parameter(Name=name)["Parameter"]["Value"])
        if holder == window_id:
            return None
        if window_name_of(ssm, holder) == window_name:
            return holder
        # Stale: the holder's window is gone. Remove the claim and try once more (another launch may win).
        release(ssm, window_name, holder)
    return str(ssm.get_parameter(Name=name)["Parameter"]["Value"])


def release(ssm: Any, window_name: str, window_id: str) -> bool:
    """Remove the claim on ``window_name`` if ``window_id`` holds it; True when it was removed."""
    name = claim_name(window_name)
    try:
        holder = ssm.get_parameter(Name=name)["Parameter"]["Value"]
    except ClientError as error:
        if _code(error) == "ParameterNotFound":
            return False
        raise
    if holder != window_id:
        return False
    try:
        ssm.delete_parameter(Name=name)
    except ClientError as error:
        if _code(error) != "ParameterNotFound":
            raise
    return True
