"""Record the calls made with an assumed role's credentials, judging each as it is made.

The hooks are botocore's own events, added to ``botocore.handlers.BUILTIN_HANDLERS`` the way moto
adds its stubber, so every session created afterwards carries them — including the default
session a Lambda handler builds for itself. They do nothing unless a :class:`Recorder` is active.

A call is judged *before* it runs (``before-call``), because AWS authorises a request on the
resource's tags as they are then. The parameters are the caller's own (kept from
``before-parameter-build``), not the serialised request.
"""

from __future__ import annotations

import copy
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from botocore.handlers import BUILTIN_HANDLERS

if TYPE_CHECKING:
    from devkit.iam_replay.evaluate import Denial, Verdict
    from devkit.iam_replay.resources import Unmapped

_PARAMS_KEY = "org_patching_iam_replay_params"
_ACTIVE: list[Recorder] = []


@dataclass(frozen=True)
class Call:
    """One AWS call made by a role: who, where, what."""

    role: str
    account: str
    region: str
    service: str
    operation: str


def _role_of(access_key: str) -> str | None:
    """The role ARN moto issued ``access_key`` for (``None`` for plain test credentials)."""
    from moto.iam.models import get_account_id_from
    from moto.sts.models import sts_backends

    account = get_account_id_from(access_key)
    assumed = sts_backends[account]["aws"].get_assumed_role_from_access_key(access_key)
    return assumed.role_arn if assumed else None


@dataclass
class Recorder:
    """Collects verdicts for calls made by the roles whose names match ``role_prefixes``.

    Roles outside the prefixes (the emulator's own ``OrganizationAccountAccessRole``, which plays
    the app teams and the test set-up) are counted but not judged. A matching role the emulator's
    IAM does not hold is a finding: the runtime ran as a role the program never deployed.
    """

    role_prefixes: tuple[str, ...] = ("org-patching-",)
    calls: list[Call] = field(default_factory=list)
    verdicts: list[Verdict] = field(default_factory=list)
    missing_roles: Counter[str] = field(default_factory=Counter)
    unjudged: Counter[str] = field(default_factory=Counter)
    #: The replay's own failures (a bug here must not break the code it watches): reported as problems.
    errors: list[str] = field(default_factory=list)

    def observe(self, access_key: str, region: str, service: str, operation: str, params: dict[str, Any]) -> None:
        role = _role_of(access_key)
        if role is None or ":role/" not in role:
            return
        self.observe_role(role, region, service, operation, params)

    def observe_role(self, role: str, region: str, service: str, operation: str, params: dict[str, Any]) -> None:
        """Judge one call ``role`` (an ARN) makes, whether or not it went through a botocore client."""
        name = role.rsplit("/", 1)[-1]
        account = role.split(":")[4]
        if not name.startswith(self.role_prefixes):
            self.unjudged[name] += 1
            return
        from devkit.iam_replay.evaluate import RoleNotDeployed, judge

        self.calls.append(Call(role, account, region, service, operation))
        try:
            self.verdicts.append(judge(role, account, region, service, operation, params))
        except RoleNotDeployed:
            self.missing_roles[role] += 1
        except Exception as error:  # reported by problems(), never raised into the watched call
            self.errors.append(f"{service}:{operation} by {role}: the replay failed: {type(error).__name__}: {error}")

    @property
    def denials(self) -> list[Denial]:
        return [d for v in self.verdicts for d in v.denials]

    @property
    def unmapped(self) -> list[Unmapped]:
        return [u for v in self.verdicts for u in v.unmapped]

    def problems(self) -> list[str]:
        """One line per distinct finding: denied calls, unmapped calls, roles never deployed."""
        lines = sorted({str(d) for d in self.denials})
        lines += sorted({f"unmapped: {u}" for u in self.unmapped})
        lines += [
            f"{role} made {n} call(s) but the emulator's IAM has no such role" for role, n in self.missing_roles.items()
        ]
        return lines

    def summary(self) -> str:
        actions = Counter(f"{c.service}:{c.operation}" for c in self.calls)
        return (
            f"IAM replay: {len(self.calls)} calls by {len({c.role for c in self.calls})} roles "
            f"({len(actions)} distinct operations), {len(self.denials)} denied, {len(self.unmapped)} unmapped"
        )


@contextmanager
def recording(recorder: Recorder | None = None) -> Iterator[Recorder]:
    """Judge every call made inside the block by a role the recorder cares about."""
    active = recorder or Recorder()
    _ACTIVE.append(active)
    try:
        yield active
    finally:
        _ACTIVE.remove(active)


def note_call(role: str, region: str, service: str, operation: str, params: dict[str, Any]) -> None:
    """A call a service makes as ``role`` (an ARN) that the emulator carries out without a botocore client: SSM's
    StartAutomationExecution as a maintenance window's service role, an ``aws:runCommand`` step's SendCommand as
    the automation's role. Every active recorder judges it like a recorded one."""
    if ":role/" not in role:
        return
    for recorder in _ACTIVE:
        recorder.observe_role(role, region, service, operation, copy.deepcopy(params))


def _keep_params(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
    if _ACTIVE:
        context[_PARAMS_KEY] = copy.deepcopy(params)


def _observe(model: Any, request_signer: Any, context: dict[str, Any], **_: Any) -> None:
    if not _ACTIVE or _PARAMS_KEY not in context:
        return
    credentials = request_signer._credentials
    if credentials is None:
        return
    access_key = credentials.get_frozen_credentials().access_key
    service = model.service_model.signing_name
    for recorder in _ACTIVE:
        recorder.observe(access_key, request_signer.region_name, service, model.name, context[_PARAMS_KEY])


def install() -> None:
    """Add the hooks to every botocore session created from now on (idempotent)."""
    for entry in (("before-parameter-build", _keep_params), ("before-call", _observe)):
        if entry not in BUILTIN_HANDLERS:
            BUILTIN_HANDLERS.append(entry)


install()
