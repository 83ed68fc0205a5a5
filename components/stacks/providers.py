"""The one provider factory: every AWS provider the program declares comes from here.

Both stacks use one ``aws.Provider`` per account (the hub's, and one per child account), named
by the account id (renaming a provider replaces everything under it), and each is:

* pinned with ``allowed_account_ids``, so running with the wrong credentials fails at preview
  instead of deploying somewhere else;
* tagging every resource with ``managed-by=org-patching`` plus the stack's ``org-patching:tags``;
* ignoring the tags SSM Quick Setup adds to resources it touches, so they never show as drift;
* for a child account, assuming the deploy role there (:class:`DeployRole`). Regions are per
  resource (``region=``, pulumi-aws 7), so providers grow with accounts, not accounts x regions.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from .. import naming

MANAGED_BY_TAGS = {"managed-by": "org-patching"}
#: Tags other tools (SSM Quick Setup) add to resources we manage; ignored to avoid drift.
IGNORED_TAG_PREFIXES = ["QSConfigName-", "QSConfigId-"]


@dataclass(frozen=True)
class DeployRole:
    """The role the deploying credentials assume in a child account."""

    role_arn: str
    external_id: str | None = None
    session_name: str = naming.CHILD_STACK_SESSION


def account_provider(
    account_id: str, region: pulumi.Input[str], tags: Mapping[str, str], deploy_role: DeployRole | None = None
) -> aws.Provider:
    """The provider of one account (``deploy_role``: assume it there; ``None``: the deploying
    credentials already are that account's, as for the hub). ``region`` may be an Output: the child stack's
    resolves only once its Regions are checked against the hub's (``hub_regions.py``)."""
    return aws.Provider(
        account_id,
        region=region,
        assume_roles=(
            [
                aws.ProviderAssumeRoleArgs(
                    role_arn=deploy_role.role_arn,
                    external_id=deploy_role.external_id,
                    session_name=deploy_role.session_name,
                )
            ]
            if deploy_role is not None
            else None
        ),
        allowed_account_ids=[account_id],
        default_tags=aws.ProviderDefaultTagsArgs(tags={**tags, **MANAGED_BY_TAGS}),
        ignore_tags=aws.ProviderIgnoreTagsArgs(key_prefixes=IGNORED_TAG_PREFIXES),
    )
