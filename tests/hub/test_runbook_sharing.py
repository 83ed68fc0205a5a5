"""The hub's runbooks are shared with the organization's accounts (issue 12 item 9): a custom runbook
started with TargetLocations must be shared with every target account, or it fails there."""

from __future__ import annotations

from typing import Any

import pytest

from components import naming
from components.hub.emergency_patching import MAX_SHARED_ACCOUNTS, _share


def test_the_hubs_runbooks_are_shared_with_every_configured_account(central_capture: Any, central_config: Any) -> None:
    documents = [
        d
        for d in central_capture.of_type("aws:ssm/document:Document")
        if d.inputs["name"] in (naming.RUNBOOK_STANDALONE, naming.RUNBOOK_ASG)
    ]
    # one copy per Region the children patch (the child windows run the copy of their Region by ARN); the home
    # Region's keeps its URN (no region input: the provider's)
    copies = sorted((d.inputs.get("region") or central_config.home_region, d.inputs["name"]) for d in documents)
    assert copies == sorted(
        (region, name) for region in central_config.regions for name in (naming.RUNBOOK_STANDALONE, naming.RUNBOOK_ASG)
    )
    assert {d.urn.split("::")[-1] for d in documents if "region" not in d.inputs} == {
        f"hub-emergency-{naming.RUNBOOK_ASG}",
        f"hub-emergency-{naming.RUNBOOK_STANDALONE}",
    }
    expected = sorted(a for a in central_config.accounts if a != central_config.central_account_id)
    for document in documents:
        assert document.inputs["permissions"] == {"type": "Share", "account_ids": ",".join(expected)}


def test_share_is_account_ids_only_and_at_most_1000() -> None:
    assert _share([], "111111111111") is None
    assert _share(["111111111111"], "111111111111") is None  # never the hub itself
    accounts = [str(200000000000 + i) for i in range(MAX_SHARED_ACCOUNTS + 1)]
    assert _share(accounts[:MAX_SHARED_ACCOUNTS], "111111111111") is not None
    with pytest.raises(ValueError, match="at most 1000"):
        _share(accounts, "111111111111")
