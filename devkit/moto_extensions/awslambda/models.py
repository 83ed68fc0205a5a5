"""Lambda Invoke runs the function's real handler, in-process, in the function's account.

moto runs Lambda code in Docker (absent here) or echoes the payload. This replaces
``LambdaFunction._invoke_lambda``: the function's deployment package (the zip it was created
with) is unpacked once, its ``Handler`` (``module.function``) is imported from it, and the
handler runs with the function's environment variables, a Lambda context (:class:`LambdaContext`;
tests and the demo build one with :func:`lambda_context`) and with its execution role's
credentials (which moto maps to the function's account), in its region — so a Step Functions
``lambda:invoke`` task, or any ``Invoke`` call, executes exactly the code the Pulumi program ships.

Errors follow the Lambda runtime's shape (``errorMessage``/``errorType``) and set the
invocation's FunctionError, as AWS does.

Asynchronous invocations (``InvocationType=Event``) answer 202 with an empty body at once, as AWS does, and run
after the invocation in progress returns (one at a time, in order: the emulator has no other thread), each with
Lambda's two retries and the function's dead-letter queue (``devkit.moto_extensions.events.models.invoke_function``).
The context's ``get_remaining_time_in_millis`` counts down from the function's timeout; tests may replace that
clock (:func:`use_clock`). Every in-process invocation is recorded (:func:`invocations`).
"""

from __future__ import annotations

import importlib.util
import io
import json
import os
import sys
import tempfile
import threading
import time
import uuid
import zipfile
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from unittest import mock

import botocore.endpoint
import botocore.loaders

_LOCK = threading.RLock()  # re-entrant: a handler may invoke another function
_UNPACKED: dict[str, Path] = {}


def _package_dir(function: Any) -> Path:
    """Unpack the function's zip once per code hash (a new version re-unpacks)."""
    key = f"{function.function_arn}:{function.code_sha_256}"
    with _LOCK:
        if key not in _UNPACKED:
            target = Path(tempfile.mkdtemp(prefix="org-patching-lambda-"))
            with zipfile.ZipFile(io.BytesIO(function.code_bytes)) as archive:
                archive.extractall(target)
            _UNPACKED[key] = target
        return _UNPACKED[key]


