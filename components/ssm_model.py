"""AWS enums and patterns read from botocore's SSM service model, never typed by hand.

Config validation and the tests both ask this module, so a value SSM would reject (an
operating system, a patch filter key, a compliance level) fails at preview time.
"""

from __future__ import annotations

import functools
from typing import Any

import botocore.session


@functools.cache
def _shapes() -> Any:
    return botocore.session.get_session().get_service_model("ssm")


def enum(shape_name: str) -> frozenset[str]:
    """The allowed values of an SSM enum shape (``OperatingSystem``, ``PatchFilterKey`` …)."""
    shape = _shapes().shape_for(shape_name)
    values = shape.enum
    if not values:
        raise KeyError(f"SSM shape {shape_name} is not an enum")
    return frozenset(values)


def operating_systems() -> frozenset[str]:
    return enum("OperatingSystem")


def patch_filter_keys() -> frozenset[str]:
    return enum("PatchFilterKey")


def compliance_levels() -> frozenset[str]:
    return enum("PatchComplianceLevel")
