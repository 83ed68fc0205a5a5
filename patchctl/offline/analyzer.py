"""Run a CrossGuard pack against a rendered stack the way the engine does, with no engine.

The engine starts the pack (``python -m pulumi.policy <addr> <pack dir>``), then calls its
gRPC Analyzer: ``GetAnalyzerInfo`` → ``Configure`` (the config it reconciled from the
pack's schema defaults, ``initial_config`` and ``--policy-pack-config``) → ``ConfigureStack``
→ per resource ``Remediate`` then ``Analyze`` (checked inputs) → one ``AnalyzeStack`` (all
resources with outputs). Two back-ends speak that protocol:

* ``InProcessAnalyzer``: the pack's real ``__main__.py`` is executed with ``PolicyPack``
  swapped for a recorder, then the SDK's own servicer object is called directly with the
  same protobuf requests. Same code path for levels, config, unknowns and remediation, no
  subprocess. It uses the SDK's private ``_PolicyAnalyzerServicer``: ``pulumi-policy`` is
  pinned, and ``GrpcAnalyzer`` keeps it honest in a test.
* ``GrpcAnalyzer``: starts the pack exactly as the engine does and talks gRPC to it.
"""

from __future__ import annotations

import os
import runpy
import subprocess
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import pulumi_policy
import pulumi_policy.policy as policy_module
from google.protobuf import empty_pb2, json_format, struct_pb2
from pulumi.runtime import proto
from pulumi.runtime.proto import analyzer_pb2_grpc
from pulumi_policy import EnforcementLevel

from .monitor import Recorded
from .render import program_imports

LEVEL_NAME: dict[int, str] = {
    proto.ADVISORY: "advisory",
    proto.MANDATORY: "mandatory",
    proto.DISABLED: "disabled",
    proto.REMEDIATE: "remediate",
}
LEVEL_VALUE: dict[str, int] = {name: value for value, name in LEVEL_NAME.items()}

#: Where the project's own pack lives.
DEFAULT_PACK_DIR = Path(__file__).resolve().parents[2] / "policies"


class PolicyConfigError(Exception):
    """The policy pack configuration is invalid (one line: which policy and why)."""


@dataclass
class PackSpec:
    """What the pack's ``__main__.py`` passed to ``PolicyPack(...)``."""

    name: str
    policies: list[Any]
    enforcement_level: EnforcementLevel
    initial_config: dict[str, Any] | None
    extra: dict[str, Any]
    directory: Path


def load_pack(directory: str | Path = DEFAULT_PACK_DIR) -> PackSpec:
    """Execute the pack's ``__main__.py`` without letting ``PolicyPack`` start its server.

    ``PolicyPack()`` validates its arguments, serves gRPC and never returns, so it is
    replaced for the duration of the run by a recorder of its arguments.
    """
    pack_dir = Path(directory).resolve()
    seen: dict[str, Any] = {}

    class _Recorder:
        def __init__(
            self,
            name: str,
            policies: list[Any],
            enforcement_level: EnforcementLevel | None = None,
            initial_config: dict[str, Any] | None = None,
            **extra: Any,
        ) -> None:
            seen.update(name=name, policies=policies, level=enforcement_level, initial=initial_config, extra=extra)

    saved = pulumi_policy.PolicyPack, policy_module.PolicyPack
    pulumi_policy.PolicyPack = policy_module.PolicyPack = _Recorder  # type: ignore[misc,assignment]
    try:
        # The pack's own modules stay loaded: its policies keep calling them after this returns.
        with program_imports(pack_dir, keep_modules=True):
            runpy.run_path(str(pack_dir), run_name="__main__")
    finally:
        pulumi_policy.PolicyPack, policy_module.PolicyPack = saved  # type: ignore[misc]
    if not seen:
        raise RuntimeError(f"{pack_dir}/__main__.py did not call PolicyPack(...)")
    return PackSpec(
        name=seen["name"],
        policies=list(seen["policies"]),
        enforcement_level=seen["level"] or EnforcementLevel.ADVISORY,
        initial_config=seen["initial"],
        extra=seen["extra"],
        directory=pack_dir,
    )


