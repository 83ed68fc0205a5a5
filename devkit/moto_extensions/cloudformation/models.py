"""Service-managed StackSets as AWS runs them: the hub's bootstrap reaches every account of its OUs, now and later.

What moto 5.2 lacks, added with the behaviour the AWS CloudFormation User Guide documents:

* Targets include nested OUs: AWS deploys to "the accounts in the specified OUs and their child OUs" at any
  depth; moto looks one level down.
* Automatic deployment ("Enable or disable automatic deployments for StackSets in AWS Organizations"): with
  ``AutoDeployment.Enabled``, an account added to a target OU gets the stack instances of the stack set's
  regions. moto ignores ``AutoDeployment``; here it is recorded, and ``MoveAccount`` / ``CreateAccount`` into a
  target deploy them.
"""

from __future__ import annotations

from typing import Any

from moto.cloudformation.models import StackInstances, cloudformation_backends
from moto.cloudformation.responses import CloudFormationResponse
from moto.organizations.models import OrganizationsBackend, organizations_backends

_installed = False


def _ancestors(org: Any, parent_id: str) -> list[str]:
    """``parent_id`` and every OU (and the root) above it."""
    chain = [parent_id]
    by_id = {ou.id: ou for ou in org.ou}
    while chain[-1] in by_id and getattr(by_id[chain[-1]], "parent_id", None):
        chain.append(by_id[chain[-1]].parent_id)
    return chain


def _install_instances() -> None:
    original = StackInstances.create_instances

    def create_instances(
        self: StackInstances,
        accounts: list[str],
        regions: list[str],
        parameters: list[dict[str, Any]] | None,
        deployment_targets: dict[str, Any],
        permission_model: str,
    ) -> list[dict[str, Any]]:
        if permission_model != "SERVICE_MANAGED":
            return original(self, accounts, regions, parameters, deployment_targets, permission_model)
        ous = list(deployment_targets.get("OrganizationalUnitIds", []))
        # what auto-deployment needs later (moto keeps neither): the (OU, region) targets and their parameters
        setattr(self, "targets", getattr(self, "targets", set()) | {(ou, region) for ou in ous for region in regions})  # noqa: B010
        if ous:
            setattr(self, "target_parameters", parameters)  # noqa: B010
        members = [a.id for a in self.org_backend.accounts if set(_ancestors(self.org_backend, a.parent_id)) & set(ous)]
        # every member at any depth, as explicit accounts (moto itself looks one OU level down)
        return original(self, [*accounts, *members], regions, parameters, {}, permission_model)

    StackInstances.create_instances = create_instances  # type: ignore[method-assign]


def _install_auto_deployment() -> None:
    original = CloudFormationResponse.create_stack_set

    def create_stack_set(self: CloudFormationResponse) -> Any:
        result = original(self)
        auto = self._get_param("AutoDeployment") or {}
        enabled = str(auto.get("Enabled", "false")).lower() == "true" if isinstance(auto, dict) else False
        name = self._get_param("StackSetName")
        stack_set = self.cloudformation_backend.describe_stack_set(name)
        setattr(stack_set, "auto_deployment", enabled)  # noqa: B010  (moto drops AutoDeployment)
        return result

    CloudFormationResponse.create_stack_set = create_stack_set  # type: ignore[method-assign]


def auto_deploy(org: OrganizationsBackend, account_id: str) -> None:
    """Give ``account_id`` the stack instances of every auto-deploying stack set that targets its OU."""
    account = org.get_account_by_id(account_id)
    chain = set(_ancestors(org, account.parent_id))
    for owner in list(cloudformation_backends.keys()):
        for backend in list(cloudformation_backends[owner].values()):
            for stack_set in list(getattr(backend, "stacksets", {}).values()):
                instances = stack_set.instances
                if not getattr(stack_set, "auto_deployment", False) or stack_set.status == "DELETED":
                    continue
                if getattr(instances, "org_backend", None) is not org:
                    continue
                regions = sorted({r for ou, r in getattr(instances, "targets", set()) if ou in chain})
                if regions:
                    stack_set.create_stack_instances(
                        [account_id],
                        regions,
                        {"OrganizationalUnitIds": []},
                        getattr(instances, "target_parameters", []),
                    )


def _install_organizations() -> None:
    original_move = OrganizationsBackend.move_account
    original_create = OrganizationsBackend.create_account

    def move_account(self: OrganizationsBackend, **kwargs: Any) -> None:
        original_move(self, **kwargs)
        auto_deploy(self, kwargs["AccountId"])

    def create_account(self: OrganizationsBackend, **kwargs: Any) -> dict[str, Any]:
        status = original_create(self, **kwargs)
        auto_deploy(self, status["CreateAccountStatus"]["AccountId"])
        return status

    OrganizationsBackend.move_account = move_account  # type: ignore[method-assign]
    OrganizationsBackend.create_account = create_account  # type: ignore[method-assign]


def install() -> None:
    """Apply both behaviours (idempotent)."""
    global _installed
    if _installed:
        return
    _install_instances()
    _install_auto_deployment()
    _install_organizations()
    _installed = True


__all__ = ["auto_deploy", "install", "organizations_backends"]
