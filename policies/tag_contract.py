"""The org-patching tag contract: which tags decide how an EC2 workload is patched.

This is the ONE place that knows tag keys and values. It is used at deploy time by the
CrossGuard pack (this directory), at run time by the tag-remediation and window-tagging
Lambdas (the Pulumi program copies this file into their archives), and by the offline demo.
It must therefore stay pure Python with no dependencies and no I/O.

Rules (the README's "Tag contract" section describes them for users):

* ``environment`` = Dev | Test | Prod, set by app teams. Read case-insensitively and with
  surrounding blanks ignored; anything else (or nothing) falls back to ``Default`` and the
  decision carries the reason, so nothing is skipped silently.
* ``Patch Group`` = Default | Dev | Test | Prod.
* ``maintenance_window`` = ``<Env>_maintenance_window`` when the account/region has a custom
  window for that environment, else ``Default_maintenance_window``.
* ``install_patch=no`` exempts a resource (``patch_install=no`` is the seed's spelling: both
  are accepted when reading, neither is ever written).
* Resources managed elsewhere are never tagged: ASG members (the ASG is patched instead), EKS
  and ECS nodes. For an instance only evidence an app team cannot write counts: tags under the
  reserved ``aws:`` prefix (``aws:autoscaling:groupName``, ``aws:eks:*``, ``aws:ecs:*``), which
  only AWS sets. Marker tags anyone can write (``eks:cluster-name``, ``kubernetes.io/cluster/*``,
  ``AmazonECSManaged``...) count on groups and launch templates only, where EKS and ECS put
  them (on an instance they arrive with the group's ``aws:autoscaling:groupName`` anyway).
* On exemption the managed tags are removed (:attr:`TagDecision.remove`), so no window or
  emergency wave that targets ``Patch Group``/``maintenance_window`` still finds the resource.
* ``patch_team`` = a team name (lowercase letters, digits, hyphens) claims a resource for that
  team: only the team's own window ``<Env>_<team>_maintenance_window`` (a product launch of that
  team) ever moves it. A resource without the tag is unclaimed: it follows its environment's window
  only when exactly one exists in the account and region (an environment-wide window, or a single
  team's), else ``Default_maintenance_window``. docs/teams.md describes the model.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Literal

ENVIRONMENT_TAG = "environment"
PATCH_GROUP_TAG = "Patch Group"
MAINTENANCE_WINDOW_TAG = "maintenance_window"
#: The team that owns a resource (and a self-service window): see :func:`decide`.
TEAM_TAG = "patch_team"
#: CloudWatch alarms that gate a resource's patching (comma-separated names): see :func:`alarm_names`.
ALARMS_TAG = "patch_alarms"

#: Tag keys whose value "no" (any case) exempts a resource from patching.
EXEMPTION_TAGS: tuple[str, ...] = ("install_patch", "patch_install")
EXEMPTION_VALUE = "no"

ENVIRONMENTS: tuple[str, ...] = ("Dev", "Test", "Prod")
DEFAULT = "Default"
PATCH_GROUPS: tuple[str, ...] = (DEFAULT, *ENVIRONMENTS)

WINDOW_SUFFIX = "_maintenance_window"
DEFAULT_WINDOW = f"{DEFAULT}{WINDOW_SUFFIX}"

#: The tags this contract writes; nothing else is ever changed by org-patching.
MANAGED_TAG_KEYS: tuple[str, ...] = (PATCH_GROUP_TAG, MAINTENANCE_WINDOW_TAG)

#: Tag added by EC2 Auto Scaling to every member instance.
ASG_MEMBER_TAG = "aws:autoscaling:groupName"
#: Exact tag keys that mark EKS-managed capacity.
EKS_TAG_KEYS: tuple[str, ...] = ("eks:nodegroup-name", "eks:cluster-name", "alpha.eksctl.io/nodegroup-name")
#: Tag key prefixes that mark EKS/Kubernetes-managed capacity (prefix match on the key, never a
#: substring match on a value: the seed's ``'ecs' in value`` exempted ASGs named "specs").
EKS_TAG_PREFIXES: tuple[str, ...] = ("k8s.io/cluster-autoscaler/", "kubernetes.io/cluster/")
#: Tags that mark ECS-managed capacity (capacity providers with managed scaling set
#: ``AmazonECSManaged``; ECS-owned resources carry ``aws:ecs:`` tags).
ECS_TAG_KEYS: tuple[str, ...] = ("AmazonECSManaged",)
ECS_TAG_PREFIXES: tuple[str, ...] = ("aws:ecs:",)
#: The reserved tag prefix: "You can't use aws: as a prefix in your tag keys, it is reserved for AWS use"
#: (EC2 User Guide, "Tag restrictions"). Only tags under it are evidence on an instance.
RESERVED_TAG_PREFIX = "aws:"
#: Reserved prefixes EKS (and ECS) write on the capacity they launch: evidence a team cannot fake.
EKS_RESERVED_PREFIXES: tuple[str, ...] = ("aws:eks:",)

ResourceKind = Literal["instance", "asg", "launch_template"]


def window_name(environment: str) -> str:
    """The maintenance window name for a patch group: ``Prod`` -> ``Prod_maintenance_window``."""
    if environment not in PATCH_GROUPS:
        raise ValueError(f"unknown patch group {environment!r}; allowed: {', '.join(PATCH_GROUPS)}")
    return f"{environment}{WINDOW_SUFFIX}"


WINDOW_NAMES: tuple[str, ...] = tuple(window_name(group) for group in PATCH_GROUPS)

#: A team name: 1-32 lowercase letters, digits and inner hyphens (fits SSM's window-name limits).
TEAM_NAME_PATTERN = r"^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$"
#: Every window name of the contract (environment windows and team windows), as the runbooks'
#: ``MaintenanceWindow`` parameter accepts it.
WINDOW_NAME_PATTERN = r"^(Default|Dev|Test|Prod)(_[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?)?_maintenance_window$"


def canonical_team(value: str | None) -> str | None:
    """``' Team-A '`` -> ``'team-a'``; ``None`` for a missing, empty or malformed value."""
    if value is None:
        return None
    team = value.strip().casefold()
    return team if re.fullmatch(TEAM_NAME_PATTERN, team) else None


def team_window_name(environment: str, team: str) -> str:
    """The window of one team's environment: ``Prod``, ``payments`` -> ``Prod_payments_maintenance_window``."""
    if environment not in ENVIRONMENTS:
        raise ValueError(f"unknown environment {environment!r}; allowed: {', '.join(ENVIRONMENTS)}")
    if canonical_team(team) != team:
        raise ValueError(f"team {team!r} does not match {TEAM_NAME_PATTERN}")
    return f"{environment}_{team}{WINDOW_SUFFIX}"


