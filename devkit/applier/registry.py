"""The mapping registry: one entry per pulumi-aws type token.

Each entry has a ``create`` (the API calls pulumi-aws makes for a new resource; returns the
physical id and the output state the provider reports) and a ``read`` (the describe call that
finds the resource again in the emulator, or ``None``): ``read`` is what the summary and the
tests count, so a create that silently did nothing cannot pass.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import boto3


@dataclass
class Target:
    """One resource being applied: where it goes and what the program rendered for it."""

    urn: str
    type: str
    name: str
    account: str
    region: str
    session: boto3.session.Session
    inputs: dict[str, Any]
    #: What the mocks computed before the call (autonamed names, ``tagsAll``): the mapping
    #: reads names from here, so autonaming matches the provider's.
    outputs: dict[str, Any] = field(default_factory=dict)

    def client(self, service: str) -> Any:
        return self.session.client(service)  # type: ignore[call-overload]

    def get(self, key: str, default: Any = None) -> Any:
        value = self.outputs.get(key, self.inputs.get(key))
        return default if value is None else value

    @property
    def tags(self) -> dict[str, str]:
        """The provider's default tags merged with the resource's (what pulumi-aws sends)."""
        value = self.outputs.get("tagsAll") or self.inputs.get("tags") or {}
        return {str(k): str(v) for k, v in value.items()} if isinstance(value, dict) else {}

    def tag_list(self, key: str = "Key", value: str = "Value") -> list[dict[str, str]]:
        return [{key: k, value: v} for k, v in self.tags.items()]

    def autoname(self, prop: str = "name") -> str:
        """The input if set, else pulumi-aws's autoname: the resource name plus 7 hex characters."""
        given = self.get(prop)
        if given:
            return str(given)
        return f"{self.name}-{hashlib.sha256(self.urn.encode()).hexdigest()[:7]}"


@dataclass(frozen=True)
class Created:
    """What the provider reports after a create: the physical id and the output state."""

    id: str
    outputs: dict[str, Any] = field(default_factory=dict)


Create = Callable[[Target], Created]
#: ``read(session, physical id, outputs) -> description | None``.
Read = Callable[[boto3.session.Session, str, dict[str, Any]], Any]


@dataclass(frozen=True)
class Mapping:
    type: str
    create: Create
    read: Read
    #: IAM is global: the summary groups it under ``global``, not the provider's region.
    is_global: bool = False


REGISTRY: dict[str, Mapping] = {}


def mapping(type_token: str, read: Read, *, is_global: bool = False) -> Callable[[Create], Create]:
    """Register ``create`` for ``type_token`` (one registration per type)."""

    def register(create: Create) -> Create:
        if type_token in REGISTRY:
            raise ValueError(f"{type_token} is mapped twice")
        REGISTRY[type_token] = Mapping(type_token, create, read, is_global)
        return create

    return register


def missing_is_none(call: Callable[[], Any], *codes: str) -> Any:
    """Run a describe call; ``None`` when the service says the resource does not exist."""
    from botocore.exceptions import ClientError

    try:
        return call()
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "")
        if not codes or code in codes or "NotFound" in code or "NoSuch" in code or "DoesNotExist" in code:
            return None
        raise


def arn(service: str, region: str, account: str, resource: str, partition: str = "aws") -> str:
    return f"arn:{partition}:{service}:{region}:{account}:{resource}"
