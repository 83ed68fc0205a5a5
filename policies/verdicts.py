"""The app-team verdicts and their wording: is a tag set patchable, is an instance profile set,
and what to tell the user (which resource, which tag, allowed values, how to exempt).

The tag rules are ``tag_contract``'s; this module translates the configured vocabulary
(``settings``) and keeps unknowns apart: a verdict that unknowns could still change is
*undecided*, and an undecided verdict never produces a violation (``pulumi up`` decides).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

import tag_contract as contract
from settings import TagSettings
from wire import UNKNOWN, Tags

TAG_REMEDIATION: Final = (
    "Tag the workload environment=Dev|Test|Prod (org-patching derives 'Patch Group' and "
    "'maintenance_window' from it and its tag-remediation Lambda keeps them current), or set both managed "
    "tags to contract values, or opt out with install_patch=no. Let org-patching own the two managed tags "
    "(pulumi-aws provider ignoreTags.keys) so your stack does not fight the Lambda. At enforcement level "
    "'remediate' the pack adds missing managed tags derived from environment on instances."
)
PROFILE_REMEDIATION: Final = (
    "Give the workload an IAM instance profile whose role has AmazonSSMManagedInstanceCore attached "
    "(org-patching creates 'InstanceProfileforPatching' in every account), or opt out with install_patch=no."
)


@dataclass(frozen=True)
class TagVerdict:
    """``problems`` empty: fine. ``undecided``: unknowns could change the answer (stay quiet)."""

    problems: tuple[str, ...] = ()
    skip: str | None = None
    undecided: bool = False

    @property
    def violates(self) -> bool:
        return bool(self.problems) and not self.undecided and self.skip is None


def unknown_key_could_skip(tags: Tags, settings: TagSettings, kind: contract.ResourceKind) -> bool:
    return any(
        key in settings.relevant_keys or contract.managed_elsewhere_reason({key: "?"}, kind)
        for key in tags.unknown_keys
    )


def judge_tags(tags: Tags, settings: TagSettings, kind: contract.ResourceKind = "instance") -> TagVerdict:
    """The contract's deploy-time verdict on ``tags``, in the configured vocabulary."""
    view = settings.to_contract(tags.known)
    reason = contract.skip_reason(view, kind)
    if reason:
        return TagVerdict(skip=reason)
    problems = [settings.say(problem) for problem in contract.deploy_time_problems(view, kind)]
    bad_environment = settings.disallowed_environment(tags.known)
    if bad_environment is not None:
        problems.append(
            f"tag '{settings.environment_tag}'={bad_environment!r} is not an environment this organization allows "
            f"(allowed: {', '.join(settings.environments)})"
        )
    undecided = bool(problems) and (tags.opaque or unknown_key_could_skip(tags, settings, kind))
    return TagVerdict(tuple(problems), None, undecided)


def tag_message(label: str, name: str, verdict: TagVerdict, settings: TagSettings, via: str = "") -> str:
    """What the user needs: which resource, which tag, what values are allowed, how to exempt."""
    return (
        f"{label} '{name}'{via} would not be patched: {'; '.join(verdict.problems)}. "
        f"Fix: set tag '{settings.environment_tag}' to one of {', '.join(settings.environments)} "
        f"(org-patching derives '{settings.patch_group_tag}' and '{settings.maintenance_window_tag}' from it), "
        f"or set both of those tags yourself, or {settings.exemption_hint()}."
    )


def profile_name(value: str) -> str:
    """``arn:aws:iam::123:instance-profile/path/name`` -> ``name``; a name stays a name."""
    return value.rsplit("/", 1)[-1] if value.startswith("arn:") else value


def profile_problem(value: Any, settings: TagSettings) -> str | None:
    """Why an instance profile setting does not let SSM patch (None: fine or can't tell)."""
    if value is UNKNOWN:
        return None
    if not isinstance(value, str) or not value.strip():
        return "has no IAM instance profile, so SSM cannot reach it to patch"
    if settings.instance_profiles and profile_name(value) not in settings.instance_profiles:
        return (
            f"uses instance profile '{profile_name(value)}', which is not one of the allowed profiles "
            f"({', '.join(settings.instance_profiles)})"
        )
    return None


def profile_message(label: str, name: str, problem: str, settings: TagSettings, via: str = "") -> str:
    allowed = (
        f"one of {', '.join(settings.instance_profiles)}"
        if settings.instance_profiles
        else "a profile whose role has AmazonSSMManagedInstanceCore (e.g. 'InstanceProfileforPatching')"
    )
    return (
        f"{label} '{name}'{via} {problem}. Fix: set iam_instance_profile to {allowed}, or {settings.exemption_hint()}."
    )
