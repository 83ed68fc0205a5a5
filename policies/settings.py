"""Policy config for the app-team rules, read against the tag contract.

Pulumi gives every policy its own config, so the tag settings are repeated in each tag
policy's schema (``TAG_SCHEMA``) and read by :meth:`TagSettings.from_config`. The defaults are
the contract's constants, so an unconfigured pack enforces exactly ``tag_contract``.

Custom keys are handled by translating a resource's tags into the contract's vocabulary
(:meth:`TagSettings.to_contract`) and the contract's messages back (:meth:`TagSettings.say`):
the rules themselves stay in ``tag_contract`` only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

import tag_contract as contract
from wire import config_strings

TAG_SCHEMA: Final[dict[str, Any]] = {
    "environmentTag": {
        "type": "string",
        "minLength": 1,
        "default": contract.ENVIRONMENT_TAG,
        "description": "Tag key app teams set to Dev, Test or Prod.",
    },
    "patchGroupTag": {
        "type": "string",
        "minLength": 1,
        "default": contract.PATCH_GROUP_TAG,
        "description": "Tag key of the SSM patch group (managed by org-patching).",
    },
    "maintenanceWindowTag": {
        "type": "string",
        "minLength": 1,
        "default": contract.MAINTENANCE_WINDOW_TAG,
        "description": "Tag key naming the maintenance window (managed by org-patching).",
    },
    "environments": {
        "type": "array",
        "items": {"type": "string", "enum": list(contract.ENVIRONMENTS)},
        "minItems": 1,
        "uniqueItems": True,
        "default": list(contract.ENVIRONMENTS),
        "description": "Environments allowed in this organization (a subset of the contract's).",
    },
    "exemptionTags": {
        "type": "array",
        "items": {"type": "string", "minLength": 1},
        "default": list(contract.EXEMPTION_TAGS),
        "description": f"Tag keys whose value '{contract.EXEMPTION_VALUE}' exempts a resource from patching.",
    },
}

PROFILE_SCHEMA: Final[dict[str, Any]] = {
    "instanceProfiles": {
        "type": "array",
        "items": {"type": "string", "minLength": 1},
        "default": [],
        "description": "If not empty, the only instance profile names EC2 workloads may use.",
    },
}

_CONTRACT_KEYS: Final = (contract.ENVIRONMENT_TAG, contract.PATCH_GROUP_TAG, contract.MAINTENANCE_WINDOW_TAG)


def _string(value: Any, default: str) -> str:
    return value if isinstance(value, str) and value else default


@dataclass(frozen=True)
class TagSettings:
    """The tag keys, environments and exemptions one policy evaluation uses."""

    environment_tag: str = contract.ENVIRONMENT_TAG
    patch_group_tag: str = contract.PATCH_GROUP_TAG
    maintenance_window_tag: str = contract.MAINTENANCE_WINDOW_TAG
    environments: tuple[str, ...] = contract.ENVIRONMENTS
    exemption_tags: tuple[str, ...] = contract.EXEMPTION_TAGS
    instance_profiles: tuple[str, ...] = ()

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> TagSettings:
        """Config as the engine sends it (schema defaults applied; tolerate them missing)."""
        return cls(
            environment_tag=_string(config.get("environmentTag"), contract.ENVIRONMENT_TAG),
            patch_group_tag=_string(config.get("patchGroupTag"), contract.PATCH_GROUP_TAG),
            maintenance_window_tag=_string(config.get("maintenanceWindowTag"), contract.MAINTENANCE_WINDOW_TAG),
            environments=config_strings(config.get("environments"), contract.ENVIRONMENTS),
            exemption_tags=config_strings(config.get("exemptionTags"), contract.EXEMPTION_TAGS),
            instance_profiles=config_strings(config.get("instanceProfiles"), ()),
        )

    @property
    def keys(self) -> tuple[str, str, str]:
        """(environment, patch group, window) keys as configured."""
        return (self.environment_tag, self.patch_group_tag, self.maintenance_window_tag)

    @property
    def relevant_keys(self) -> tuple[str, ...]:
        """Keys whose (unknown) value could change the decision."""
        return (*self.keys, *self.exemption_tags)

    def to_contract(self, tags: Mapping[str, str]) -> dict[str, str]:
        """The tags in the contract's vocabulary: configured keys renamed to the contract's,
        configured exemption tags mapped onto the contract's first exemption key, and an
        environment outside the allowed list dropped (so the contract asks for the managed tags).
        """
        mapped = {
            key: value
            for key, value in tags.items()
            if key not in (*_CONTRACT_KEYS, *contract.EXEMPTION_TAGS, *self.relevant_keys)
        }
        for ours, theirs in zip(self.keys, _CONTRACT_KEYS, strict=True):
            if ours in tags:
                mapped[theirs] = tags[ours]
        if self.disallowed_environment(tags) is not None:
            mapped.pop(contract.ENVIRONMENT_TAG, None)
        for key in self.exemption_tags:
            if key in tags and tags[key].strip().casefold() == contract.EXEMPTION_VALUE:
                mapped[contract.EXEMPTION_TAGS[0]] = tags[key]
                break
        return mapped

    def from_contract(self, tags: Mapping[str, str], original: Mapping[str, str]) -> dict[str, str]:
        """The contract's tag map back in the configured keys, keeping every original tag."""
        result = dict(original)
        for ours, theirs in zip(self.keys, _CONTRACT_KEYS, strict=True):
            if theirs in tags and ours not in original:
                result[ours] = tags[theirs]
        return result

    def disallowed_environment(self, tags: Mapping[str, str]) -> str | None:
        """The raw environment value when it is a contract environment this org does not allow."""
        raw = tags.get(self.environment_tag)
        canonical = contract.canonical_environment(raw)
        if canonical is not None and canonical not in self.environments:
            return raw
        return None

    def say(self, problem: str) -> str:
        """A contract message with the configured tag keys in place of the contract's."""
        for ours, theirs in zip(self.keys, _CONTRACT_KEYS, strict=True):
            problem = problem.replace(f"'{theirs}'", f"'{ours}'")
        return problem

    def exemption_hint(self) -> str:
        """How to opt a resource out, for messages."""
        keys = " or ".join(f"{key}={contract.EXEMPTION_VALUE}" for key in self.exemption_tags)
        return f"exempt it with the tag {keys}" if keys else "exemptions are disabled in this organization"
