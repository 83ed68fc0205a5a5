"""Service Catalog: the launch-constraint rule AWS enforces (and the Pulumi mocks otherwise would not).

Source: botocore's ``servicecatalog`` model, ``CreateConstraintInput.Parameters`` (the API reference's
CreateConstraint): with ``LocalRoleName``, "The given role name must exist in the account used to create the
launch constraint and the account of the user who launches a product with this launch constraint."

Pure (no moto import): the offline mocks (``patchctl/offline/mocks.py``) check a rendered
``aws:servicecatalog/constraint:Constraint`` against the roles the same program declared in that account;
the dev kit's emulator checks ``CreateConstraint`` against IAM (``devkit/applier/moto_gaps.py``).
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from typing import Any


def constraint_refusal(inputs: Mapping[str, Any], account: str, roles_in_account: Collection[str]) -> str | None:
    """The InvalidParametersException message for this constraint, or ``None`` when AWS accepts it."""
    if inputs.get("type") != "LAUNCH":
        return None
    try:
        parameters = json.loads(str(inputs.get("parameters") or "{}"))
    except json.JSONDecodeError:
        return "Parameters is not valid JSON"
    role = parameters.get("LocalRoleName") if isinstance(parameters, dict) else None
    if role is None or role in roles_in_account:
        return None
    return f"LocalRoleName {role} is not a role of account {account} (it must exist where the constraint is created)"
