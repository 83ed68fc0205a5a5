"""Run a Pulumi program under the SDK's mocks and capture what the engine would register.

Two entry points:

* ``render(build, ...)``: call a Python function that declares resources (our program's
  ``build_central``/``build_child``), the fast path for tests and ``patchctl preview``;
* ``render_program(directory, ...)``: execute any Pulumi Python program's ``__main__.py``
  with its stack config, the path ``patchctl policy-check`` uses for app-team programs.

Each render is independent: a fresh monitor, a fresh root stack, fresh config.
"""

from __future__ import annotations

import contextlib
import json
import runpy
import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
import pulumi.runtime.config as runtime_config
from pulumi.runtime import settings as runtime_settings
from pulumi.runtime.stack import Stack

from .mocks import AwsMocks
from .monitor import STACK_TYPE, Recorded, RecordedInvoke, RecordingMonitor


@dataclass
class Capture:
    """Everything one render registered."""

    project: str
    stack: str
    resources: list[Recorded]
    invokes: list[RecordedInvoke]
    mocks: AwsMocks
    result: Any = None
    warnings: list[str] = field(default_factory=list)

    @property
    def by_urn(self) -> dict[str, Recorded]:
        return {r.urn: r for r in self.resources}

    def of_type(self, type_token: str) -> list[Recorded]:
        return [r for r in self.resources if r.type == type_token]

    def one(self, type_token: str, name: str | None = None) -> Recorded:
        matches = [r for r in self.of_type(type_token) if name is None or r.name == name]
        if len(matches) != 1:
            raise LookupError(f"expected one {type_token} named {name!r}, found {len(matches)}")
        return matches[0]

    def children_of(self, urn: str) -> list[Recorded]:
        return [r for r in self.resources if r.parent == urn]

    def descendants_of(self, urn: str) -> list[Recorded]:
        found: list[Recorded] = []
        frontier = [urn]
        while frontier:
            parent = frontier.pop()
            for child in self.children_of(parent):
                found.append(child)
                frontier.append(child.urn)
        return found

    @property
    def stack_resource(self) -> Recorded:
        return next(r for r in self.resources if r.type == STACK_TYPE)

    @property
    def outputs(self) -> dict[str, Any]:
        """The stack outputs (``pulumi.export``), as the engine would store them."""
        return dict(self.stack_resource.outputs)

    def account_of(self, record: Recorded) -> str:
        return self.mocks.account_of(record.provider_ref)

    def region_of(self, record: Recorded) -> str:
        return self.mocks.region_of(record.provider_ref, record.inputs)


def _config_strings(config: Mapping[str, Any]) -> dict[str, str]:
    """The engine passes config as strings; structured values as JSON text."""
    return {k: v if isinstance(v, str) else json.dumps(v) for k, v in config.items()}


def render(
    build: Callable[[], Any],
    *,
    mocks: AwsMocks | None = None,
    project: str = "org-patching",
    stack: str = "dev",
    preview: bool = False,
    config: Mapping[str, Any] | None = None,
    monitor: RecordingMonitor | None = None,
) -> Capture:
    """Run ``build()`` under mocks; return after every registration has completed.

    ``monitor``: a recording monitor of one's own over the same ``mocks`` (the dev kit's applier
    passes one that tells its mocks each resource's URN)."""
    mocks = mocks or AwsMocks()
    monitor = monitor or RecordingMonitor(mocks)
    runtime_config.set_all_config(_config_strings(config or {}))
    # set_mocks() creates a root Stack and registers its (empty) outputs at once, so later
    # exports would be lost. Keep it from doing that, and create the Stack ourselves so the
    # program's exports are registered at the end, as the engine does.
    runtime_settings.ROOT.set(_NOT_YET)  # type: ignore[arg-type]
    pulumi.runtime.set_mocks(mocks, project=project, stack=stack, preview=preview, monitor=monitor)
    runtime_settings.ROOT.set(None)
    box: dict[str, Any] = {}

    @pulumi.runtime.test
    def run() -> None:
        root = Stack()
        try:
            box["result"] = build()
        finally:
            root._finish()

    try:
        run()
    finally:
        runtime_settings.ROOT.set(None)
    return Capture(project, stack, monitor.records, monitor.invokes, mocks, box.get("result"), list(mocks.warnings))


