"""Evaluate one request against one rendered policy document, for the tests that attack them.

The statement logic (wildcards, policy variables, condition operators, absent keys) is the IAM
replay's (``devkit/iam_replay/policy_logic.py``, written to the IAM User Guide's "Policy
evaluation logic" and "Condition operators"), so the attacks on rendered documents and the replay
of the runtime's calls cannot disagree. This module adds what a resource policy needs on its own:

* ``Principal`` ``*`` or ``{"AWS": "*"}`` matches every principal, an account root matches every
  principal of that account, a service matches itself;
* an explicit ``Deny`` wins over any ``Allow``; nothing matching is an implicit deny.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from devkit.iam_replay.policy_logic import any_statement_matches

Decision = Literal["allow", "deny", "implicit-deny"]


@dataclass(frozen=True)
class Request:
    """One call: who (an ARN, or ``service:<name>``), what action, on which resource, with which context."""

    principal: str
    action: str
    resource: str
    context: Mapping[str, str | Sequence[str]] = field(default_factory=dict)


def _many(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _principal_matches(principal: Any, who: str) -> bool:
    if principal == "*":
        return True
    if not isinstance(principal, Mapping):
        return False
    if who.startswith("service:"):
        return who.removeprefix("service:") in _many(principal.get("Service", []))
    for allowed in _many(principal.get("AWS", [])):
        if allowed == "*" or allowed == who:
            return True
        account = who.split(":")[4] if who.count(":") >= 5 else None
        if allowed in (account, f"arn:aws:iam::{account}:root"):
            return True
    return False


def evaluate(document: Mapping[str, Any], request: Request, *, resource_policy: bool = True) -> Decision:
    """The document's answer to ``request`` on its own (``resource_policy``: match ``Principal``)."""
    statements = [
        s
        for s in _many(document.get("Statement", []))
        if not resource_policy or _principal_matches(s.get("Principal"), request.principal)
    ]
    policy = [{"Statement": statements}]
    if any_statement_matches(policy, "Deny", request.action, request.resource, request.context):
        return "deny"
    if any_statement_matches(policy, "Allow", request.action, request.resource, request.context):
        return "allow"
    return "implicit-deny"


def role_policy_documents(capture: Any, role: Any) -> list[str]:
    """The JSON text of every inline policy a rendered role gets: its ``RolePolicy`` resources (matched by the
    role's name, in the role's account) and any ``inlinePolicies`` on the Role itself (a deprecated input the
    renders refuse, kept so a regression still shows its documents)."""
    # the RolePolicy's ``role`` is the role's name or its id (the provider's id of a role is its name; the offline
    # mocks give it an id of its own)
    names = {role.outputs.get("name") or role.inputs.get("name"), role.id} - {None, ""}
    account = capture.account_of(role)
    texts = [str(p["policy"]) for p in role.inputs.get("inlinePolicies") or [] if isinstance(p.get("policy"), str)]
    texts += [
        str(p.inputs["policy"])
        for p in capture.of_type("aws:iam/rolePolicy:RolePolicy")
        if p.inputs.get("role") in names and capture.account_of(p) == account
    ]
    return texts
