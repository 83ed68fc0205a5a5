"""``patchctl``: the operator and developer CLI.

Each sub-command is a module in ``patchctl/commands`` with ``add_parser(subparsers)`` and
``run(args) -> int``. Exit codes everywhere: 0 fine, 1 a mandatory policy violation or a
failed check, 2 bad input (one line on stderr naming the place and the value).
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
from collections.abc import Sequence

from patchctl import commands


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="patchctl", description=__doc__.splitlines()[0] if __doc__ else None)
    subparsers = parser.add_subparsers(dest="command", required=True)
    for module_info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        if module_info.name.startswith("_"):
            continue
        module = importlib.import_module(f"patchctl.commands.{module_info.name}")
        sub = module.add_parser(subparsers)
        sub.set_defaults(_run=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args._run(args))
    except KeyboardInterrupt:  # pragma: no cover
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