_NOT_YET = object()


class ProgramError(Exception):
    """The program directory cannot be rendered (one line: what and where)."""


def read_stack_config(path: Path) -> dict[str, Any]:
    import yaml

    try:
        document = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as error:
        raise ProgramError(f"{path}: not valid YAML ({str(error).splitlines()[0]})") from None
    config = document.get("config") or {}
    if not isinstance(config, dict):
        raise ProgramError(f"{path}: 'config' must be a mapping")
    return config


def _project_name(directory: Path) -> str:
    import yaml

    for candidate in ("Pulumi.yaml", "Pulumi.yml"):
        file = directory / candidate
        if file.exists():
            project = yaml.safe_load(file.read_text()) or {}
            runtime = project.get("runtime")
            runtime_name = runtime.get("name") if isinstance(runtime, dict) else runtime
            if runtime_name != "python":
                raise ProgramError(f"{file}: runtime is {runtime_name!r}; only Python programs can be rendered offline")
            return str(project.get("name") or directory.name)
    raise ProgramError(f"{directory}: no Pulumi.yaml (not a Pulumi project directory)")


@contextmanager
def program_imports(directory: Path, *, keep_modules: bool = False) -> Iterator[None]:
    """Imports as the Pulumi Python language host gives them to a program: ``directory`` first on
    ``sys.path`` while the block runs; afterwards the path is restored (whatever the program
    added to it too) and every module imported from ``directory`` is forgotten, unless
    ``keep_modules`` (a policy pack's policies keep calling its modules after it is loaded).

    Why edit ``sys.path`` and ``sys.modules`` at all: the language host runs each program in a
    fresh process, where the program's directory is on the path and its own modules are new.
    patchctl renders programs in its own process, one after another, so it gives each the same
    start and takes it back afterwards (a second render, or another program with a module of the
    same name, must not see the first one's). This is the one place patchctl edits either.
    """
    old_path = list(sys.path)
    old_modules = set(sys.modules)
    sys.path.insert(0, str(directory))
    try:
        yield
    finally:
        sys.path[:] = old_path
        if not keep_modules:
            for name in set(sys.modules) - old_modules:
                module_file = getattr(sys.modules.get(name), "__file__", None) or ""
                if module_file.startswith(str(directory)):
                    del sys.modules[name]


def render_program(
    directory: str | Path,
    *,
    stack: str = "dev",
    config_file: str | Path | None = None,
    mocks: AwsMocks | None = None,
    preview: bool = False,
) -> Capture:
    """Render a Pulumi Python program directory (its ``__main__.py``) with its stack config."""
    program_dir = Path(directory).resolve()
    if not program_dir.is_dir():
        raise ProgramError(f"{directory}: not a directory")
    project = _project_name(program_dir)
    main = program_dir / "__main__.py"
    if not main.exists():
        raise ProgramError(f"{program_dir}: no __main__.py (only Python programs with a __main__.py are supported)")
    config_path = Path(config_file) if config_file else program_dir / f"Pulumi.{stack}.yaml"
    if config_file and not config_path.exists():
        raise ProgramError(f"{config_path}: config file does not exist")
    config = read_stack_config(config_path) if config_path.exists() else {}
    config = {(k if ":" in k else f"{project}:{k}"): v for k, v in config.items()}
    mocks = mocks or AwsMocks(strict=False)

    def build() -> None:
        runpy.run_path(str(main), run_name="__main__")

    # cwd is the program's directory too, as the language host sets it (programs read files relative to it).
    with contextlib.chdir(program_dir), program_imports(program_dir):
        return render(build, mocks=mocks, project=project, stack=stack, preview=preview, config=config)
