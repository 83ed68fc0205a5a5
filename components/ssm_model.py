"""AWS enums and patterns read from botocore's SSM service model, never typed by hand.

Config validation and the tests both ask this module, so a value SSM would reject (an
operating system, a patch filter key, a compliance level) fails at preview time.
"""

from __future__ import annotations

import functools
from typing import Any

from . import botocore_data


@functools.cache
def _shapes() -> Any:
    return botocore_data.service_model("ssm")


def service_model() -> Any:
    """botocore's SSM service model, loaded once per program run (each session would parse it anew): the
    config's enum checks and the baseline override's validation share it."""
    return _shapes()


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
