"""Where the Pulumi project is: the directory ``pulumi`` itself would use.

The Pulumi CLI looks for ``Pulumi.yaml`` in the working directory and then in each parent;
stack files (``Pulumi.<stack>.yaml``) live beside it. ``patchctl`` finds defaults the same
way, so a command run from a sub-directory reads the same stack files ``pulumi`` would.
"""

from __future__ import annotations

from pathlib import Path

PROJECT_FILE = "Pulumi.yaml"


def project_dir(start: Path | None = None) -> Path | None:
    """The nearest directory at or above ``start`` (default: the working directory) with a
    ``Pulumi.yaml``; None when there is none."""
    here = (start or Path.cwd()).resolve()
    for directory in (here, *here.parents):
        if (directory / PROJECT_FILE).is_file():
            return directory
    return None
