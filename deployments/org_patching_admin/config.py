"""Typed, validated configuration of the admin program (``org-patching-admin:`` namespace).

The admin program writes Pulumi Cloud objects that decide who can change the organization's
patching: which repository and branch a deployment runs, which AWS role it assumes, and when
drift is detected or remediated. A typo there fails silently in the cloud (a schedule that
never fires, a deployment that cannot assume its role), so every value is checked here, before
anything is registered, and a bad one stops the run with one line naming the key.

Schedules here are Pulumi Cloud's: standard 5-field cron (``MIN HOUR DOM MON DOW``, UTC),
not the AWS ``cron(...)`` form the patching program uses; an AWS-style expression is rejected
with a message that says so, because the two are easy to mix up in this repository.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel

from components.config import PathError, decode_value, describe_validation_error

NAMESPACE = "org-patching-admin"

StackKind = Literal["central", "child"]

_ORG = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")
_PROJECT = re.compile(r"^[A-Za-z0-9_.-]{1,100}$")
_STACK = re.compile(r"^[A-Za-z0-9_.-]{1,100}$")
_REPOSITORY = re.compile(r"^[A-Za-z0-9-]{1,39}/[A-Za-z0-9_.-]{1,100}$")
_ROLE_ARN = re.compile(r"^arn:aws(-cn|-us-gov)?:iam::\d{12}:role/[\w+=,.@/-]{1,512}$")
_SESSION_NAME = re.compile(r"^[\w+=,.@-]{2,64}$")
_DURATION = re.compile(r"^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
#: Static AWS credentials in a deployment's environment would bypass OIDC and live forever in
#: Pulumi Cloud; the role ARN is the only supported way in.
_FORBIDDEN_ENV = frozenset({"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"})
#: The Pulumi token of child deployments is ``childAccessToken`` (a secret), never a plain variable.
PULUMI_TOKEN_ENV = "PULUMI_ACCESS_TOKEN"
#: The config key of that token, and how to set it.
CHILD_TOKEN_KEY = "childAccessToken"
_SET_TOKEN = f"pulumi config set --secret {NAMESPACE}:{CHILD_TOKEN_KEY} <token>"
#: AWS session length when a stack sets none: a child run walks every enrolled account and region
#: (up to 3 hours for a large organization), the central one is short. The OIDC roles' IAM
#: MaxSessionDuration must be at least this (docs/operations.md, "Credentials").
DEFAULT_SESSION_DURATION: dict[StackKind, str] = {"central": "1h", "child": "3h"}

_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_DAYS = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")
#: (name, low, high, names) of the five fields; day-of-week 7 is Sunday, as in most crons.
_CRON_FIELDS: tuple[tuple[str, int, int, tuple[str, ...]], ...] = (
    ("minute", 0, 59, ()),
    ("hour", 0, 23, ()),
    ("day-of-month", 1, 31, ()),
    ("month", 1, 12, _MONTHS),
    ("day-of-week", 0, 7, _DAYS),
)


class AdminConfigError(Exception):
    """The admin stack's config is invalid: ``key`` is the full key path."""

    def __init__(self, key: str, problem: str, source: str | None = None) -> None:
        self.key = key
        self.problem = problem
        self.source = source
        where = f"{source}: " if source else ""
        super().__init__(f"{where}{key}: {problem}")


# --------------------------------------------------------------------------- value checks


def _cron_value(token: str, low: int, high: int, names: tuple[str, ...]) -> int | None:
    if token.upper() in names:
        return names.index(token.upper()) + (1 if names is _MONTHS else 0)
    if token.isdigit() and low <= int(token) <= high:
        return int(token)
    return None


def cron_problem(expression: str) -> str | None:
    """Why ``expression`` is not a 5-field cron Pulumi Cloud accepts, or ``None`` if it is.

    Supports ``*``, lists, ranges, steps and month/day names; rejects the AWS forms
    (``cron(...)``, ``rate(...)``, six fields, ``?``) with a hint.
    """
    text = expression.strip()
    if text.startswith(("cron(", "rate(", "at(")):
        return "Pulumi Cloud schedules are 5-field cron (MIN HOUR DOM MON DOW, UTC), not AWS cron(...)/rate(...)"
    fields = text.split()
    if len(fields) != 5:
        return f"needs 5 fields (MIN HOUR DOM MON DOW), got {len(fields)}"
    for value, (name, low, high, names) in zip(fields, _CRON_FIELDS, strict=True):
        for part in value.split(","):
            base, slash, step = part.partition("/")
            if slash and not (step.isdigit() and int(step) > 0):
                return f"{name} step {step!r} is not a positive number"
            if base == "*":
                continue
            if base == "?":
                return f"{name}: '?' is AWS cron syntax; use '*'"
            bounds = base.split("-")
            parsed = [_cron_value(b, low, high, names) for b in bounds]
            if len(bounds) > 2 or any(p is None for p in parsed):
                allowed = f"{low}-{high}" + (f" or {','.join(names)}" if names else "")
                return f"{name} {part!r} is out of range ({allowed})"
            if len(parsed) == 2 and parsed[0] is not None and parsed[1] is not None and parsed[0] > parsed[1]:
                return f"{name} range {base!r} runs backwards"
    return None


