"""``python -m devkit``: the dev kit's commands (the demo, the synthetic fleet).

Same conventions as ``patchctl``: one module per sub-command in ``devkit/commands`` with
``add_parser(subparsers)`` and ``run(args) -> int``; exit 0 fine, 2 bad input.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from devkit import commands
from patchctl.cli import run_commands


def main(argv: Sequence[str] | None = None) -> int:
    return run_commands(commands, prog="devkit", description=__doc__, argv=argv)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
