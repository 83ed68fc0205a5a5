"""``patchctl``: the operator CLI, the offline companion of the Pulumi CLI.

Each sub-command is a module in ``patchctl/commands`` with ``add_parser(subparsers)`` and
``run(args) -> int``. Exit codes everywhere (``patchctl.errors``): 0 fine, 1 a mandatory
policy violation or a failed check, 2 bad input (one line on stderr naming the place and the
value).
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
from collections.abc import Sequence
from types import ModuleType

from patchctl import commands


def build_parser(
    package: ModuleType = commands, prog: str = "patchctl", description: str | None = __doc__
) -> argparse.ArgumentParser:
    """One sub-command per public module of ``package`` (the dev kit's CLI reuses this)."""
    parser = argparse.ArgumentParser(prog=prog, description=description.splitlines()[0] if description else None)
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
    except KeyboardInterrupt:  # pragma: no cover
        return 130


def main(argv: Sequence[str] | None = None) -> int:
    return run_commands(commands, prog="patchctl", description=__doc__, argv=argv)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