def duration_seconds(value: str) -> int | None:
    """``1h``, ``45m``, ``1h30m`` (a Go duration, as Pulumi's OIDC settings take) → seconds."""
    match = _DURATION.match(value)
    if not value or not match:
        return None
    hours, minutes, seconds = (int(g) if g else 0 for g in match.groups())
    return hours * 3600 + minutes * 60 + seconds


def _cron(value: str) -> str:
    problem = cron_problem(value)
    if problem:
        raise ValueError(f"{value!r} is not a valid schedule: {problem}")
    return " ".join(value.split())


def _role_arn(value: str) -> str:
    if not _ROLE_ARN.match(value):
        raise ValueError(f"{value!r} is not an IAM role ARN (arn:aws:iam::123456789012:role/name)")
    return value


def _duration(value: str) -> str:
    seconds = duration_seconds(value)
    # AssumeRoleWithWebIdentity accepts 15 minutes to 12 hours (the role's maximum may be lower).
    if seconds is None:
        raise ValueError(f"{value!r} is not a duration such as 1h, 45m or 1h30m")
    if not 900 <= seconds <= 43_200:
        raise ValueError(f"{value!r} is outside what AWS STS accepts (15m to 12h)")
    return value


def _pattern(regex: re.Pattern[str], what: str) -> AfterValidator:
    def check(value: str) -> str:
        if not regex.match(value):
            raise ValueError(f"{value!r} is not a valid {what}")
        return value

    return AfterValidator(check)


def _environment(values: dict[str, str]) -> dict[str, str]:
    for name in values:
        if not _ENV_NAME.match(name):
            raise ValueError(f"{name!r} is not a valid environment variable name")
        if name in _FORBIDDEN_ENV:
            raise ValueError(f"{name} must not be set: deployments reach AWS only through the OIDC role (awsRoleArn)")
        if name == PULUMI_TOKEN_ENV:
            raise ValueError(f"{name} must not be a plain variable: set {CHILD_TOKEN_KEY} as a secret ({_SET_TOKEN})")
    return values


Cron = Annotated[str, AfterValidator(_cron)]
RoleArn = Annotated[str, AfterValidator(_role_arn)]
Duration = Annotated[str, AfterValidator(_duration)]
Environment = Annotated[dict[str, str], AfterValidator(_environment)]


