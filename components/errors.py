"""Errors of the Pulumi program. Each carries its place so the user can fix it in one step."""

from __future__ import annotations


class OrgPatchingError(Exception):
    """Base class: something the user must fix; the message is one line."""


class ConfigError(OrgPatchingError):
    """Stack configuration is invalid. ``key`` is the full key path (``org-patching:accounts[1].id``)."""

    def __init__(self, key: str, problem: str, source: str | None = None) -> None:
        self.key = key
        self.problem = problem
        self.source = source
        where = f"{source}: " if source else ""
        super().__init__(f"{where}{key}: {problem}")


class DiscoveryError(OrgPatchingError):
    """AWS Organizations could not be read to discover the child accounts."""