def _handler(function: Any) -> Any:
    module_name, _, attribute = function.handler.rpartition(".")
    directory = _package_dir(function)
    path = directory / (module_name.replace(".", "/") + ".py")
    if not path.exists():
        raise FileNotFoundError(f"Handler {function.handler!r}: {path.name} is not in the deployment package")
    unique = f"org_patching_lambda_pkg_{abs(hash(str(directory)))}_{module_name.replace('.', '_')}"
    spec = importlib.util.spec_from_file_location(unique, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    saved_path = list(sys.path)
    sys.path.insert(0, str(directory))  # the package's other modules import as top-level names, as in Lambda
    sys.modules[unique] = module  # dataclasses look their module up while classes are built
    try:
        spec.loader.exec_module(module)
    finally:
        sys.path[:] = saved_path
    return getattr(module, attribute)


@dataclass(frozen=True)
class LambdaContext:
    """The context object the Lambda runtime passes a handler (the attributes Powertools and handlers read)."""

    function_name: str
    invoked_function_arn: str
    memory_limit_in_mb: int = 128
    function_version: str = "$LATEST"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    log_group_name: str = ""
    log_stream_name: str = ""
    #: What is left of the invocation, in milliseconds (``None``: a fixed 300,000, for handlers called directly).
    remaining: Callable[[], int] | None = field(default=None, compare=False, repr=False)

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining() if self.remaining is not None else 300_000


Clock = Callable[[Any], Callable[[], int]]


def timeout_clock(function: Any) -> Callable[[], int]:
    """Lambda's own clock: the function's timeout (moto's default 3 s when unset), counted down in real time."""
    deadline = time.monotonic() + float(function.timeout or 3)
    return lambda: max(0, int((deadline - time.monotonic()) * 1000))


_CLOCK: list[Clock] = [timeout_clock]


@contextmanager
def use_clock(clock: Clock) -> Iterator[None]:
    """Give every invocation's context ``clock(function)`` instead of the timeout (e.g. time that runs out after
    some pages), for the duration of the block."""
    _CLOCK.append(clock)
    try:
        yield
    finally:
        _CLOCK.remove(clock)


@dataclass(frozen=True)
class Invocation:
    """One in-process run of a handler: the event it got and what it returned (or the runtime's error)."""

    function_arn: str
    event: Any
    result: Any
    errored: bool


def invocations(account: str, region: str) -> list[Invocation]:
    """Every invocation of the functions of ``account`` in ``region`` since moto's state was last reset."""
    from moto.awslambda.models import lambda_backends

    from devkit.moto_extensions.core import attached

    recorded: list[Invocation] = attached(lambda_backends[account][region], "invocations", list)
    return recorded


def lambda_context(function_name: str, account: str, region: str, memory_mb: int = 128) -> LambdaContext:
    """A context for function ``function_name`` of ``account`` in ``region``, as Lambda would pass it."""
    return LambdaContext(
        function_name=function_name,
        invoked_function_arn=f"arn:aws:lambda:{region}:{account}:function:{function_name}",
        memory_limit_in_mb=memory_mb,
        log_group_name=f"/aws/lambda/{function_name}",
    )


def _credentials(role_arn: str) -> dict[str, str]:
    """Credentials of the function's execution role (moto maps them to the role's account), so
    the IAM replay (``devkit.iam_replay``) judges each call by the role the program gave it."""
    import boto3

    sts = boto3.session.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1")
    creds = sts.client("sts").assume_role(RoleArn=role_arn, RoleSessionName="lambda")["Credentials"]
    return {
        "AWS_ACCESS_KEY_ID": creds["AccessKeyId"],
        "AWS_SECRET_ACCESS_KEY": creds["SecretAccessKey"],
        "AWS_SESSION_TOKEN": creds["SessionToken"],
    }


_ORIGINAL_INVOKE: Any = None
_LOADER = botocore.loaders.create_loader()
_PENDING: deque[tuple[str, str]] = deque()  # asynchronous invocations not run yet: (function ARN, payload)
_RUNNING = [0]  # handlers running now (a handler may invoke another function synchronously)
_DRAINING = [False]


def invoke(self: Any, body: str, request_headers: Any, response_headers: Any) -> str | bytes:
    """Replacement for ``moto.awslambda.models.LambdaFunction.invoke``: ``Event`` is queued (202, empty body)."""
    if request_headers.get("x-amz-invocation-type") == "Event":
        with _LOCK:
            _PENDING.append((self.function_arn, body or "{}"))
        if not _RUNNING[0]:
            _drain()
        return b""
    return _ORIGINAL_INVOKE(self, body, request_headers, response_headers)


def _drain() -> None:
    """Run the queued asynchronous invocations, oldest first, until none is left (those they queue included)."""
    from devkit.moto_extensions.events.models import invoke_function

    if _DRAINING[0]:
        return
    _DRAINING[0] = True
    try:
        while _PENDING:
            arn, body = _PENDING.popleft()
            invoke_function({"Arn": arn}, json.loads(body))
    finally:
        _DRAINING[0] = False


def invoke_in_process(self: Any, event: Any = None) -> tuple[str, bool, str]:
    """Replacement for ``moto.awslambda.models.LambdaFunction._invoke_lambda``."""
    _RUNNING[0] += 1
    try:
        output = _run_handler(self, event)
    finally:
        _RUNNING[0] -= 1
    if not _RUNNING[0]:
        _drain()
    return output


def _run_handler(self: Any, event: Any) -> tuple[str, bool, str]:
    import boto3

    payload = json.loads(event) if isinstance(event, str | bytes) and event else (event or {})
    environment = {
        **_credentials(self.role),
        "AWS_REGION": self.region,
        "AWS_DEFAULT_REGION": self.region,
        "AWS_LAMBDA_FUNCTION_NAME": self.function_name,
        **{k: str(v) for k, v in dict(self.environment_vars or {}).items()},
    }
    saved_session = boto3.DEFAULT_SESSION
    with _LOCK, mock.patch.dict(os.environ, environment):
        # A fresh default session, as in a new Lambda execution environment, reading the service models through
        # one shared loader (botocore's models do not change; loading EC2's again per invocation cost seconds).
        boto3.DEFAULT_SESSION = None
        boto3.setup_default_session()
        assert boto3.DEFAULT_SESSION is not None
        boto3.DEFAULT_SESSION._session.register_component("data_loader", _LOADER)
        try:
            context = LambdaContext(
                function_name=self.function_name,
                invoked_function_arn=self.function_arn,
                memory_limit_in_mb=int(self.memory_size or 128),
                log_group_name=f"/aws/lambda/{self.function_name}",
                remaining=_CLOCK[-1](self),
            )
            result = _handler(self)(payload, context)
            output = json.dumps(result, default=str), False, ""
        except Exception as error:  # the Lambda runtime reports it as a function error
            output = json.dumps({"errorMessage": str(error), "errorType": type(error).__name__}), True, ""
        finally:
            boto3.DEFAULT_SESSION = saved_session
    invocations(self.account_id, self.region).append(
        Invocation(self.function_arn, payload, json.loads(output[0]), output[1])
    )
    return output


_botocore_environ_proxies = botocore.endpoint.get_environ_proxies


def _environ_proxies_under_lock(url: str) -> Any:
    """botocore reads its proxy settings by iterating ``os.environ`` whenever it builds a client. A handler run in
    another thread (a state machine's Lambda task, in moto's execution thread) swaps ``os.environ`` under
    ``_LOCK`` meanwhile, and iterating a mapping that changes size raises ``KeyError`` in the reader. Reading it
    under the same lock serializes the two (the handler's own clients already hold it: the lock is re-entrant)."""
    with _LOCK:
        return _botocore_environ_proxies(url)


def install() -> None:
    from moto.awslambda.models import LambdaFunction

    global _ORIGINAL_INVOKE
    if LambdaFunction.invoke is not invoke:
        _ORIGINAL_INVOKE = LambdaFunction.invoke
    LambdaFunction._invoke_lambda = invoke_in_process  # type: ignore[method-assign]
    LambdaFunction.invoke = invoke  # type: ignore[method-assign]
    botocore.endpoint.get_environ_proxies = _environ_proxies_under_lock  # type: ignore[assignment]
