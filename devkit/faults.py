"""Faults injected into the program's runtime on the emulator: ``devkit demo --faults SPEC``.

The runtime is every call made through :meth:`devkit.emulator.Accounts.as_account` — the Lambda
handlers and the runbooks' steps, which build their clients from boto3's default session the way
they do in AWS. The demo's own reads (``Emulator.session``) and the AWS services' internals (moto's
Step Functions interpreter, the SSM agent) are never faulted: the faults are what AWS does to the
program, not to the world it runs in.

Each fault is an answer AWS really gives, injected by a botocore ``before-send`` hook registered
first on the runtime session, so the program's clients see it exactly as from AWS and go through
botocore's real retry logic (standard mode, ``AWS_MAX_ATTEMPTS=10``, as the program sets on every
function; backoff without sleeping):

``throttle=R``
    a share ``R`` (0 <= R < 1) of all runtime calls, drawn with ``seed``, answered with the
    protocol's throttling error (``RequestLimitExceeded``, ``Throttling``, ``ThrottlingException``,
    ``SlowDown``, ``TooManyRequestsException``): botocore retries it.
``deny=ACCOUNT``
    every runtime call in that account answered ``AccessDenied`` (EC2: ``UnauthorizedOperation``),
    as an SCP denying the program's roles would. ``ACCOUNT`` is a 12-digit id or ``child-N``, the
    N-th child account of the demo's organization (moto picks the ids).
``region-down=REGION``
    every runtime call in that region answered ``503 ServiceUnavailable`` (retried, then reported).
``lambda-timeout=N``
    the N-th tag-remediation invocation (1 = the first) is killed by the Lambda runtime right after
    its first write returns, like a function reaching its timeout mid-run; the Lambda service
    retries the asynchronous event (EventBridge invokes asynchronously; up to 2 retries,
    :func:`invoke_async`).
``automation-fail=N``
    the N-th child automation of a multi-account execution (the emergency waves) in an account-region
    no other fault touches ends ``Failed``.
``seed=S``
    the seed of the throttling draw (default 7): the same spec injects the same faults.

Example: ``throttle=0.3,deny=child-2,region-down=eu-west-1,lambda-timeout=1,automation-fail=1,seed=7``.
"""

from __future__ import annotations

import json
import random
import re
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from botocore.awsrequest import AWSResponse

#: Operations that only read (every other one changes something).
READ_PREFIXES = ("Describe", "List", "Get", "Head", "Search", "Select", "Lookup", "BatchGet", "Query", "Scan")
#: Attempts per call the program configures on every function (``AWS_MAX_ATTEMPTS``, ``components``'
#: Lambda environment); the runbooks' API steps retry throttling the same way.
MAX_ATTEMPTS = "10"
#: Retries of an asynchronous invocation whose function fails or times out (Lambda developer guide,
#: "Asynchronous invocation": "Lambda retries the function twice more").
ASYNC_RETRIES = 2
#: The runtime's message for a timed-out invocation (the function's configured timeout, 900 s at most).
TIMEOUT_MESSAGE = "Task timed out after {seconds:.2f} seconds"

_ACCOUNT = re.compile(r"\A(\d{12}|child-[1-9]\d?)\Z", re.ASCII)
_REGION = re.compile(r"\A[a-z]{2}(-[a-z]+)+-\d\Z", re.ASCII)
_KEYS = ("throttle", "deny", "region-down", "lambda-timeout", "automation-fail", "seed")


def is_write(operation: str) -> bool:
    """Whether an operation changes something (not ``Describe*``, ``List*``, ``Get*``…, not STS)."""
    return not operation.startswith(READ_PREFIXES) and operation not in ("AssumeRole", "GetCallerIdentity")


class FaultSpecError(ValueError):
    """A ``--faults`` value that cannot be used; the message is one line naming the part."""


@dataclass(frozen=True)
class FaultSpec:
    """What to inject (see the module's docstring for each key)."""

    throttle: float = 0.0
    deny: str | None = None
    region_down: str | None = None
    lambda_timeout: int = 0
    automation_fail: int = 0
    seed: int = 7

    def describe(self) -> str:
        parts = []
        if self.throttle:
            parts.append(f"{self.throttle:.0%} of runtime calls throttled")
        if self.deny:
            parts.append(f"AccessDenied in account {self.deny}")
        if self.region_down:
            parts.append(f"{self.region_down} fails every call")
        if self.lambda_timeout:
            parts.append(f"tag-remediation invocation #{self.lambda_timeout} times out")
        if self.automation_fail:
            parts.append(f"child automation #{self.automation_fail} fails")
        return "; ".join(parts) or "no faults"


