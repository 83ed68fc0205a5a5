"""``guard_providers``: spoke-explicit-provider (explicit per-account providers, pinned to their account)."""

from __future__ import annotations

from policy_testing import R, U, provider, run_stack

GR = "org-patching"


def _spoke(provider_props: dict, provider_name: str = "222222222222") -> list[R]:
    prov = provider(provider_name, provider_props, project=GR)
    return [R("aws:ssm/patchBaseline:PatchBaseline", "baseline", {}, GR, provider=prov)]


GOOD_PROVIDER = {
    "allowedAccountIds": '["222222222222"]',
    "assumeRoles": '[{"roleArn":"arn:aws:iam::222222222222:role/OrganizationAccountAccessRole"}]',
}


def test_explicit_provider() -> None:
    assert run_stack("spoke-explicit-provider", _spoke(GOOD_PROVIDER)) == []
    [(_, message)] = run_stack("spoke-explicit-provider", [R("aws:ssm/patchBaseline:PatchBaseline", "b", {}, GR)])
    assert "uses the default provider" in message
    default = provider("default_7_51_1", {}, project=GR)
    found = run_stack("spoke-explicit-provider", [R("aws:iam/role:Role", "r", {}, GR, provider=default)])
    assert [m for _, m in found] == ["aws:iam/role:Role 'r' uses the default provider: pass its account's provider."]


def test_explicit_provider_config_mistakes() -> None:
    snake = {**GOOD_PROVIDER, "assumeRoles": '[{"role_arn":"arn:aws:iam::222222222222:role/x"}]'}
    [(_, message)] = run_stack("spoke-explicit-provider", _spoke(snake))
    assert "assumeRoles entry without roleArn" in message
    other = {**GOOD_PROVIDER, "assumeRoles": '[{"roleArn":"arn:aws:iam::333333333333:role/x"}]'}
    [(_, message)] = run_stack("spoke-explicit-provider", _spoke(other))
    assert "a role outside account 222222222222" in message
    [(_, message)] = run_stack("spoke-explicit-provider", _spoke({"assumeRoles": GOOD_PROVIDER["assumeRoles"]}))
    assert "sets no allowedAccountIds" in message
    messages = [m for _, m in run_stack("spoke-explicit-provider", _spoke(GOOD_PROVIDER, "spoke-provider"))]
    assert messages == ["provider 'spoke-provider' is not named by its account id."]
    unknown = {"allowedAccountIds": U, "assumeRoles": U}
    assert run_stack("spoke-explicit-provider", _spoke(unknown)) == []


def test_spoke_resource_uses_its_own_accounts_provider() -> None:
    stack = _spoke(GOOD_PROVIDER)
    stack.insert(0, R("org-patching:spoke:RegionalSpoke", "333333333333-eu-west-1", {}, GR))
    stack[1].parent = "333333333333-eu-west-1"
    assert run_stack("spoke-explicit-provider", stack) == [
        (
            "baseline",
            "aws:ssm/patchBaseline:PatchBaseline 'baseline' belongs to account 333333333333 (its component) "
            "but uses provider '222222222222' of account 222222222222.",
        )
    ]
    stack[0].name = "222222222222-eu-west-1"
    stack[1].parent = stack[0].name
    assert run_stack("spoke-explicit-provider", stack) == []