def is_window_name(value: str) -> bool:
    """An environment window or a team window name of the contract."""
    return re.fullmatch(WINDOW_NAME_PATTERN, value) is not None


def window_environment(value: str) -> str | None:
    """The environment a contract window name patches (``None``: not such a name, or Default)."""
    if not is_window_name(value):
        return None
    environment = value.split("_", 1)[0]
    return environment if environment in ENVIRONMENTS else None


def canonical_environment(value: str | None) -> str | None:
    """``' prod '`` -> ``'Prod'``; ``None`` for a missing, empty or unknown value."""
    if value is None:
        return None
    wanted = value.strip().casefold()
    for environment in ENVIRONMENTS:
        if environment.casefold() == wanted:
            return environment
    return None


def exemption_reason(tags: Mapping[str, str]) -> str | None:
    """Why the owner opted this resource out of patching, or ``None``."""
    for key in EXEMPTION_TAGS:
        value = tags.get(key)
        if value is not None and value.strip().casefold() == EXEMPTION_VALUE:
            return f"exempt: tag {key}={value}"
    return None


def managed_elsewhere_reason(tags: Mapping[str, str], kind: ResourceKind = "instance") -> str | None:
    """Why this resource is patched by something else (its ASG, EKS, ECS), or ``None``."""
    if kind == "instance" and ASG_MEMBER_TAG in tags:
        return f"managed: member of Auto Scaling group {tags[ASG_MEMBER_TAG]} (the group is patched)"
    for key in tags:
        if kind == "instance" and not key.startswith(RESERVED_TAG_PREFIX):
            continue  # a marker on a plain instance is something its owner wrote, not evidence
        if key in EKS_TAG_KEYS or key.startswith((*EKS_TAG_PREFIXES, *EKS_RESERVED_PREFIXES)):
            return f"managed: EKS node capacity (tag {key})"
        if key in ECS_TAG_KEYS or key.startswith(ECS_TAG_PREFIXES):
            return f"managed: ECS capacity (tag {key})"
    return None