def parse(text: str) -> FaultSpec:
    """``key=value`` pairs separated by commas; raises :class:`FaultSpecError` (one line) on anything else."""
    values: dict[str, str] = {}
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        key, sep, value = part.partition("=")
        key, value = key.strip(), value.strip()
        if not sep or not value:
            raise FaultSpecError(f"--faults: {part!r} is not key=value (keys: {', '.join(_KEYS)})")
        if key not in _KEYS:
            raise FaultSpecError(f"--faults: unknown key {key!r} (keys: {', '.join(_KEYS)})")
        if key in values:
            raise FaultSpecError(f"--faults: {key!r} is given twice")
        values[key] = value
    if not values:
        raise FaultSpecError(f"--faults: empty (e.g. throttle=0.3,deny=child-2; keys: {', '.join(_KEYS)})")
    throttle = _number(values, "throttle", float, "a share 0 <= R < 1, e.g. 0.3")
    if not 0 <= throttle < 1:
        raise FaultSpecError(f"--faults: throttle={values['throttle']!r} must be a share 0 <= R < 1 (e.g. 0.3)")
    deny = values.get("deny")
    if deny is not None and not _ACCOUNT.match(deny):
        raise FaultSpecError(f"--faults: deny={deny!r} is not a 12-digit account id or child-N")
    region = values.get("region-down")
    if region is not None and not _REGION.match(region):
        raise FaultSpecError(f"--faults: region-down={region!r} is not a region name (e.g. eu-west-1)")
    counts = {key: int(_number(values, key, int, "a count 0..99")) for key in ("lambda-timeout", "automation-fail")}
    for key, count in counts.items():
        if not 0 <= count <= 99:
            raise FaultSpecError(f"--faults: {key}={values[key]!r} must be 0..99")
    return FaultSpec(
        throttle=throttle,
        deny=deny,
        region_down=region,
        lambda_timeout=counts["lambda-timeout"],
        automation_fail=counts["automation-fail"],
        seed=int(_number(values, "seed", int, "an integer")),
    )


def _number(values: Mapping[str, str], key: str, kind: type[float] | type[int], what: str) -> float:
    raw = values.get(key)
    if raw is None:
        return 7 if key == "seed" else 0
    try:
        if not raw.isascii():
            raise ValueError(raw)
        return kind(raw)
    except ValueError:
        raise FaultSpecError(f"--faults: {key}={raw!r} is not {what}") from None


# ------------------------------------------------------------------------------------------------------------
# AWS's answers, in the wire format of each protocol
# ------------------------------------------------------------------------------------------------------------


class _Raw:
    """A response body botocore can stream or read."""

    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._body

    def read(self, *_: Any, **__: Any) -> bytes:
        return self._body


def protocol_of(request: Any) -> str:
    """``json``, ``ec2``, ``query``, ``rest-xml`` or ``rest-json``, from the request as sent."""
    headers = {k.lower(): v for k, v in request.headers.items()}
    if "x-amz-target" in headers:
        return "json"
    body = request.body if isinstance(request.body, bytes | str) else b""
    body = body.encode() if isinstance(body, str) else body
    host = request.url.split("://", 1)[-1].split("/", 1)[0]
    if body.startswith(b"Action=") or b"&Action=" in body:
        return "ec2" if host.startswith("ec2.") else "query"
    if host.startswith("s3.") or ".s3." in host or host.startswith("s3-"):
        return "rest-xml"
    return "rest-json"


#: The throttling code botocore's standard retry mode retries, per protocol (botocore/retries/standard.py).
THROTTLE = {
    "ec2": ("RequestLimitExceeded", 503),
    "query": ("Throttling", 400),
    "json": ("ThrottlingException", 400),
    "rest-xml": ("SlowDown", 503),
    "rest-json": ("TooManyRequestsException", 429),
}


def error_response(request: Any, code: str, status: int, message: str = "injected by devkit.faults") -> AWSResponse:
    """An AWS error answer to ``request`` in its protocol's wire format."""
    kind = protocol_of(request)
    if kind in ("json", "rest-json"):
        body = json.dumps({"__type": code, "message": message}).encode()
        headers = {"x-amzn-errortype": code, "content-type": "application/x-amz-json-1.1"}
        return AWSResponse(request.url, status, headers, _Raw(body))
    if kind == "ec2":
        xml = (
            f"<Response><Errors><Error><Code>{code}</Code><Message>{message}</Message></Error></Errors>"
            "<RequestID>injected</RequestID></Response>"
        )
    elif kind == "rest-xml":
        xml = f"<Error><Code>{code}</Code><Message>{message}</Message><RequestId>injected</RequestId></Error>"
    else:
        xml = (
            f"<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error>"
            "<RequestId>injected</RequestId></ErrorResponse>"
        )
    return AWSResponse(request.url, status, {}, _Raw(xml.encode()))


