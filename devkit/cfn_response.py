"""CloudFormation's pre-signed response URLs, answered on loopback inside the emulator.

A custom resource function answers CloudFormation with a PUT to ``https://cloudformation-custom-resource-
response-<region>.s3...amazonaws.com/...`` and, rightly, to no other host (``lambda_shared.custom_resource``).
Offline that host is unreachable, so the emulator does for urllib what moto does for botocore: it routes the
transport, not the code. :func:`route` registers a local HTTP server under a random token and returns the URL
CloudFormation would send; a process-wide urllib handler sends requests for such a URL (and that token) to the
server. Every other URL goes out unchanged (and fails offline), so a function that opened any other host would
be seen not to answer.
"""

from __future__ import annotations

import re
import threading
import urllib.request
import uuid
from typing import Any
from urllib.parse import urlsplit

_HOST = re.compile(
    r"cloudformation-custom-resource-response-[a-z0-9-]+\.s3(?:[.-][a-z0-9-]+)?\.amazonaws\.com(?:\.cn)?"
)
_routes: dict[str, int] = {}
_lock = threading.Lock()
_installed = False


class _RoutingHandler(urllib.request.HTTPSHandler):
    """HTTPS as usual, except CloudFormation's response host with a registered token: loopback HTTP."""

    def https_open(self, req: urllib.request.Request) -> Any:
        parts = urlsplit(req.full_url)
        token = parts.path.strip("/").split("/", 1)[0]
        port = _routes.get(token) if _HOST.fullmatch(parts.hostname or "") else None
        if port is None:
            return super().https_open(req)
        local = urllib.request.Request(
            f"http://127.0.0.1:{port}{parts.path}?{parts.query}",
            data=req.data,
            headers=dict(req.header_items()),
            method=req.get_method(),
        )
        local.timeout = getattr(req, "timeout", 10)  # type: ignore[attr-defined]
        return urllib.request.HTTPHandler().http_open(local)


def _install() -> None:
    global _installed
    with _lock:
        if not _installed:
            urllib.request.install_opener(urllib.request.build_opener(_RoutingHandler()))
            _installed = True


def route(port: int) -> str:
    """Register the loopback server on ``port``; the token its CloudFormation URLs carry."""
    _install()
    token = uuid.uuid4().hex
    with _lock:
        _routes[token] = port
    return token


def unroute(token: str) -> None:
    with _lock:
        _routes.pop(token, None)


def response_url(token: str, region: str, stack_id: str = "stack", request_id: str = "request") -> str:
    """The URL CloudFormation would send for ``region`` (the shape of its pre-signed S3 PUT URL)."""
    safe_stack = re.sub(r"[^A-Za-z0-9-]", "-", stack_id)[-80:]
    return (
        f"https://cloudformation-custom-resource-response-{region}.s3.{region}.amazonaws.com/"
        f"{token}/{safe_stack}/{request_id}?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature=emulated"
    )
