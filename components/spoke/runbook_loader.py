"""The spoke's SSM Automation runbooks as the program deploys them.

The runbooks (YAML + the Python of their ``aws:executeScript`` steps) are written and tested in
``components/spoke/runbooks`` (``render_runbook(name) -> str``); this module only loads them
and reads which parameters each declares, so a maintenance-window task passes exactly the
parameters its runbook accepts (SSM rejects an execution with an undeclared parameter).
"""

from __future__ import annotations

import functools
from typing import Any

import yaml

from .. import naming

RUNBOOKS = (naming.RUNBOOK_STANDALONE, naming.RUNBOOK_ASG)


@functools.cache
def load_runbooks() -> dict[str, str]:
    """Runbook name -> YAML, rendered with their scripts inlined."""
    from .runbooks import render_runbook

    return {name: str(render_runbook(name)) for name in RUNBOOKS}


@functools.cache
def declared_parameters(content: str) -> frozenset[str]:
    """The parameter names a runbook declares (``parameters:`` of schema 0.3); cached: the same
    two documents are read for every account and region."""
    document: Any = yaml.safe_load(content) or {}
    parameters = document.get("parameters") if isinstance(document, dict) else None
    return frozenset(parameters) if isinstance(parameters, dict) else frozenset()
