"""The value types of the stack configuration: account, organization, OU and region ids, role
names, schedules, rate limits, e-mail addresses, each checked with a one-line reason, and the
base model every config section derives from.

Kept apart from :mod:`components.config` (the sections and their loading) so each file has
one job; a type here knows nothing about which key uses it.
"""

from __future__ import annotations

import functools
import re
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict
from pydantic.alias_generators import to_camel

from .partitions import ssm_regions
from .schedules import schedule_problem

# ASCII and \Z: "$" also matches before a trailing newline, and \d / \w match non-ASCII digits and letters
# that AWS rejects (found by tests/fuzz).
_ACCOUNT_ID = re.compile(r"^\d{12}\Z", re.ASCII)
_ORG_ID = re.compile(r"^o-[a-z0-9]{10,32}\Z")
_OU_ID = re.compile(r"^(ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}|r-[0-9a-z]{4,32})\Z")
_ROLE_NAME = re.compile(r"^[\w+=,.@-]{1,64}\Z", re.ASCII)
_ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]{1,512}\Z", re.ASCII)
#: A Pulumi stack name, bare (``child-eu``) or fully qualified (``org/project/child-eu``).
_STACK_NAME = re.compile(r"^([A-Za-z0-9_.-]+/){0,2}[A-Za-z0-9_.-]+\Z", re.ASCII)
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+\Z")
_RATE_LIMIT = re.compile(r"^([1-9][0-9]*|[1-9][0-9]?%|100%)\Z")


@functools.cache
def known_regions() -> frozenset[str]:
    """Every region botocore's endpoint data knows, in every partition (read once per run, shared with
    :func:`components.partitions.partition_of`)."""
    return frozenset().union(*ssm_regions().values())


def _account_id(value: str) -> str:
    if not _ACCOUNT_ID.match(value):
        raise ValueError(f"{value!r} is not a 12-digit AWS account id")
    return value


def _org_id(value: str) -> str:
    if not _ORG_ID.match(value):
        raise ValueError(f"{value!r} is not an organization id (o-xxxxxxxxxx)")
    return value


def _ou_id(value: str) -> str:
    if not _OU_ID.match(value):
        raise ValueError(f"{value!r} is not an organizational unit or root id (ou-xxxx-xxxxxxxx or r-xxxx)")
    return value


def _region(value: str) -> str:
    if value not in known_regions():
        raise ValueError(f"{value!r} is not an AWS region botocore knows")
    return value


def _schedule(value: str) -> str:
    problem = schedule_problem(value)
    if problem:
        raise ValueError(f"{value!r} is not a valid schedule: {problem}")
    return value


def _role_name(value: str) -> str:
    if not _ROLE_NAME.match(value):
        raise ValueError(f"{value!r} is not a valid IAM role name")
    return value


def _role_arn(value: str) -> str:
    if not _ROLE_ARN.match(value):
        raise ValueError(f"{value!r} is not an IAM role ARN (arn:aws:iam::<account>:role/<name>)")
    return value


def _stack_name(value: str) -> str:
    if not _STACK_NAME.match(value):
        raise ValueError(f"{value!r} is not a Pulumi stack name (child-eu, or org/project/child-eu)")
    return value


def _rate_limit(value: str) -> str:
    if not _RATE_LIMIT.match(value):
        raise ValueError(f"{value!r} is not a count (e.g. 10) or a percentage (e.g. 10%)")
    return value


def _email(value: str) -> str:
    if not _EMAIL.match(value):
        raise ValueError(f"{value!r} is not an e-mail address")
    return value


AccountId = Annotated[str, AfterValidator(_account_id)]
OrgId = Annotated[str, AfterValidator(_org_id)]
OuId = Annotated[str, AfterValidator(_ou_id)]
Region = Annotated[str, AfterValidator(_region)]
Schedule = Annotated[str, AfterValidator(_schedule)]
RoleName = Annotated[str, AfterValidator(_role_name)]
RoleArn = Annotated[str, AfterValidator(_role_arn)]
StackName = Annotated[str, AfterValidator(_stack_name)]
RateLimit = Annotated[str, AfterValidator(_rate_limit)]
Email = Annotated[str, AfterValidator(_email)]


class Model(BaseModel):
    """Base: camelCase keys as in Pulumi config, unknown keys rejected, immutable."""

    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=True, strict=False
    )


def unique(values: list[str], what: str) -> list[str]:
    """``values`` unchanged, or an error naming the first one listed twice."""
    seen: set[str] = set()
    for value in values:
        if value in seen:
            raise ValueError(f"{what} {value!r} is listed twice")
        seen.add(value)
    return values