class Analyzer(Protocol):
    def GetAnalyzerInfo(self) -> Any: ...
    def Configure(self, request: Any) -> Any: ...
    def ConfigureStack(self, request: Any) -> Any: ...
    def Remediate(self, request: Any) -> Any: ...
    def Analyze(self, request: Any) -> Any: ...
    def AnalyzeStack(self, request: Any) -> Any: ...
    def close(self) -> None: ...


class InProcessAnalyzer:
    """The pack's own analyzer servicer, called without gRPC."""

    def __init__(self, pack: PackSpec, version: str = "0.1.0") -> None:
        from pulumi_policy.policy import _PolicyAnalyzerServicer

        self.pack = pack
        extra = [pack.extra.get(k) for k in ("description", "display_name", "readme", "provider", "tags", "repository")]
        self._servicer = _PolicyAnalyzerServicer(
            pack.name, version, pack.policies, pack.enforcement_level, pack.initial_config, *extra
        )

    def GetAnalyzerInfo(self) -> Any:
        return self._servicer.GetAnalyzerInfo(empty_pb2.Empty(), None)

    def Configure(self, request: Any) -> Any:
        return self._servicer.Configure(request, None)

    def ConfigureStack(self, request: Any) -> Any:
        return self._servicer.ConfigureStack(request, None)

    def Remediate(self, request: Any) -> Any:
        return self._servicer.Remediate(request, None)

    def Analyze(self, request: Any) -> Any:
        return self._servicer.Analyze(request, None)

    def AnalyzeStack(self, request: Any) -> Any:
        return self._servicer.AnalyzeStack(request, None)

    def close(self) -> None:
        return None


class GrpcAnalyzer:
    """Start the pack as the engine does (``python -u -m pulumi.policy``) and talk gRPC."""

    def __init__(self, pack_dir: str | Path = DEFAULT_PACK_DIR, timeout: float = 60.0) -> None:
        import grpc

        directory = Path(pack_dir).resolve()
        env = {k: v for k, v in os.environ.items() if not k.startswith("PULUMI_")}
        self._process = subprocess.Popen(
            [sys.executable, "-u", "-m", "pulumi.policy", "127.0.0.1:0", str(directory)],
            cwd=directory,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
        )
        assert self._process.stdout is not None
        port = self._process.stdout.readline().decode().strip()
        if not port.isdigit():
            self._process.kill()
            _, stderr = self._process.communicate()
            raise RuntimeError(f"policy pack did not start: {port!r} {stderr.decode()[-500:]}")
        limit = 400 * 1024 * 1024
        self._channel = grpc.insecure_channel(
            f"127.0.0.1:{port}",
            options=[("grpc.max_receive_message_length", limit), ("grpc.max_send_message_length", limit)],
        )
        grpc.channel_ready_future(self._channel).result(timeout=timeout)
        self._stub = analyzer_pb2_grpc.AnalyzerStub(self._channel)

    def GetAnalyzerInfo(self) -> Any:
        return self._stub.GetAnalyzerInfo(empty_pb2.Empty())

    def Configure(self, request: Any) -> Any:
        return self._stub.Configure(request)

    def ConfigureStack(self, request: Any) -> Any:
        return self._stub.ConfigureStack(request)

    def Remediate(self, request: Any) -> Any:
        return self._stub.Remediate(request)

    def Analyze(self, request: Any) -> Any:
        return self._stub.Analyze(request)

    def AnalyzeStack(self, request: Any) -> Any:
        return self._stub.AnalyzeStack(request)

    def close(self) -> None:
        self._channel.close()
        self._process.terminate()
        try:
            self._process.communicate(timeout=10)
        except subprocess.TimeoutExpired:  # pragma: no cover
            self._process.kill()
            self._process.communicate()


# --------------------------------------------------------------------------- requests