def skip_reason(tags: Mapping[str, str], kind: ResourceKind = "instance") -> str | None:
    """Exempt or managed elsewhere: the reason the contract leaves this resource alone."""
    return exemption_reason(tags) or managed_elsewhere_reason(tags, kind)


@dataclass(frozen=True)
class TagDecision:
    """What the contract wants for one resource.

    ``skip`` set: leave the resource alone (the reason says why). Otherwise ``desired`` holds
    the managed tags it must carry, and ``note`` explains a fallback to Default.
    """

    desired: Mapping[str, str] = field(default_factory=dict)
    skip: str | None = None
    note: str | None = None
    #: Managed keys to delete: an exempt resource must not stay in a patch group or window.
    remove: tuple[str, ...] = ()

    def changes(self, tags: Mapping[str, str]) -> dict[str, str]:
        """The tags to write so ``tags`` satisfies the decision (empty: nothing to do)."""
        if self.skip:
            return {}
        return {key: value for key, value in self.desired.items() if tags.get(key) != value}

    def removals(self, tags: Mapping[str, str]) -> tuple[str, ...]:
        """The managed keys ``tags`` still carries that the decision wants gone (empty: none)."""
        return tuple(key for key in self.remove if key in tags)


def patch_group_for(tags: Mapping[str, str]) -> tuple[str, str | None]:
    """(patch group, note): the environment's group, or Default with the reason."""
    raw = tags.get(ENVIRONMENT_TAG)
    environment = canonical_environment(raw)
    if environment is not None:
        return environment, None
    if raw is None or not raw.strip():
        return DEFAULT, f"no {ENVIRONMENT_TAG} tag: using {DEFAULT}"
    return DEFAULT, f"{ENVIRONMENT_TAG}={raw!r} is not one of {', '.join(ENVIRONMENTS)}: using {DEFAULT}"


def decide(
    tags: Mapping[str, str],
    custom_windows: Collection[str] = (),
    kind: ResourceKind = "instance",
) -> TagDecision:
    """The contract for one resource.

    ``custom_windows``: names of the maintenance windows that exist in the resource's account
    and region (only contract names matter: ``<Env>_maintenance_window`` and team windows
    ``<Env>_<team>_maintenance_window``). A resource claimed by a team (``patch_team``) is patched
    by its team's window of its environment, else by Default: never by another team's window or an
    environment-wide one. An unclaimed resource follows its environment's window when exactly one
    exists (environment-wide or one team's), else Default.
    """
    exempt = exemption_reason(tags)
    if exempt:
        # The windows and emergency waves target the managed tags: an exemption only holds once
        # they are gone (an instance exempted after it was tagged would otherwise still be patched).
        return TagDecision(skip=exempt, remove=MANAGED_TAG_KEYS)
    reason = managed_elsewhere_reason(tags, kind)
    if reason:
        return TagDecision(skip=reason)
    group, note = patch_group_for(tags)
    window = DEFAULT_WINDOW
    if group != DEFAULT:
        raw_team = tags.get(TEAM_TAG)
        team = canonical_team(raw_team)
        if team is not None:
            own = team_window_name(group, team)
            window = own if own in custom_windows else DEFAULT_WINDOW
        elif raw_team is not None and raw_team.strip():
            note = f"{TEAM_TAG}={raw_team!r} is not a team name ({TEAM_NAME_PATTERN}): using {DEFAULT}"
        else:
            candidates = sorted(w for w in custom_windows if window_environment(w) == group)
            if len(candidates) == 1:
                window = candidates[0]
            elif len(candidates) > 1:
                note = f"no {TEAM_TAG} tag and {len(candidates)} windows for {group}: using {DEFAULT}"
    return TagDecision(desired={PATCH_GROUP_TAG: group, MAINTENANCE_WINDOW_TAG: window}, note=note)


