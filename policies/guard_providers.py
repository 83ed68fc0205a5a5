"""Guard rail for providers: ``spoke-explicit-provider`` (every AWS resource uses its own
account's explicit provider, and that provider is pinned to that account).

A guard rail runs on org-patching's own stacks only (see ``registry``): it encodes a convention
of docs/DEVELOPING.md so a change that weakens it fails ``pulumi preview`` (and ``patchctl preview``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from policy_docs import ACCOUNT_ARN
from pulumi_policy import (
    EnforcementLevel,
    PolicyProviderResource,
    PolicyResource,
    ReportViolation,
    StackValidationArgs,
)
from registry import stack_policy
from wire import UNKNOWN, as_list, provider_config

_ACCOUNT_IN_NAME = re.compile(r"(?<!\d)(\d{12})(?!\d)")


def _provider_problems(provider: PolicyProviderResource) -> tuple[str | None, list[str]]:
    """(the provider's account, what is wrong with it)."""
    problems: list[str] = []
    match = _ACCOUNT_IN_NAME.search(provider.name)
    account = match.group(1) if match else None
    if account is None:
        problems.append(f"provider '{provider.name}' is not named by its account id")
    allowed = provider_config(provider, "allowedAccountIds")
    if allowed is UNKNOWN:
        pass
    elif not isinstance(allowed, list) or not allowed:
        problems.append(f"provider '{provider.name}' sets no allowedAccountIds")
    elif account is not None and allowed != [account]:
        problems.append(
            f"provider '{provider.name}' allows accounts {', '.join(map(str, allowed))}, not just {account}"
        )
    for role in as_list(provider_config(provider, "assumeRoles")):
        if role is UNKNOWN:
            continue
        arn = role.get("roleArn") if isinstance(role, Mapping) else None
        if arn is UNKNOWN:
            continue
        if not isinstance(arn, str) or not arn:
            # also the typed-dict trap: {"role_arn": ...} reaches the provider verbatim and is ignored
            problems.append(f"provider '{provider.name}' has an assumeRoles entry without roleArn")
            continue
        role_match = ACCOUNT_ARN.match(arn)
        if account is not None and (role_match is None or role_match.group(1) != account):
            problems.append(f"provider '{provider.name}' assumes {arn}, a role outside account {account}")
    return account, problems


@stack_policy(
    name="spoke-explicit-provider",
    description="Every AWS resource uses its own account's explicit provider (never the default provider).",
    remediation=(
        "Pass opts=ResourceOptions(provider=<the account's provider>) (children inherit it from their component); "
        "providers are named by account id, set allowed_account_ids=[<account>] and assume_roles="
        "[aws.ProviderAssumeRoleArgs(role_arn=...)] in that account."
    ),
    group="guard-rail",
    level=EnforcementLevel.MANDATORY,
)
def spoke_explicit_provider(args: StackValidationArgs, report: ReportViolation) -> None:
    """A resource under a component named for an account (a spoke) must use that account's
    provider; a forgotten provider means the default one, i.e. the deploying (hub) account."""
    seen_providers: dict[str, tuple[str | None, list[str]]] = {}
    for resource in args.resources:
        type_ = resource.resource_type
        if not type_.startswith(("aws:", "aws-native:")):
            continue
        provider = resource.provider
        if provider is None or provider.name.startswith("default") or "::default" in provider.urn:
            report(f"{type_} '{resource.name}' uses the default provider: pass its account's provider.", resource.urn)
            continue
        if provider.urn not in seen_providers:
            seen_providers[provider.urn] = _provider_problems(provider)
            for problem in seen_providers[provider.urn][1]:
                report(f"{problem}.", provider.urn)
        account = seen_providers[provider.urn][0]
        owner = _owning_account(resource)
        if owner is not None and account is not None and owner != account:
            report(
                f"{type_} '{resource.name}' belongs to account {owner} (its component) but uses provider "
                f"'{provider.name}' of account {account}.",
                resource.urn,
            )


def _owning_account(resource: PolicyResource) -> str | None:
    """The account id in the name of the nearest ancestor component, if any."""
    parent = resource.parent
    while parent is not None:
        if not parent.resource_type.startswith(("aws:", "aws-native:", "pulumi:")):
            match = _ACCOUNT_IN_NAME.search(parent.name)
            if match:
                return match.group(1)
        parent = parent.parent
    return None
