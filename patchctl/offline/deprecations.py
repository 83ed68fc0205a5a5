"""Inputs pulumi-aws deprecates in its documentation only, warned about like the ones its schema flags.

pulumi-aws raises a ``DeprecationWarning`` (from its own module) for an input its schema marks deprecated,
e.g. ``aws.ec2.Instance(network_interfaces=...)``. Some deprecations live only in the resource's
documentation: ``aws.iam.Role``'s docstring says "The `inline_policy` argument is deprecated. Use the
`iam.RolePolicy` resource instead" (and the same for ``managed_policy_arns``), yet constructing the role
warns about nothing. The offline renders call :func:`warn_deprecated_inputs` for every resource, so such an
input warns exactly like a schema-flagged one (same category, attributed to the resource's pulumi-aws
module): the test suite turns pulumi-aws deprecation warnings into errors (``pyproject.toml``), and
``patchctl preview`` shows them.
"""

from __future__ import annotations

import importlib
import inspect
import re
import sys
import warnings
from collections.abc import Mapping
from functools import cache
from typing import Any

#: The sentence pulumi-aws's docstrings use for a deprecated argument (Terraform's attribute name).
_DEPRECATED = re.compile(r"The `(\w+)` argument is deprecated\. ([^\n]*)")
#: The warning pulumi-aws's module of a deprecated resource type raises when imported.
_REPLACED = re.compile(r'warnings\.warn\("""\S+ has been deprecated in favor of (\S+)"""')


def _camel(snake: str) -> str:
    head, *rest = snake.split("_")
    return head + "".join(part.title() for part in rest)


def _resource_class(type_token: str) -> type[Any] | None:
    """``aws:iam/role:Role`` -> ``pulumi_aws.iam.Role`` (``None`` for a token that is not a pulumi-aws resource)."""
    parts = type_token.split(":")
    if len(parts) != 3 or parts[0] != "aws" or "/" not in parts[1]:
        return None
    module_name = parts[1].split("/", 1)[0].replace("lambda", "lambda_")
    try:
        module = importlib.import_module(f"pulumi_aws.{module_name}")
    except ImportError:
        return None
    found = getattr(module, parts[2], None)
    return found if inspect.isclass(found) else None


@cache
def documented_deprecations(type_token: str) -> Mapping[str, tuple[str, str]]:
    """Input name (camelCase, as rendered) -> (message, pulumi-aws module) for the resource's documented-only
    deprecations. The Terraform attribute the docs name (``inline_policy``) is matched to the SDK's argument
    (``inline_policies``) by prefix."""
    cls = _resource_class(type_token)
    if cls is None:
        return {}
    parameters = [p for p in inspect.signature(cls._internal_init).parameters if not p.startswith("_")]
    found: dict[str, tuple[str, str]] = {}
    # The sentence is in the docstrings of the typed ``__init__`` overloads, which Python does not keep: read
    # the module's source (pulumi-aws ships it).
    source = inspect.getsource(sys.modules[cls.__module__])
    for attribute, advice in dict(_DEPRECATED.findall(source)).items():
        stem = attribute[:-1] if attribute.endswith("y") else attribute
        for parameter in parameters:
            if parameter == attribute or parameter.startswith(stem):
                found[_camel(parameter)] = (f"{parameter} is deprecated: {advice}", cls.__module__)
                break
    return found


@cache
def deprecated_resource(type_token: str) -> tuple[str, str] | None:
    """(message, pulumi-aws module) when the resource type itself is deprecated, else ``None``.

    pulumi-aws warns about such a type when its module is imported, whether or not a program declares one, so
    the suite ignores that import-time warning (``pyproject.toml``) and the renders warn per declared resource."""
    cls = _resource_class(type_token)
    if cls is None:
        return None
    found = _REPLACED.search(inspect.getsource(sys.modules[cls.__module__]))
    if found is None:
        return None
    return f"{type_token}: the resource type is deprecated, use {found.group(1)} instead", cls.__module__


def warn_deprecated_inputs(type_token: str, inputs: Mapping[str, Any]) -> None:
    """Warn (``DeprecationWarning``, attributed to pulumi-aws) for a deprecated resource type and for each
    documented-deprecated input set."""
    replaced = deprecated_resource(type_token)
    if replaced is not None:
        warnings.warn_explicit(replaced[0], DeprecationWarning, f"{replaced[1]}.py", 0, module=replaced[1])
    for name, (message, module) in documented_deprecations(type_token).items():
        if inputs.get(name) not in (None, [], {}):
            warnings.warn_explicit(f"{type_token}: {message}", DeprecationWarning, f"{module}.py", 0, module=module)