def _options(record: Recorded) -> Any:
    options = proto.AnalyzerResourceOptions(
        protect=record.protect,
        ignoreChanges=record.ignore_changes,
        additionalSecretOutputs=record.additional_secret_outputs,
        aliases=record.aliases,
        parent=record.parent,
    )
    if record.delete_before_replace is not None:
        options.deleteBeforeReplace = record.delete_before_replace
        options.deleteBeforeReplaceDefined = True
    if record.custom_timeouts:
        options.customTimeouts.create = float(record.custom_timeouts["create"] or 0)
        options.customTimeouts.update = float(record.custom_timeouts["update"] or 0)
        options.customTimeouts.delete = float(record.custom_timeouts["delete"] or 0)
    return options


def _provider(record: Recorded, by_urn: Mapping[str, Recorded]) -> Any | None:
    provider = by_urn.get(record.provider_urn)
    if provider is None:
        return None
    # The engine sends the provider's inputs.
    return proto.AnalyzerProviderResource(
        type=provider.type, properties=provider.inputs_struct, urn=provider.urn, name=provider.name
    )


def _resource_request(
    kind: Any, record: Recorded, properties: struct_pb2.Struct, by_urn: Mapping[str, Recorded]
) -> Any:
    request = kind(type=record.type, properties=properties, urn=record.urn, name=record.name, options=_options(record))
    provider = _provider(record, by_urn)
    if provider is not None:
        request.provider.CopyFrom(provider)
    return request


def stack_request(resources: Iterable[Recorded], by_urn: Mapping[str, Recorded]) -> Any:
    request = proto.AnalyzeStackRequest()
    for record in resources:
        item = request.resources.add(
            type=record.type,
            properties=record.outputs_struct,
            urn=record.urn,
            name=record.name,
            options=_options(record),
            parent=record.parent,
            dependencies=record.dependencies,
        )
        provider = _provider(record, by_urn)
        if provider is not None:
            item.provider.CopyFrom(provider)
        for key, urns in record.property_dependencies.items():
            item.propertyDependencies[key].urns.extend(urns)
    return request


# --------------------------------------------------------------------------- config


def _normalize(user_config: Mapping[str, Any] | None) -> dict[str, tuple[str | None, dict[str, Any] | None]]:
    """``--policy-pack-config`` JSON: ``{"all": "mandatory", "p": {"enforcementLevel": ..., "x": 1}}``."""
    normalized: dict[str, tuple[str | None, dict[str, Any] | None]] = {}
    for name, value in (user_config or {}).items():
        if isinstance(value, str):
            if value not in LEVEL_VALUE:
                raise PolicyConfigError(f"policy config {name!r}: {value!r} is not an enforcement level")
            normalized[name] = (value, None)
        elif isinstance(value, Mapping):
            properties = dict(value)
            level = properties.pop("enforcementLevel", None)
            if level is not None and level not in LEVEL_VALUE:
                raise PolicyConfigError(
                    f"policy config {name!r}: enforcementLevel {level!r} is not an enforcement level"
                )
            normalized[name] = (level, properties or None)
        else:
            raise PolicyConfigError(f"policy config {name!r}: must be a level or an object")
    return normalized


def reconcile_config(
    info: Any, user_config: Mapping[str, Any] | None = None
) -> dict[str, tuple[str, dict[str, Any] | None]]:
    """The engine's ReconcilePolicyPackConfig: schema defaults, then the pack's
    ``initial_config``, then the user's config (``all`` first, then per policy), validated
    against each policy's JSON schema."""
    import jsonschema

    result: dict[str, tuple[str, dict[str, Any] | None]] = {}
    schemas: dict[str, dict[str, Any]] = {}
    for policy in info.policies:
        properties = json_format.MessageToDict(policy.configSchema.properties)
        schemas[policy.name] = {
            "type": "object",
            "properties": properties,
            "required": list(policy.configSchema.required),
        }
        defaults = {k: v["default"] for k, v in properties.items() if isinstance(v, dict) and "default" in v}
        result[policy.name] = (LEVEL_NAME[policy.enforcementLevel], defaults or None)

    def apply(config: Mapping[str, tuple[str | None, dict[str, Any] | None]]) -> None:
        all_level = config.get("all", (None, None))[0]
        if all_level:
            for name, (_, props) in result.items():
                result[name] = (all_level, props)
        for name, (level, props) in config.items():
            if name == "all":
                continue
            if name not in result:
                raise PolicyConfigError(f"policy config {name!r}: the pack has no such policy")
            current_level, current_props = result[name]
            result[name] = (level or current_level, {**(current_props or {}), **props} if props else current_props)

    initial = {
        name: (LEVEL_NAME[value.enforcementLevel], json_format.MessageToDict(value.properties) or None)
        for name, value in info.initialConfig.items()
    }
    apply(initial)
    apply(_normalize(user_config))
    for name, (_, props) in result.items():
        try:
            jsonschema.validate(props or {}, schemas[name])
        except jsonschema.ValidationError as error:
            path = ".".join(str(p) for p in error.absolute_path)
            raise PolicyConfigError(f"policy config {name}{'.' + path if path else ''}: {error.message}") from None
    return result


