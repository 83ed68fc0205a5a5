"""A resource monitor for Pulumi's mocks that records what the engine would know.

``pulumi.runtime.Mocks.new_resource`` sees only type, name, inputs and provider: no parent,
dependencies or options. The engine sees the full ``RegisterResourceRequest``; policies and
our tests need the same, so this monitor subclasses the SDK's ``MockMonitor`` and records the
raw requests, with URNs in the engine's format.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

import pulumi
from google.protobuf import struct_pb2
from pulumi.runtime.mocks import MockMonitor
from pulumi.runtime.settings import get_project, get_stack

STACK_TYPE = "pulumi:pulumi:Stack"


@dataclass
class Recorded:
    """One registered resource, as the engine would see it."""

    urn: str
    type: str
    name: str
    custom: bool
    parent: str
    provider_ref: str
    providers: dict[str, str]
    dependencies: list[str]
    property_dependencies: dict[str, list[str]]
    protect: bool
    ignore_changes: list[str]
    delete_before_replace: bool | None
    additional_secret_outputs: list[str]
    aliases: list[str]
    custom_timeouts: dict[str, str] | None
    inputs: dict[str, Any]
    inputs_struct: struct_pb2.Struct
    id: str = ""
    outputs: dict[str, Any] = field(default_factory=dict)
    outputs_struct: struct_pb2.Struct = field(default_factory=struct_pb2.Struct)

    @property
    def provider_urn(self) -> str:
        """URN of the explicit provider (``""`` when the resource would use a default one)."""
        return self.provider_ref.rsplit("::", 1)[0] if self.provider_ref else ""

    @property
    def is_provider(self) -> bool:
        return self.type.startswith("pulumi:providers:")


@dataclass(frozen=True)
class RecordedInvoke:
    token: str
    args: dict[str, Any]
    provider_ref: str


def _copy(struct: struct_pb2.Struct | None) -> struct_pb2.Struct:
    out = struct_pb2.Struct()
    if struct is not None:
        out.CopyFrom(struct)
    return out


class RecordingMonitor(MockMonitor):
    """``MockMonitor`` that keeps every registration and invoke, thread-safely."""

    def __init__(self, mocks: pulumi.runtime.Mocks) -> None:
        super().__init__(mocks)
        self.records: list[Recorded] = []
        self.by_urn: dict[str, Recorded] = {}
        self.invokes: list[RecordedInvoke] = []
        self._lock = threading.Lock()

    def make_urn(self, parent: str, type_: str, name: str) -> str:
        """The engine's URN: the root stack is not part of the type chain; a nested resource
        carries its parent's full qualified type (the stock mock keeps only the last one)."""
        prefix = ""
        if parent:
            qualified = parent.split("::")[2]
            if qualified != STACK_TYPE:
                prefix = qualified + "$"
        return "urn:pulumi:" + "::".join([get_stack(), get_project(), prefix + type_, name])

    def RegisterResource(self, request: Any) -> Any:
        response = super().RegisterResource(request)
        timeouts = request.customTimeouts
        record = Recorded(
            urn=response.urn,
            type=request.type,
            name=request.name,
            custom=bool(request.custom),
            parent=request.parent,
            provider_ref=request.provider,
            providers=dict(request.providers),
            dependencies=list(request.dependencies),
            property_dependencies={k: list(v.urns) for k, v in request.propertyDependencies.items()},
            protect=bool(request.protect),
            ignore_changes=list(request.ignoreChanges),
            delete_before_replace=request.deleteBeforeReplace if request.deleteBeforeReplaceDefined else None,
            additional_secret_outputs=list(request.additionalSecretOutputs),
            aliases=[a.urn for a in request.aliases if a.urn] + list(request.aliasURNs),
            custom_timeouts=(
                {"create": timeouts.create, "update": timeouts.update, "delete": timeouts.delete}
                if request.HasField("customTimeouts")
                else None
            ),
            inputs=pulumi.runtime.rpc.deserialize_properties(request.object),
            inputs_struct=_copy(request.object),
            id=response.id,
            outputs=pulumi.runtime.rpc.deserialize_properties(response.object) if response.object else {},
            outputs_struct=_copy(response.object),
        )
        with self._lock:
            self.records.append(record)
            self.by_urn[record.urn] = record
        return response

    def RegisterResourceOutputs(self, request: Any) -> Any:
        # A component's register_outputs: the engine stores them as its outputs (AnalyzeStack sees them).
        with self._lock:
            record = self.by_urn.get(request.urn)
            if record is not None:
                record.outputs_struct = _copy(request.outputs)
                record.outputs = pulumi.runtime.rpc.deserialize_properties(request.outputs)
        return super().RegisterResourceOutputs(request)

    def Invoke(self, request: Any) -> Any:
        args = pulumi.runtime.rpc.deserialize_properties(request.args)
        with self._lock:
            self.invokes.append(RecordedInvoke(request.tok, args, request.provider))
        return super().Invoke(request)
