"""Service rules moto does not enforce, checked before the mapping's API call.

Each rule names its source, so it can be re-checked against AWS's documentation. A rule
returns the reason a request would be refused, or ``None``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any


def s3_lifecycle_rule_errors(rules: Sequence[Mapping[str, Any]]) -> list[str]:
    """S3 ``PutBucketLifecycleConfiguration``: in one rule, ``Expiration.Days`` must be greater
    than every ``Transition.Days``, else S3 answers ``InvalidArgument`` ("'Days' in the
    Expiration action for filter ... must be greater than 'Days' in the Transition action").
    Source: Amazon S3 User Guide, "Lifecycle configuration elements" (Transition and
    Expiration in the same rule); moto 5 accepts the rule.

    ``rules`` use the pulumi-aws input names (``expiration.days``, ``transitions[].days``)."""
    errors = []
    for rule in rules:
        expiration = rule.get("expiration") or {}
        expire_days = expiration.get("days")
        if not expire_days:
            continue
        for transition in rule.get("transitions") or []:
            days = transition.get("days")
            if days is not None and int(expire_days) <= int(days):
                errors.append(
                    f"InvalidArgument: lifecycle rule {rule.get('id')!r}: 'Days' in the Expiration action "
                    f"({int(expire_days)}) must be greater than 'Days' in the Transition action ({int(days)}, "
                    f"{transition.get('storageClass')})"
                )
    return errors


def config_rule_needs_recorder(recorders: Sequence[Any]) -> str | None:
    """AWS Config ``PutConfigRule`` raises ``NoAvailableConfigurationRecorderException`` in a
    region without a configuration recorder (botocore ``config`` service model, the operation's
    error list); moto 5 creates the rule anyway."""
    if recorders:
        return None
    return "NoAvailableConfigurationRecorderException: there is no configuration recorder in this account and region"


def role_boundary_must_exist(boundary_arn: str, policy_exists: bool) -> str | None:
    """IAM sets a role's permissions boundary only to an existing managed policy: ``PutRolePermissionsBoundary``
    raises ``NoSuchEntity`` for one that does not exist (botocore ``iam`` service model, the operation's error list;
    CreateRole's ``PermissionsBoundary`` names the same managed policy, IAM API Reference). moto 5 stores any ARN.
    The child roles' boundary comes from the hub's bootstrap StackSet (``devkit.applier.bootstrap``)."""
    if policy_exists:
        return None
    return f"NoSuchEntity: the permissions boundary {boundary_arn} does not exist in this account"
