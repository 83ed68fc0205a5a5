"""Calls to the hub's approval gate (``lambda_src/emergency_approval``), each with an identity proof.

Every action is a ``lambda:InvokeFunction`` with the operator's own credentials plus a signed STS
``GetCallerIdentity`` bound to that action (``lambda_shared/caller_proof.py``): the gate learns
who is asking from STS, not from anything typed here.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from typing import Any

from lambda_shared import caller_proof
from lambda_shared.emergency_request import InvalidEmergencyInput, check_request

from patchctl.emergency.hub import HubRef
from patchctl.errors import InputError


class GateRefused(Exception):
    """The gate refused (requester approving, second answer, unknown execution): exit 1."""


def _proof(session: Any, region: str, bound_to: str) -> dict[str, Any]:
    credentials = session.get_credentials()
    if credentials is None:
        raise InputError("no AWS credentials: configure a profile or environment credentials")
    return caller_proof.sign(credentials.get_frozen_credentials(), region, bound_to)


def invoke(session: Any, hub: HubRef, payload: Mapping[str, Any]) -> dict[str, Any]:
    """Invoke the gate; a function error becomes :class:`GateRefused` with its one-line message."""
    response = session.client("lambda", region_name=hub.region).invoke(
        FunctionName=hub.approval_function, Payload=json.dumps(payload).encode()
    )
    body = json.loads(response["Payload"].read() or b"null")
    if response.get("FunctionError"):
        message = body.get("errorMessage", "") if isinstance(body, dict) else str(body)
        kind = body.get("errorType", "Error") if isinstance(body, dict) else "Error"
        raise GateRefused(f"{kind}: {str(message).splitlines()[0] if message else 'no message'}")
    if not isinstance(body, dict):
        raise GateRefused(f"unexpected answer from {hub.approval_function}: {body!r}")
    return body


def start(session: Any, hub: HubRef, request: Any, *, check: bool = True) -> dict[str, Any]:
    """Check ``request`` with the state machine's own model, then start it through the gate.

    ``check=False`` leaves the check to the state machine's validation step (the emulator's tests
    of that step use it); the model is the same either way."""
    try:
        if check:
            check_request(request)
    except InvalidEmergencyInput as invalid:
        raise InputError(str(invalid)) from None
    nonce = str(uuid.uuid4())
    proof = _proof(session, hub.region, caller_proof.binding("start", request=request, nonce=nonce))
    return invoke(session, hub, {"action": "start", "request": request, "nonce": nonce, "proof": proof})


def answer(
    session: Any, hub: HubRef, execution: str, wave: str, *, approve: bool = True, reason: str = ""
) -> dict[str, Any]:
    """Approve (or reject) one wave of one execution, as the caller."""
    action = "approve" if approve else "reject"
    proof = _proof(session, hub.region, caller_proof.binding(action, execution=execution, wave=wave))
    payload = {"action": action, "execution": execution, "wave": wave, "reason": reason, "proof": proof}
    return invoke(session, hub, payload)