class Model(BaseModel):
    """camelCase keys as in Pulumi config, unknown keys rejected, immutable."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=True)


# --------------------------------------------------------------------------- models


class SourceConfig(Model):
    """Where deployments take the program from: a GitHub repository through the Pulumi GitHub app.

    ``deployCommits`` / ``previewPullRequests`` default to off: the repository's own workflows
    run ``pulumi up`` in order (central before child) and the policy previews; Pulumi's
    push-to-deploy would deploy each stack on its own, in no order, and race them.
    """

    repository: Annotated[str, _pattern(_REPOSITORY, "GitHub repository (owner/name)")]
    branch: str = Field(default="main", min_length=1)
    repo_dir: str = "."
    deploy_commits: bool = False
    preview_pull_requests: bool = False
    #: Paths that trigger push-to-deploy (only used when deployCommits is on).
    paths: list[str] = Field(default_factory=list)

    @field_validator("repo_dir")
    @classmethod
    def _relative(cls, value: str) -> str:
        if value.startswith("/") or ".." in Path(value).parts:
            raise ValueError(f"{value!r} must be a path inside the repository (relative, no '..')")
        return value

    @property
    def git_branch(self) -> str:
        """The branch as a full ref, the form the deployments API stores."""
        return self.branch if self.branch.startswith("refs/") else f"refs/heads/{self.branch}"


class StackDeploymentConfig(Model):
    """One stack of the patching program: how it is deployed and how drift is watched."""

    #: Which half of the program the stack builds; derived from the name when omitted
    #: (``central`` → central, anything else → child, so shards such as ``child-eu`` work).
    kind: StackKind | None = None
    aws_role_arn: RoleArn
    session_name: Annotated[str, _pattern(_SESSION_NAME, "STS session name")] | None = None
    #: Default by kind (``DEFAULT_SESSION_DURATION``): 1h central, 3h child.
    session_duration: Duration | None = None
    drift_schedule: Cron = "0 */6 * * *"
    auto_remediate: bool = False
    #: Scheduled ``pulumi up`` so accounts that appear in the organization (``discover``) are
    #: enrolled without a person: what StackSet auto-deployment did for the seed. Child only.
    enroll_schedule: Cron | None = None
    environment_variables: Environment = Field(default_factory=dict)


class AdminConfig(Model):
    """The whole admin stack."""

    organization: Annotated[str, _pattern(_ORG, "Pulumi organization name")]
    #: The Pulumi access token child deployments run with. A deployment's own token reaches only
    #: the stack being deployed, and a child stack reads the central stack (StackReference, and
    #: the central gate): this one must be able to update the child stacks and read the central
    #: stack. Always a secret; never printed.
    child_access_token: SecretStr
    project: Annotated[str, _pattern(_PROJECT, "Pulumi project name")] = "org-patching"
    source: SourceConfig
    pre_run_commands: list[str] = Field(default_factory=lambda: ["make setup"])
    #: ``make setup`` installs the pinned dependencies itself; Deployments' own install would
    #: do it a second time, unpinned dev extras aside.
    skip_install_dependencies: bool = True
    environment_variables: Environment = Field(default_factory=dict)
    stacks: dict[str, StackDeploymentConfig] = Field(min_length=1)

    @field_validator("pre_run_commands")
    @classmethod
    def _commands(cls, values: list[str]) -> list[str]:
        for value in values:
            if not value.strip():
                raise ValueError("a pre-run command cannot be empty")
        return values

    @field_validator("stacks")
    @classmethod
    def _stack_names(cls, values: dict[str, StackDeploymentConfig]) -> dict[str, StackDeploymentConfig]:
        for name in values:
            if not _STACK.match(name):
                raise ValueError(f"{name!r} is not a valid stack name")
        return values

    @model_validator(mode="after")
    def _roles(self) -> AdminConfig:
        kinds = {name: self.kind_of(name) for name in self.stacks}
        centrals = [name for name, kind in kinds.items() if kind == "central"]
        if len(centrals) != 1:
            raise PathError(("stacks",), f"exactly one central stack is needed (found {len(centrals)})")
        if not any(kind == "child" for kind in kinds.values()):
            raise PathError(("stacks",), "at least one child stack is needed")
        for name, stack in self.stacks.items():
            if stack.enroll_schedule and kinds[name] == "central":
                raise PathError(
                    ("stacks", name, "enrollSchedule"), "only child stacks enroll accounts; the central stack has none"
                )
            if stack.auto_remediate and kinds[name] == "central":
                # Remediation is `pulumi up` of the head of the branch: on central that would deploy
                # a change that is still waiting for its reviewer in the workflow.
                raise PathError(
                    ("stacks", name, "autoRemediate"),
                    "the central stack is only deployed by the reviewed workflow (main.yml): "
                    "drift there is detect-only",
                )
        return self

    def kind_of(self, stack: str) -> StackKind:
        declared = self.stacks[stack].kind
        if declared is not None:
            return declared
        return "central" if stack == "central" else "child"

    def session_name_of(self, stack: str) -> str:
        """Distinct per stack, so CloudTrail tells which deployment did what."""
        return self.stacks[stack].session_name or f"pulumi-deployments-{stack}"[:64]

    def session_duration_of(self, stack: str) -> str:
        return self.stacks[stack].session_duration or DEFAULT_SESSION_DURATION[self.kind_of(stack)]

    def qualified(self, stack: str) -> str:
        return f"{self.organization}/{self.project}/{stack}"

    @property
    def central_stack(self) -> str:
        return next(name for name in self.stacks if self.kind_of(name) == "central")

    def pre_run_commands_of(self, stack: str) -> list[str]:
        """The configured commands, then for a child stack the central gate (``deployments/gate.py``):
        the run stops unless central was deployed at this commit and its last update succeeded."""
        commands = list(self.pre_run_commands)
        if self.kind_of(stack) == "child":
            commands.append(gate_command(self.qualified(stack), self.qualified(self.central_stack)))
        return commands

    def environment_of(self, stack: str) -> dict[str, str]:
        return {**self.environment_variables, **self.stacks[stack].environment_variables}

    def ordered_stacks(self) -> list[str]:
        """Central first (the child stacks read its outputs), then the children by name."""
        return sorted(self.stacks, key=lambda name: (self.kind_of(name) != "central", name))


def gate_command(stack: str, central: str) -> str:
    """The pre-run command of a child stack's deployments (run from the repository root, after
    ``make setup``); ``deployments/gate.py`` reads the operation from ``PULUMI_CI_OPERATION``."""
    return f".venv/bin/python deployments/gate.py --stack {stack} --central {central}"


# --------------------------------------------------------------------------- loading


def _secret_token(values: dict[str, Any], is_secret: Callable[[str], bool] | None) -> None:
    """Check ``childAccessToken`` is there and a secret, and keep it as a ``SecretStr``.

    In ``Pulumi.<stack>.yaml`` a secret is ``{secure: <ciphertext>}`` (``pulumi config set
    --secret``); inside the engine it arrives decrypted, and ``is_secret`` says whether it was
    set as one. A plain value is refused: the token would sit in the repository in clear.
    """
    key = f"{NAMESPACE}:{CHILD_TOKEN_KEY}"
    if CHILD_TOKEN_KEY not in values:
        raise PathError(
            (CHILD_TOKEN_KEY,),
            f"is required: child deployments read the central stack, which their own token cannot ({_SET_TOKEN})",
        )
    value = values[CHILD_TOKEN_KEY]
    if isinstance(value, Mapping) and set(value) == {"secure"} and isinstance(value["secure"], str):
        secret = f"secure:{value['secure']}"
    elif isinstance(value, str) and value and is_secret is not None and is_secret(key):
        secret = value
    else:
        raise PathError((CHILD_TOKEN_KEY,), f"must be set as a secret ({_SET_TOKEN}), not in plain text")
    values[CHILD_TOKEN_KEY] = SecretStr(secret)


def parse_config(
    raw: Mapping[str, Any], source: str | None = None, is_secret: Callable[[str], bool] | None = None
) -> AdminConfig:
    """Validate a flat ``{"org-patching-admin:key": value}`` mapping (other namespaces ignored).

    ``is_secret(full_key)`` tells which plain values the engine decrypted (``None``: a stack file,
    where secrets are ``{secure: ...}``)."""
    values = {
        key: decode_value(value)
        for full_key, value in raw.items()
        for namespace, _, key in [str(full_key).partition(":")]  # YAML keys may be numbers or null
        if namespace == NAMESPACE
    }
    try:
        _secret_token(values, is_secret)
        return AdminConfig.model_validate(values)
    except PathError as error:
        raise AdminConfigError(f"{NAMESPACE}:{'.'.join(map(str, error.path))}", str(error), source) from None
    except ValidationError as error:
        raise AdminConfigError(*describe_validation_error(error, NAMESPACE, AdminConfig), source) from None


def load_stack_file(path: str | Path) -> AdminConfig:
    """Read ``Pulumi.<stack>.yaml`` (its ``config:`` section) and validate it."""
    file = Path(path)
    try:
        document = yaml.safe_load(file.read_text()) or {}
    except FileNotFoundError:
        raise AdminConfigError("config file", "does not exist", str(file)) from None
    except yaml.YAMLError as error:
        raise AdminConfigError("config file", f"is not valid YAML ({str(error).splitlines()[0]})", str(file)) from None
    except UnicodeDecodeError as error:
        raise AdminConfigError("config file", f"is not UTF-8 text (byte {error.start})", str(file)) from None
    if not isinstance(document, dict) or not isinstance(document.get("config", {}), dict):
        raise AdminConfigError("config", "the file must have a 'config:' mapping", str(file))
    return parse_config(document.get("config") or {}, source=str(file))


def load_from_engine() -> AdminConfig:
    """The configuration of the admin stack being deployed (inside ``pulumi up``/``preview``)."""
    import pulumi.runtime.config as runtime_config

    # CONFIG is a ContextVar holding the dict the engine set (pulumi 3.2xx); the environment
    # variable form is what a program started outside the language host sees.
    raw = dict(runtime_config.get_config_env())
    raw.update(runtime_config.CONFIG.get())
    secret_keys = set(runtime_config.get_config_secret_keys_env())

    def is_secret(key: str) -> bool:
        return runtime_config.is_config_secret(key) or key in secret_keys

    return parse_config(raw, source="stack config", is_secret=is_secret)
