"""The project's moto extension: AWS APIs moto 5.2 does not implement, added with the
behaviour the AWS API reference documents, so Lambdas, runbook scripts and the state machine
run unmodified against the emulator (tests, ``python -m devkit demo``).

One subpackage per AWS service, shaped the way moto shapes a service (``exceptions``,
``models`` for state and logic, ``responses`` for request parsing, moto's paginator), each
with an idempotent ``install()`` that adds its operations to moto. :func:`install` here
applies them all. Nothing in the product imports this package: it exists only for the emulator.
"""

from __future__ import annotations

import importlib
import pkgutil

_installed = False


def install() -> None:
    """Apply every service package of the extension (safe to call more than once)."""
    global _installed
    if _installed:
        return
    for module in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if module.ispkg:
            importlib.import_module(f"{__name__}.{module.name}").install()
    _installed = True