# ------------------------------------------------------------------------------------------------------------
# The injector
# ------------------------------------------------------------------------------------------------------------


class LambdaTimedOut(BaseException):
    """The Lambda runtime stopped the invocation (a ``BaseException``: the handler cannot catch it,
    just as it cannot catch the runtime killing it)."""


#: ids of requests a fault answered: moto's own ``before-send`` stubber must not execute them too.
#: botocore calls every ``before-send`` handler and keeps the first answer, so without this a
#: "throttled" CreateTags would still be applied by moto.
_ANSWERED: set[int] = set()


@dataclass
class Faults:
    """One run's injector: which faults fired, where (each counted as it is injected)."""

    spec: FaultSpec
    #: The account ``deny`` names, resolved against the organization (``child-N``).
    denied_account: str | None = None
    injected: Counter[str] = field(default_factory=Counter)
    #: Tag-remediation invocations so far, and the timeouts injected: (account, region, message).
    invocations: int = 0
    timeouts: list[tuple[str, str, str]] = field(default_factory=list)
    #: Child automations counted for ``automation-fail``, and the ones failed: (account, region, document).
    children: int = 0
    failed_children: list[tuple[str, str, str]] = field(default_factory=list)
    #: What each completed tag-remediation invocation reported: (account, region, its result).
    results: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)
    _rng: random.Random = field(init=False)
    _timing_out: bool = False

    def __post_init__(self) -> None:
        self._rng = random.Random(self.spec.seed)

    def location_fault(self, account: str, region: str) -> str | None:
        """The fault every call in ``account``/``region`` gets, if any."""
        if self.denied_account == account:
            return "deny"
        if self.spec.region_down == region:
            return "region-down"
        return None

    def attach(self, session: Any, account: str, region: str) -> None:
        """Register the hooks on one runtime session (``as_account``'s default session)."""
        fault = self.location_fault(account, region)

        def before_send(request: Any, **_: Any) -> AWSResponse | None:
            if fault == "deny":
                self.injected["AccessDenied"] += 1
                code = "UnauthorizedOperation" if protocol_of(request) == "ec2" else "AccessDenied"
                return self._answer(request, code, 403)
            if fault == "region-down":
                self.injected["ServiceUnavailable"] += 1
                return self._answer(request, "ServiceUnavailable", 503)
            if self.spec.throttle and self._rng.random() < self.spec.throttle:
                code, status = THROTTLE[protocol_of(request)]
                self.injected["throttled"] += 1
                return self._answer(request, code, status)
            return None

        def after_call(model: Any, **_: Any) -> None:
            if self._timing_out and is_write(model.name):
                self._timing_out = False
                raise LambdaTimedOut(TIMEOUT_MESSAGE.format(seconds=900))

        session.events.register_first("before-send", before_send)
        session.events.register("after-call", after_call)

    @staticmethod
    def _answer(request: Any, code: str, status: int) -> AWSResponse:
        _ANSWERED.add(id(request))
        return error_response(request, code, status)

    def child_fault(self, account: str, region: str, document: str) -> str | None:
        """A child automation's fate: in a denied account its execution role is refused, in a down region SSM
        cannot run it; otherwise ``automation-fail`` fails the N-th child in an account-region no other fault
        touches."""
        fault = self.location_fault(account, region)
        if fault == "deny":
            self.injected["AccessDenied"] += 1
            return f"AccessDenied: the execution role may not act in {account} (injected by devkit.faults)"
        if fault == "region-down":
            self.injected["ServiceUnavailable"] += 1
            return f"ServiceUnavailable: SSM Automation in {region} answers no call (injected by devkit.faults)"
        if not self.spec.automation_fail:
            return None
        self.children += 1
        if self.children != self.spec.automation_fail:
            return None
        self.failed_children.append((account, region, document))
        self.injected["automation failed"] += 1
        return "Step fails when it is Executing. Fail message: injected by devkit.faults (automation-fail)"

    def invoke_async(
        self, handler: Callable[[Any, Any], Any], event: Any, context: Any, account: str, region: str
    ) -> Any:
        """The Lambda service's asynchronous invocation: the ``lambda-timeout``-th invocation is killed
        after its first write; the service retries the event (up to :data:`ASYNC_RETRIES` times)."""
        self.invocations += 1
        self._timing_out = self.invocations == self.spec.lambda_timeout
        for attempt in range(ASYNC_RETRIES + 1):
            try:
                result = handler(event, context)
                if self._timing_out:  # it wrote nothing: the deadline came before it returned
                    self._timing_out = False
                    raise LambdaTimedOut(TIMEOUT_MESSAGE.format(seconds=900))
                self.results.append((account, region, result))
                return result
            except LambdaTimedOut as timeout:
                self.timeouts.append((account, region, str(timeout)))
                self.injected["Lambda timed out"] += 1
                if attempt == ASYNC_RETRIES:
                    raise
        raise AssertionError("unreachable")


