"""moto's ModifyDocumentPermission refuses what AWS refuses: more than 20 accounts in one call, more than
1,000 accounts sharing one document.

Sources: botocore's SSM model (``AccountIdList``, ``max: 20``, the type of ``AccountIdsToAdd`` and
``AccountIdsToRemove``) and the AWS Systems Manager User Guide, "Sharing SSM documents" ("you can share a
document with a maximum of 1000 AWS accounts"; "you can share ... by specifying the account IDs", an account id
or ``All``: no organization or OU principal). moto checks the ids' pattern only, so a program that shares a
runbook with the whole organization in one call would pass here and fail on AWS.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

MAX_ACCOUNTS_PER_CALL = 20
MAX_SHARED_ACCOUNTS = 1000


def install() -> None:
    """Patch moto's SSM response class (idempotent)."""
    from moto.core.responses import ActionResult
    from moto.ssm.exceptions import DocumentPermissionLimit, ValidationException
    from moto.ssm.responses import SimpleSystemManagerResponse

    original: Callable[[SimpleSystemManagerResponse], ActionResult] = getattr(
        SimpleSystemManagerResponse.modify_document_permission,
        "_moto_original",
        SimpleSystemManagerResponse.modify_document_permission,
    )

    def modify_document_permission(self: SimpleSystemManagerResponse) -> Any:
        adding = list(self._get_param("AccountIdsToAdd") or [])
        removing = list(self._get_param("AccountIdsToRemove") or [])
        for field, ids in (("accountIdsToAdd", adding), ("accountIdsToRemove", removing)):
            if len(ids) > MAX_ACCOUNTS_PER_CALL:
                raise ValidationException(
                    f"1 validation error detected: Value at '{field}' failed to satisfy constraint: "
                    f"Member must have length less than or equal to {MAX_ACCOUNTS_PER_CALL}"
                )
        documents = self.ssm_backend._documents.get(self._get_param("Name"))
        if documents is not None and adding != ["all"]:
            shared = (set(documents.permissions) - {"all"} | set(adding)) - set(removing)
            if len(shared) > MAX_SHARED_ACCOUNTS:
                raise DocumentPermissionLimit(
                    f"Document can be shared with at most {MAX_SHARED_ACCOUNTS} accounts ({len(shared)} requested)."
                )
        return original(self)

    modify_document_permission._moto_original = original  # type: ignore[attr-defined]
    SimpleSystemManagerResponse.modify_document_permission = modify_document_permission  # type: ignore[method-assign]
