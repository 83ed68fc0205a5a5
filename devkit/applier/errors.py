"""What can stop an apply, each naming the resource (type, URN) and, for a rule, its source."""

from __future__ import annotations


class ApplyError(Exception):
    """Base of every applier failure."""


class UnsupportedResource(ApplyError):
    """A rendered resource type the applier has no mapping for (never skipped silently)."""

    def __init__(self, type_token: str, urn: str) -> None:
        super().__init__(f"UnsupportedResource: {type_token} (urn {urn})")
        self.type_token = type_token
        self.urn = urn


class ServiceRuleViolation(ApplyError):
    """A rendered input that the real service would refuse, though moto accepts it."""

    def __init__(self, type_token: str, urn: str, rule: str) -> None:
        super().__init__(f"ServiceRuleViolation: {type_token} (urn {urn}): {rule}")
        self.type_token = type_token
        self.urn = urn
        self.rule = rule


class ResourceCreateFailed(ApplyError):
    """The emulated service refused a create call (a botocore ``ClientError`` or validation error)."""

    def __init__(self, type_token: str, urn: str, account: str, region: str, cause: Exception) -> None:
        super().__init__(f"ResourceCreateFailed: {type_token} (urn {urn}) in {account}/{region}: {cause}")
        self.type_token = type_token
        self.urn = urn
        self.cause = cause
