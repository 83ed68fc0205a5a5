"""Exit codes and the bad-input error shared by every ``patchctl`` command.

One place, so every command means the same thing by the same number: 0 fine, 1 a mandatory
policy violation or a failed check, 2 bad input (one line on stderr naming the place and the
value).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

EXIT_OK = 0
EXIT_VIOLATION = 1
#: A check that could not complete (e.g. a report query failed): same code as a violation.
EXIT_FAILED = EXIT_VIOLATION
EXIT_BAD_INPUT = 2


class InputError(Exception):
    """Bad command-line input (exit 2)."""


def read_json(path: str | Path, missing: str) -> Any:
    """The JSON document at ``path``; a missing or malformed file is bad input, said in one line
    (``missing``: what to say when the file does not exist)."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"{path}: {missing}") from None
    except json.JSONDecodeError as error:  # before OSError/UnicodeDecodeError: it is a ValueError too
        raise InputError(f"{path}: not valid JSON ({error.msg} at line {error.lineno})") from None
    except (OSError, UnicodeDecodeError) as error:  # a directory, no permission, not UTF-8 (found by tests/fuzz)
        raise InputError(f"{path}: cannot be read ({type(error).__name__})") from None
    except RecursionError:
        raise InputError(f"{path}: JSON nested too deeply") from None
