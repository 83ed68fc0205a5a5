"""What the hub's bootstrap StackSet leaves in every member account that the child stack relies on.

The central stack's service-managed StackSet (``components/hub/deploy_role_bootstrap.yaml``) creates, in every
account of its targets, the deploy role and two managed policies: the deploy role's boundary and
``org-patching-child-role-boundary``, which every role of the child stack names as its permissions boundary. When the
central stack's StackSet targets the emulated organization (the demo, ``tests/devkit/test_enrollment.py``), its stack
instances create them. The example configs' StackSet targets an OU the emulated organization lacks, so
:func:`ensure_child_role_boundary` creates the policy as the StackSet would, from the template's own document,
in every configured child account that lacks it; IAM refuses a role whose boundary does not exist
(``devkit.applier.rules.role_boundary_must_exist``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from cfnlint.decode import decode_str

from components import naming
from components.hub.deploy_role_bootstrap import TEMPLATE_FILE
from devkit.emulator import Emulator

#: The template's logical id of the child-role boundary.
CHILD_ROLE_BOUNDARY_RESOURCE = "ChildRoleBoundary"


def _substituted(value: Any, partition: str, account: str) -> Any:
    """The template's ``!Sub`` strings with the pseudo parameters CloudFormation fills in a member account."""
    if isinstance(value, dict) and set(value) == {"Fn::Sub"}:
        return str(value["Fn::Sub"]).replace("${AWS::Partition}", partition).replace("${AWS::AccountId}", account)
    if isinstance(value, dict):
        return {key: _substituted(item, partition, account) for key, item in value.items()}
    if isinstance(value, list):
        return [_substituted(item, partition, account) for item in value]
    return value


def child_role_boundary(partition: str, account: str) -> tuple[str, str, dict[str, Any]]:
    """The boundary policy's name, description and document in ``account``, as the template declares them."""
    template, _ = decode_str(TEMPLATE_FILE.read_text())
    properties = template["Resources"][CHILD_ROLE_BOUNDARY_RESOURCE]["Properties"]
    document: dict[str, Any] = _substituted(properties["PolicyDocument"], partition, account)
    return str(properties["ManagedPolicyName"]), str(properties["Description"]), document


def ensure_child_role_boundary(emu: Emulator, accounts: Iterable[str], partition: str = "aws") -> list[str]:
    """Create ``org-patching-child-role-boundary`` in each account lacking it; returns the accounts it was made in."""
    made = []
    for account in accounts:
        iam = emu.session(account, "us-east-1").client("iam")
        arn = naming.child_role_boundary_arn(partition, account)
        try:
            iam.get_policy(PolicyArn=arn)
            continue
        except iam.exceptions.NoSuchEntityException:
            pass
        name, description, document = child_role_boundary(partition, account)
        iam.create_policy(PolicyName=name, Description=description, PolicyDocument=json.dumps(document))
        made.append(account)
    return made
