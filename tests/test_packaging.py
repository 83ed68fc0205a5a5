"""pyproject.toml against the requirements files and the layout: what ``pip install .`` gets.

The Makefile installs from requirements*.txt (Pulumi reads requirements.txt too), pip from
pyproject: the two must name the same pins. And the dev kit must stay out of the install.
"""

from __future__ import annotations

import fnmatch
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def requirement_lines(name: str) -> list[str]:
    """The pinned requirements of a file (``-r`` includes and the program's own ``-e .`` are not pins)."""
    lines = (ROOT / name).read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith(("#", "-r", "-e"))]


def test_runtime_dependencies_are_the_pins_of_requirements_txt() -> None:
    assert PYPROJECT["project"]["dependencies"] == requirement_lines("requirements.txt")


def test_the_dev_extra_is_requirements_dev_txt() -> None:
    assert PYPROJECT["project"]["optional-dependencies"]["dev"] == requirement_lines("requirements-dev.txt")


def test_patchctl_is_installed_and_the_dev_kit_is_not() -> None:
    patterns = PYPROJECT["tool"]["setuptools"]["packages"]["find"]["include"]
    tops = [d for d in ROOT.iterdir() if d.is_dir() and not d.name.startswith(".")]
    found = [init for top in tops for init in top.rglob("__init__.py")]
    packages = {init.parent.relative_to(ROOT).as_posix().replace("/", ".") for init in found}
    installed = {name for name in packages if any(fnmatch.fnmatchcase(name, pattern) for pattern in patterns)}
    assert {"patchctl", "patchctl.commands", "patchctl.offline", "patchctl.report", "components"} <= installed
    assert not {name for name in installed if name.split(".")[0] in ("devkit", "tests", "bench")}
    assert PYPROJECT["project"]["scripts"] == {"patchctl": "patchctl.cli:main"}
