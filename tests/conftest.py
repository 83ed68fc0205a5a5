"""Shared pytest fixtures. Several areas add fixtures here: keep each block self-contained and named."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

# --- runtime (Lambdas, runbook scripts, moto extensions): moto with several accounts --------------------------


@pytest.fixture(autouse=True, scope="module")
def _tidy_failed_programs() -> Iterator[None]:
    """After every test module: retrieve what a Pulumi program that failed on purpose left behind
    (tests/pulumi_leftovers.py). Collected later, inside another module's compile(), it raises
    Python 3.11's ``SystemError: AST constructor recursion depth mismatch`` in an unrelated test.
    Once per module (about 50 ms each), not per test."""
    yield
    from tests.pulumi_leftovers import collect_failed_program_leftovers

    collect_failed_program_leftovers()


@pytest.fixture
def moto_aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The dev kit's emulator (moto in-process, fake credentials, the project's moto extension),
    reached through ``tests.aws``; no retry sleeps."""
    from devkit.emulator import Emulator
    from tests import aws

    aws.zero_backoff(monkeypatch)
    aws.guard_injected_requests(monkeypatch)
    with Emulator() as emulator, aws.running(emulator):
        yield


# --- program rendering (the offline harness): the example stacks, rendered once per session -----------------

REPO_ROOT = __import__("pathlib").Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def central_config():  # type: ignore[no-untyped-def]
    from components.config import load_stack_file

    return load_stack_file(REPO_ROOT / "Pulumi.central.yaml")


@pytest.fixture(scope="session")
def central_capture(central_config):  # type: ignore[no-untyped-def]
    """The example central stack rendered under mocks (shared: rendering is the slow part)."""
    from patchctl.stack_render import render_stack

    return render_stack(central_config)


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
        cfg = parse_config(values)
        # the example hub as configured for every Region this child patches (its `regions` output; a child Region
        # outside the hub's fails the render: tests/stacks/test_hub_regions.py)
        used = [*cfg.regions, *(r for account in cfg.accounts or [] for r in account.regions or [])]
        hub_regions = list(central_capture.outputs["regions"])
        hub = {
            **central_capture.outputs,
            "regions": hub_regions + [r for r in dict.fromkeys(used) if r not in hub_regions],
        }
        return render_stack(cfg, hub)

    return render


@pytest.fixture(scope="session")
def child_capture(render_child: Callable[..., Any]) -> Any:
    """The example child stack (2 accounts x 2 regions), shared by the stack and spoke tests."""
    return render_child()


# --- reporting and the dev kit's synthetic fleet: one generated fleet, shared by the session --------------------


@pytest.fixture(scope="session")
def fleet(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """A small fleet with every case present (``tests.report.helpers.SPEC``); tests only read it."""
    from devkit.fleet import generate_fleet
    from tests.report.helpers import SPEC, Fleet

    root = tmp_path_factory.mktemp("bucket")
    return Fleet(root, SPEC, generate_fleet(root, SPEC))
