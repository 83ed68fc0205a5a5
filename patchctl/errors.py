"""Exit codes and the bad-input error shared by every ``patchctl`` command.

One place, so every command means the same thing by the same number: 0 fine, 1 a mandatory
policy violation or a failed check, 2 bad input (one line on stderr naming the place and the
value).
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_VIOLATION = 1
#: A check that could not complete (e.g. a report query failed): same code as a violation.
EXIT_FAILED = EXIT_VIOLATION
EXIT_BAD_INPUT = 2


class InputError(Exception):
    """Bad command-line input (exit 2)."""
