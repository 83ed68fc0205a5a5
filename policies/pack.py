"""The pack's assembly, importable without starting the analyzer server.

``PolicyPack(...)`` (in ``__main__.py``) serves forever, so tests, ``patchctl`` and the docs
read the policies from here. Importing the policy modules registers their policies.
"""

from __future__ import annotations

from typing import Final

import app_instances  # noqa: F401  (registers ec2-instance-*)
import app_launch_templates  # noqa: F401  (registers launch-template-*, asg-patch-tags)
import app_profiles  # noqa: F401  (registers instance-profile-can-patch)
import guard_rails  # noqa: F401  (registers the guard rails)
from pulumi_policy import EnforcementLevel, Policy
from registry import PACK_NAME, REGISTRY, Rule, policies

#: Level of a policy that does not set its own (users override with ``{"all": ...}``).
DEFAULT_LEVEL: Final = EnforcementLevel.MANDATORY
DESCRIPTION: Final = (
    "org-patching: every EC2 workload in the organization carries patch tags and an instance profile; "
    "guard rails for org-patching's own stacks."
)

__all__ = ["DEFAULT_LEVEL", "DESCRIPTION", "PACK_NAME", "REGISTRY", "Rule", "all_policies"]


def all_policies() -> list[Policy]:
    """Every registered policy, app-team rules first."""
    return policies("app-team") + policies("guard-rail")