def deploy_time_problems(tags: Mapping[str, str], kind: ResourceKind = "instance") -> list[str]:
    """Why a resource about to be deployed would not be patched (empty: it is fine).

    At deploy time the custom windows of the target account are unknown, so any contract
    window name is accepted; an ``environment`` tag with a contract value is enough on its own
    because the tag-remediation Lambda derives the rest from it.
    """
    if skip_reason(tags, kind):
        return []
    if canonical_environment(tags.get(ENVIRONMENT_TAG)) is not None and not _has_bad_managed_values(tags):
        return []
    problems: list[str] = []
    group = tags.get(PATCH_GROUP_TAG)
    window = tags.get(MAINTENANCE_WINDOW_TAG)
    if group is None:
        problems.append(f"missing tag '{PATCH_GROUP_TAG}' (allowed: {', '.join(PATCH_GROUPS)})")
    elif group not in PATCH_GROUPS:
        problems.append(f"tag '{PATCH_GROUP_TAG}'={group!r} is not one of {', '.join(PATCH_GROUPS)}")
    if window is None:
        problems.append(f"missing tag '{MAINTENANCE_WINDOW_TAG}' (allowed: {', '.join(WINDOW_NAMES)})")
    elif not is_window_name(window):
        problems.append(f"tag '{MAINTENANCE_WINDOW_TAG}'={window!r} is not one of {', '.join(WINDOW_NAMES)}")
    raw_env = tags.get(ENVIRONMENT_TAG)
    if problems and raw_env is not None and canonical_environment(raw_env) is None:
        problems.append(f"tag '{ENVIRONMENT_TAG}'={raw_env!r} is not one of {', '.join(ENVIRONMENTS)}")
    return problems


def _has_bad_managed_values(tags: Mapping[str, str]) -> bool:
    group = tags.get(PATCH_GROUP_TAG)
    window = tags.get(MAINTENANCE_WINDOW_TAG)
    return (group is not None and group not in PATCH_GROUPS) or (window is not None and not is_window_name(window))


def remediated_tags(tags: Mapping[str, str], kind: ResourceKind = "instance") -> dict[str, str] | None:
    """Deploy-time fix: add the missing managed tags derived from ``environment``.

    Returns the full new tag map, or ``None`` when there is nothing the contract can derive
    (no usable ``environment``) or nothing to add. The window is the Default one because the
    target account's custom windows are unknown at deploy time; the tag-remediation Lambda
    moves the resource to its environment's window once one exists.
    """
    if skip_reason(tags, kind):
        return None
    environment = canonical_environment(tags.get(ENVIRONMENT_TAG))
    if environment is None:
        return None
    added = {}
    if PATCH_GROUP_TAG not in tags:
        added[PATCH_GROUP_TAG] = environment
    if MAINTENANCE_WINDOW_TAG not in tags:
        added[MAINTENANCE_WINDOW_TAG] = DEFAULT_WINDOW
    if not added:
        return None
    return {**tags, **added}


#: A CloudWatch alarm name: 1-255 characters, not only blanks (botocore ``ssm`` ``AlarmName``: ``min`` 1,
#: ``max`` 255, ``pattern`` ``^(?!\\s*$).+``; ``autoscaling`` ``XmlStringMaxLen255``).
ALARM_NAME_MAX = 255


def alarm_names(value: str | None) -> tuple[str, ...]:
    """The alarms an :data:`ALARMS_TAG` value names: comma-separated, blanks around names ignored, first
    occurrence kept; names longer than an alarm name can be are dropped (they could match no alarm, and AWS
    would refuse the whole request). ``None`` or blank names nothing."""
    names = (part.strip() for part in (value or "").split(","))
    return tuple(dict.fromkeys(name for name in names if 0 < len(name) <= ALARM_NAME_MAX))
