"""``patchctl``: the operator CLI, the offline companion of the Pulumi CLI.

Each sub-command is a module in ``patchctl/commands`` with ``add_parser(subparsers)`` and
``run(args) -> int``. Exit codes everywhere (``patchctl.errors``): 0 fine, 1 a mandatory
policy violation or a failed check, 2 bad input (one line on stderr naming the place and the
value).
"""

from __future__ import annotations

import argparse
import importlib
import importlib.metadata
import pkgutil
import sys
import tomllib
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType
from typing import NoReturn

from patchctl import commands
from patchctl.errors import EXIT_BAD_INPUT


def version() -> str:
    """The installed distribution's version; from ``pyproject.toml`` when run from a checkout without installing."""
    try:
        return importlib.metadata.version("org-patching")
    except importlib.metadata.PackageNotFoundError:
        pyproject = Path(__file__).resolve().parents[1] / "pyproject.toml"
        return str(tomllib.loads(pyproject.read_text())["project"]["version"])


class Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (argparse prints the whole usage first, often 3-4
    lines that hide the actual problem) with where to look for help."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_BAD_INPUT, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def user_errors() -> tuple[type[BaseException], ...]:
    """The documented input errors of every command: each message is already one line naming
    the place and the value, so the CLI prints it and exits 2 instead of a traceback."""
    from components.errors import OrgPatchingError
    from patchctl.errors import InputError
    from patchctl.offline.analyzer import PolicyConfigError
    from patchctl.offline.render import ProgramError
    from patchctl.report.errors import ReportError

    return (OrgPatchingError, InputError, PolicyConfigError, ProgramError, ReportError)


def one_line(error: BaseException) -> str:
    """The first line of an error's message (a user error never needs more)."""
    lines = str(error).strip().splitlines()
    return lines[0] if lines else type(error).__name__


def build_parser(
    package: ModuleType = commands, prog: str = "patchctl", description: str | None = __doc__
) -> argparse.ArgumentParser:
    """One sub-command per public module of ``package`` (the dev kit's CLI reuses this)."""
    parser = Parser(prog=prog, description=description.splitlines()[0] if description else None)
    parser.add_argument("--version", action="version", version=f"{prog} {version()}")
    subparsers = parser.add_subparsers(dest="command", required=True)
    for module_info in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
        if module_info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{package.__name__}.{module_info.name}")
        sub = module.add_parser(subparsers)
        sub.set_defaults(_run=module.run)
    return parser


def run_commands(package: ModuleType, prog: str, description: str | None, argv: Sequence[str] | None = None) -> int:
    """Parse ``argv`` against ``package``'s sub-commands and run the chosen one."""
    args = build_parser(package, prog, description).parse_args(argv)
    try:
        return int(args._run(args))
    except user_errors() as error:
        print(f"{prog} {args.command}: error: {one_line(error)}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except OSError as error:
        if error.filename is None:  # not about a path the user gave: a bug or the machine, keep the traceback
            raise
        print(f"{prog} {args.command}: error: {error.filename}: {error.strerror}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:  # pragma: no cover
        return 130


def main(argv: Sequence[str] | None = None) -> int:
    return run_commands(commands, prog="patchctl", description=__doc__, argv=argv)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
