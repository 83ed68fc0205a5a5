"""Who is calling: a signed ``sts:GetCallerIdentity`` request, made by the caller, sent by the function.

Lambda does not tell a function who invoked it. The established answer (HashiCorp Vault's AWS
IAM auth method, aws-iam-authenticator for EKS) is that the caller signs an STS
``GetCallerIdentity`` request with its own credentials and hands the *unsent* request over; the
receiver sends it to STS and believes STS's answer, which only a valid signature can produce.
A header bound to the operation (:data:`BINDING_HEADER`, part of the signature) stops a proof
made for one approval from being used for another, and STS refuses a signature older than
15 minutes.

``patchctl emergency`` makes the proof (:func:`sign`); the approval function checks and sends it
(:func:`check`, then its own STS call). Only STS endpoints are ever contacted (no SSRF).
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

BINDING_HEADER = "X-Org-Patching-Binding"
#: What botocore sends for GetCallerIdentity (Query protocol); the proof must be exactly this call.
BODY = "Action=GetCallerIdentity&Version=2011-06-15"
CONTENT_TYPE = "application/x-www-form-urlencoded; charset=utf-8"
_STS_URL = re.compile(r"^https://sts\.([a-z]{2}(-[a-z]+)+-\d)\.amazonaws\.com(\.cn)?/\Z", re.ASCII)
_SIGNED_HEADERS = re.compile(r"SignedHeaders=([a-z0-9;-]+)")


class InvalidProof(Exception):  # the class name is the Lambda error type the CLI shows
    """The identity proof is missing, malformed, or made for another operation."""


def binding(operation: str, **fields: Any) -> str:
    """The value of :data:`BINDING_HEADER` for ``operation`` on ``fields`` (sha256 of canonical JSON)."""
    text = json.dumps({"operation": operation, **fields}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def sts_url(region: str) -> str:
    """The Regional STS endpoint the proof is signed for (and the only host the function calls)."""
    suffix = ".amazonaws.com.cn" if region.startswith("cn-") else ".amazonaws.com"
    return f"https://sts.{region}{suffix}/"


def sign(credentials: Any, region: str, bound_to: str) -> dict[str, Any]:
    """A SigV4-signed GetCallerIdentity request for ``region``, bound to ``bound_to`` (botocore credentials)."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest

    url = sts_url(region)
    request = AWSRequest(
        method="POST", url=url, data=BODY, headers={"Content-Type": CONTENT_TYPE, BINDING_HEADER: bound_to}
    )
    SigV4Auth(credentials, "sts", region).add_auth(request)
    return {"url": url, "headers": {key: str(value) for key, value in request.headers.items()}}


def check(proof: Any, bound_to: str) -> tuple[str, dict[str, str]]:
    """``(region, headers to send)`` of a well-formed proof bound to ``bound_to``; else :class:`InvalidProof`."""
    if (
        not isinstance(proof, dict)
        or not isinstance(proof.get("url"), str)
        or not isinstance(proof.get("headers"), dict)
    ):
        raise InvalidProof("identity proof: expected {url, headers} from 'patchctl emergency'")
    match = _STS_URL.match(proof["url"])
    if not match:
        raise InvalidProof(f"identity proof: {proof['url']!r} is not a Regional STS endpoint")
    headers = {str(k): str(v) for k, v in proof["headers"].items()}
    lower = {k.lower(): v for k, v in headers.items()}
    signed = _SIGNED_HEADERS.search(lower.get("authorization", ""))
    if not signed or BINDING_HEADER.lower() not in signed.group(1).split(";"):
        raise InvalidProof(f"identity proof: the signature does not cover {BINDING_HEADER}")
    if lower.get(BINDING_HEADER.lower()) != bound_to:
        raise InvalidProof("identity proof: made for another operation")
    keep = ("authorization", "x-amz-date", "x-amz-security-token", BINDING_HEADER.lower(), "content-type")
    return match.group(1), {k: v for k, v in headers.items() if k.lower() in keep}