def configure_request(config: Mapping[str, tuple[str, dict[str, Any] | None]]) -> Any:
    request = proto.ConfigureAnalyzerRequest()
    for name, (level, props) in config.items():
        policy_config = request.policyConfig[name]
        policy_config.enforcementLevel = LEVEL_VALUE[level]
        if props:
            policy_config.properties.update(props)
    return request


# --------------------------------------------------------------------------- evaluation


@dataclass(frozen=True)
class Violation:
    policy: str
    level: str
    urn: str
    message: str
    stage: str  # "resource" (Analyze) or "stack" (AnalyzeStack)

    def as_json(self) -> dict[str, str]:
        return {"policy": self.policy, "level": self.level, "urn": self.urn, "message": self.message}


@dataclass(frozen=True)
class Remediation:
    policy: str
    urn: str
    properties: dict[str, Any]
    diagnostic: str


@dataclass
class PolicyResult:
    violations: list[Violation] = field(default_factory=list)
    remediations: list[Remediation] = field(default_factory=list)
    not_applicable: list[tuple[str, str]] = field(default_factory=list)

    @property
    def mandatory(self) -> list[Violation]:
        return [v for v in self.violations if v.level in ("mandatory", "remediate")]


def evaluate(
    resources: list[Recorded],
    analyzer: Analyzer,
    *,
    project: str,
    stack: str,
    user_config: Mapping[str, Any] | None = None,
    stack_tags: Mapping[str, str] | None = None,
    preview: bool = True,
    organization: str = "organization",
) -> PolicyResult:
    """The engine's call sequence for one deployment, over the recorded resources."""
    info = analyzer.GetAnalyzerInfo()
    analyzer.Configure(configure_request(reconcile_config(info, user_config)))
    analyzer.ConfigureStack(
        proto.AnalyzerStackConfigureRequest(
            stack=stack, project=project, organization=organization, dry_run=preview, tags=dict(stack_tags or {})
        )
    )
    by_urn = {r.urn: r for r in resources}
    result = PolicyResult()
    for record in resources:
        properties = record.inputs_struct
        remediated = analyzer.Remediate(_resource_request(proto.AnalyzeRequest, record, properties, by_urn))
        for item in remediated.remediations:
            if item.HasField("properties"):
                properties = item.properties
                result.remediations.append(
                    Remediation(
                        item.policyName, record.urn, json_format.MessageToDict(item.properties), item.diagnostic
                    )
                )
        response = analyzer.Analyze(_resource_request(proto.AnalyzeRequest, record, properties, by_urn))
        result.violations += [
            Violation(d.policyName, LEVEL_NAME[d.enforcementLevel], record.urn, d.message, "resource")
            for d in response.diagnostics
        ]
        result.not_applicable += [(n.policy_name, n.reason) for n in response.not_applicable]
    response = analyzer.AnalyzeStack(stack_request(resources, by_urn))
    result.violations += [
        Violation(d.policyName, LEVEL_NAME[d.enforcementLevel], d.urn, d.message, "stack") for d in response.diagnostics
    ]
    result.not_applicable += [(n.policy_name, n.reason) for n in response.not_applicable]
    return result
