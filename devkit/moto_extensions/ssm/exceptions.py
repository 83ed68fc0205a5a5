"""Errors of the SSM operations the extension adds, with the codes the SSM API reference gives them.

They subclass moto's ``SSMException``, so moto serialises them the way botocore expects and a
client sees the modelled exception. ``ValidationException`` and ``InvalidDocument`` are moto's own.
"""

from __future__ import annotations

from moto.ssm.exceptions import InvalidDocument, SSMException, ValidationException

__all__ = [
    "AssociationAlreadyExists",
    "AssociationDoesNotExist",
    "AutomationError",
    "InvalidDocument",
    "InvalidDocumentType",
    "InvalidFilter",
    "InvalidFilterKey",
    "InvalidInstanceId",
    "InvalidInstanceInformationFilterValue",
    "InvalidItemContentException",
    "InvalidNextToken",
    "InvalidResourceType",
    "InvalidSchedule",
    "InvalidTarget",
    "ItemSizeLimitExceededException",
    "ResourceDataSyncAlreadyExistsException",
    "ResourceDataSyncCountExceededException",
    "ResourceDataSyncInvalidConfigurationException",
    "ResourceDataSyncNotFoundException",
    "ValidationException",
]


class InvalidDocumentType(SSMException):
    """GetCalendarState on a document that is not a change calendar (botocore: its error shapes)."""

    code = "InvalidDocumentType"


class InvalidInstanceId(SSMException):
    code = "InvalidInstanceId"


class InvalidFilter(SSMException):
    code = "InvalidFilter"


class InvalidInstanceInformationFilterValue(SSMException):
    code = "InvalidInstanceInformationFilterValue"


class InvalidFilterKey(SSMException):
    code = "InvalidFilterKey"


class InvalidNextToken(SSMException):
    """What moto's paginator raises for a token it cannot read (``fail_on_invalid_token``)."""

    code = "InvalidNextToken"
    message = "The specified token isn't valid."


class InvalidResourceType(SSMException):
    code = "InvalidResourceType"


class InvalidItemContentException(SSMException):
    code = "InvalidItemContentException"


class ItemSizeLimitExceededException(SSMException):
    code = "ItemSizeLimitExceededException"


class ResourceDataSyncAlreadyExistsException(SSMException):
    code = "ResourceDataSyncAlreadyExistsException"


class ResourceDataSyncNotFoundException(SSMException):
    code = "ResourceDataSyncNotFoundException"


class ResourceDataSyncCountExceededException(SSMException):
    code = "ResourceDataSyncCountExceededException"


class ResourceDataSyncInvalidConfigurationException(SSMException):
    code = "ResourceDataSyncInvalidConfigurationException"


class AssociationDoesNotExist(SSMException):
    code = "AssociationDoesNotExist"


class AssociationAlreadyExists(SSMException):
    code = "AssociationAlreadyExists"


class InvalidSchedule(SSMException):
    code = "InvalidSchedule"


class InvalidTarget(SSMException):
    code = "InvalidTarget"


class AutomationError(SSMException):
    """An Automation error whose code is given when raised (``AutomationExecutionNotFoundException``,
    ``InvalidAutomationExecutionParametersException``, ...): botocore turns it into the modelled exception."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(code, message)
