"""Deploy a stack of the program into the emulator the way ``pulumi up`` does.

The program runs under the Pulumi SDK's mock monitor; the Pulumi runtime orders registrations
by their dependencies and resolves each resource's outputs into its dependents' inputs, exactly
as in a real deployment. Only the provider is replaced: :class:`ApplyingMocks` creates each AWS
resource in moto through the registry's mapping, in the account of its provider's assumed role
and in its region, and answers with the id and output state pulumi-aws would report.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from pulumi.runtime.mocks import MockResourceArgs

from components.config import CentralConfig, ChildConfig
from components.partitions import partition_of
from devkit.emulator import Emulator
from patchctl.offline.mocks import AwsMocks
from patchctl.offline.monitor import RecordingMonitor
from patchctl.offline.render import Capture, render

from . import mappings, moto_gaps
from .errors import ApplyError, ResourceCreateFailed, UnsupportedResource
from .registry import REGISTRY, Target

PROJECT = "org-patching"
_ = mappings  # importing the package registers every mapping


@dataclass(frozen=True)
class AppliedResource:
    """One AWS resource as deployed: where, its physical id and the provider's output state."""

    urn: str
    type: str
    name: str
    account: str
    region: str
    id: str
    outputs: dict[str, Any]

    @property
    def location(self) -> str:
        mapping = REGISTRY.get(self.type)
        return f"{self.account}/global" if mapping and mapping.is_global else f"{self.account}/{self.region}"


@dataclass
class Applied:
    """The result of an apply: every AWS resource by URN, and the stack's outputs."""

    stack: str
    resources: dict[str, AppliedResource] = field(default_factory=dict)
    outputs: dict[str, Any] = field(default_factory=dict)
    capture: Capture | None = None

    def of_type(self, type_token: str) -> list[AppliedResource]:
        return [r for r in self.resources.values() if r.type == type_token]


class _UrnMonitor(RecordingMonitor):
    """Tells the mocks the URN of the registration in progress (``new_resource`` gets none)."""

    def __init__(self, mocks: ApplyingMocks) -> None:
        super().__init__(mocks)
        self._applying = mocks

    def RegisterResource(self, request: Any) -> Any:
        self._applying.current.urn = self.make_urn(request.parent, request.type, request.name)
        return super().RegisterResource(request)


class ApplyingMocks(AwsMocks):
    """``AwsMocks`` whose ``new_resource`` creates the resource in the emulator."""

    def __init__(self, emu: Emulator, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        moto_gaps.install()
        self.emu = emu
        self.applied: dict[str, AppliedResource] = {}
        self.errors: list[ApplyError] = []
        self.current = threading.local()
        # moto's backends are not built for concurrent writers; the engine registers from a
        # thread pool, so calls into the emulator are serialized (dependency order is unaffected).
        self._emulator_lock = threading.RLock()

    def new_resource(self, args: MockResourceArgs) -> tuple[str, dict[str, Any]]:
        base_id, outputs = super().new_resource(args)
        if not args.custom or args.typ.startswith("pulumi:"):
            return base_id, outputs  # components, providers, stack references: no AWS calls
        urn = str(getattr(self.current, "urn", "") or args.name)
        if self.errors:
            # pulumi up stops creating once a resource failed; keep the first failure the one reported.
            raise RuntimeError(f"not applied after an earlier failure: {urn}")
        mapping = REGISTRY.get(args.typ)
        account = self.account_of(args.provider)
        region = self.region_of(args.provider, args.inputs)
        try:
            if mapping is None:
                raise UnsupportedResource(args.typ, urn)
            with self._emulator_lock:
                target = Target(
                    urn=urn,
                    type=args.typ,
                    name=args.name,
                    account=account,
                    region=region,
                    session=self.emu.session(account, region),
                    inputs=dict(args.inputs),
                    outputs=outputs,
                )
                created = mapping.create(target)
        except ApplyError as error:
            self.errors.append(error)
            raise
        except (ClientError, BotoCoreError, KeyError, TypeError, ValueError, RuntimeError) as error:
            failure = ResourceCreateFailed(args.typ, urn, account, region, error)
            self.errors.append(failure)
            raise failure from error
        outputs.update(created.outputs)
        outputs["id"] = created.id
        self.applied[urn] = AppliedResource(urn, args.typ, args.name, account, region, created.id, dict(outputs))
        return created.id, outputs


def run_program(build: Any, mocks: ApplyingMocks, stack: str, config: dict[str, str] | None = None) -> Capture:
    """Run ``build()`` under ``mocks`` with ``patchctl.offline.render.render`` and the URN-aware
    monitor; raise the first apply failure, not the engine's echo of it."""
    try:
        capture = render(build, mocks=mocks, project=PROJECT, stack=stack, config=config, monitor=_UrnMonitor(mocks))
    except Exception:
        if mocks.errors:
            raise mocks.errors[0] from None
        raise
    if mocks.errors:
        raise mocks.errors[0]
    return capture


def _apply(emu: Emulator, cfg: CentralConfig | ChildConfig, stack_outputs: dict[str, Any]) -> Applied:
    from components.stacks import build

    mocks = ApplyingMocks(
        emu,
        default_account=cfg.central_account_id,
        default_region=cfg.home_region,
        org_id=cfg.org_id,
        stack_outputs=stack_outputs,
        strict=True,
    )
    capture = run_program(lambda: build(cfg), mocks, cfg.stack)
    return Applied(cfg.stack, dict(mocks.applied), capture.outputs, capture)


def apply_central(emu: Emulator, cfg: CentralConfig) -> Applied:
    """Deploy the central stack (the hub) into the emulator."""
    return _apply(emu, cfg, {})


def apply_child(emu: Emulator, cfg: ChildConfig, hub_outputs: dict[str, Any]) -> Applied:
    """Deploy the child stack; its StackReference to the hub reads ``hub_outputs`` (the
    central apply's real outputs). The configured accounts get the child-role boundary first where the
    hub's StackSet did not reach them (:mod:`.bootstrap`)."""
    from .bootstrap import ensure_child_role_boundary

    ensure_child_role_boundary(emu, [account.id for account in cfg.accounts or []], partition_of(cfg.home_region))
    return _apply(emu, cfg, {cfg.hub_stack: hub_outputs})
