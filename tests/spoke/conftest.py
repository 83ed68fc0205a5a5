"""Fixtures of the child-stack tests: the example child stack (and variants) rendered under mocks."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def child_config():  # type: ignore[no-untyped-def]
    from components.config import load_stack_file

    return load_stack_file(REPO_ROOT / "Pulumi.child.yaml")


@pytest.fixture(scope="session")
def render_child(central_capture: Any) -> Callable[..., Any]:
    """Render a child config (the example's, with ``overrides`` of ``org-patching:`` keys)."""
    import yaml

    from components.config import parse_config
    from patchctl.stack_render import render_stack

    raw = yaml.safe_load((REPO_ROOT / "Pulumi.child.yaml").read_text())["config"]

    def render(**overrides: Any) -> Any:
        values = dict(raw)
        values.update({f"org-patching:{key}": value for key, value in overrides.items()})
        return render_stack(parse_config(values), central_capture.outputs)

    return render


@pytest.fixture(scope="session")
def child_capture(render_child: Callable[..., Any]) -> Any:
    """The example child stack (2 accounts x 2 regions)."""
    return render_child()
