"""Window tagging's resource policy names CloudFormation alone, for its own account (issue 13 item 3)."""

from __future__ import annotations

from typing import Any

from components import naming


def test_only_cloudformation_of_the_same_account_may_invoke_window_tagging(child_capture: Any) -> None:
    functions = {
        r.urn: r
        for r in child_capture.of_type("aws:lambda/function:Function")
        if r.inputs["name"] == naming.WINDOW_TAGGING_FUNCTION
    }
    permissions = [
        p
        for p in child_capture.of_type("aws:lambda/permission:Permission")
        if any(f.urn in p.dependencies for f in functions.values())
    ]
    assert functions and len(permissions) == len(functions)  # one per function, nothing else names it
    for permission in permissions:
        account = child_capture.account_of(permission)
        assert permission.inputs["principal"] == "cloudformation.amazonaws.com"
        assert permission.inputs["action"] == "lambda:InvokeFunction"
        assert permission.inputs["sourceAccount"] == account
        assert permission.inputs["function"] == naming.WINDOW_TAGGING_FUNCTION
