"""The pack's assembly, importable without starting the analyzer server.

``PolicyPack(...)`` (in ``__main__.py``) serves forever, so tests, ``patchctl`` and the docs
read the policies from here. Importing the policy modules registers their policies.
"""

from __future__ import annotations

from typing import Final

from pulumi_policy import EnforcementLevel, Policy
from registry import PACK_NAME, REGISTRY, Rule, policies

# isort: off
# Importing a rule module registers its policies; this order is the order the engine lists them in.
import app_instances  # noqa: F401  (ec2-instance-patch-tags, ec2-instance-profile)
import app_launch_templates  # noqa: F401  (launch-template-patch-tags, launch-template-instance-profile, asg-patch-tags)
import app_profiles  # noqa: F401  (instance-profile-can-patch)
import app_launch_sources  # noqa: F401  (launch-source-visible, launch-configuration-instance-profile, spot-fleet-patch-tags, cloudformation-ec2-visible, managed-tags-not-separate)
import guard_storage  # noqa: F401  (s3-bucket-encrypted-private, kms-key-rotation)
import guard_iam  # noqa: F401  (iam-no-admin-statements, iam-no-wildcard-passrole, iam-trust-org-scoped)
import guard_compute  # noqa: F401  (lambda-runtime-allowed, lambda-log-retention, maintenance-window-cutoff)
import guard_providers  # noqa: F401  (spoke-explicit-provider)
# isort: on

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