@dataclass
class WriteCounter:
    """Counts the runtime's write calls and the resources they name (``before-parameter-build``: once per
    call, whatever the retries, with the caller's own parameters), so a convergence check reads what was
    sent to AWS, not the program's own summary."""

    calls: Counter[str] = field(default_factory=Counter)
    resources: set[str] = field(default_factory=set)

    def attach(self, session: Any, account: str, region: str) -> None:
        def before_call(model: Any, params: Mapping[str, Any], **_: Any) -> None:
            if not is_write(model.name):
                return
            self.calls[model.name] += 1
            self.resources.update(str(r) for r in params.get("Resources", []) if isinstance(r, str))
            for tag in params.get("Tags", []) if model.name != "CreateTags" else []:
                if isinstance(tag, Mapping) and "ResourceId" in tag:
                    self.resources.add(f"asg/{tag['ResourceId']}")

        session.events.register("before-parameter-build", before_call)

    @property
    def total(self) -> int:
        return sum(self.calls.values())


_ACTIVE: list[Faults] = []
_COUNTERS: list[WriteCounter] = []


def active() -> Faults | None:
    """The injector of the running fault scenario, if any."""
    return _ACTIVE[-1] if _ACTIVE else None


def on_runtime_session(session: Any, account: str, region: str) -> None:
    """Called by ``Accounts.as_account`` for every runtime session: attach the active faults and counters."""
    if _ACTIVE:
        _ACTIVE[-1].attach(session, account, region)
    for counter in _COUNTERS:
        counter.attach(session, account, region)


@contextmanager
def counting_writes() -> Iterator[WriteCounter]:
    """Count every runtime write made in the block."""
    counter = WriteCounter()
    _COUNTERS.append(counter)
    try:
        yield counter
    finally:
        _COUNTERS.remove(counter)


def invoke_async(handler: Callable[[Any, Any], Any], event: Any, context: Any, account: str, region: str) -> Any:
    """Invoke a handler as EventBridge does (asynchronously): with faults, through :meth:`Faults.invoke_async`."""
    faults = active()
    if faults is None:
        return handler(event, context)
    return faults.invoke_async(handler, event, context, account, region)


@contextmanager
def injecting(faults: Faults) -> Iterator[Faults]:
    """Inject ``faults`` into every runtime session created in the block; nothing outside it."""
    import os

    from botocore.retries import bucket, standard
    from moto.core.botocore_stubber import BotocoreStubber

    from devkit.moto_extensions.ssm.models.automation import inject_child_faults

    original_stubber = BotocoreStubber.__call__
    original_delay = standard.ExponentialBackoff.delay_amount
    original_acquire = bucket.TokenBucket.acquire

    def guarded(self: Any, event_name: str, request: Any, **kwargs: Any) -> Any:
        if id(request) in _ANSWERED:
            _ANSWERED.discard(id(request))
            return None
        return original_stubber(self, event_name, request, **kwargs)

    saved = {key: os.environ.get(key) for key in ("AWS_RETRY_MODE", "AWS_MAX_ATTEMPTS")}
    os.environ.update({"AWS_RETRY_MODE": "standard", "AWS_MAX_ATTEMPTS": MAX_ATTEMPTS})
    BotocoreStubber.__call__ = guarded  # type: ignore[method-assign]
    # The virtual clock: a retry waits for nothing (the emulator has no rate to respect).
    standard.ExponentialBackoff.delay_amount = lambda self, context: 0  # type: ignore[method-assign]
    bucket.TokenBucket.acquire = lambda self, retry=False: True  # type: ignore[method-assign]
    _ACTIVE.append(faults)
    try:
        with inject_child_faults(faults.child_fault):
            yield faults
    finally:
        _ACTIVE.remove(faults)
        BotocoreStubber.__call__ = original_stubber  # type: ignore[method-assign]
        standard.ExponentialBackoff.delay_amount = original_delay  # type: ignore[method-assign]
        bucket.TokenBucket.acquire = original_acquire  # type: ignore[method-assign]
        _ANSWERED.clear()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
