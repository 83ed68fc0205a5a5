"""``python -m bench``: run every ``bench/bench_*.py`` (or those named) in a fresh process.

Run from the repository root: each benchmark runs as ``python -m bench.<name>`` there, so the
program, ``patchctl`` and the dev kit import as they do everywhere else. Each benchmark prints
ratios and counts, so a noisy machine does not change the verdict.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def main(argv: list[str]) -> int:
    here = Path(__file__).parent
    scripts = sorted(here.glob("bench_*.py"))
    if argv:
        scripts = [s for s in scripts if any(name in s.stem for name in argv)]
    failed = 0
    for script in scripts:
        print(f"\n=== {script.stem} ===", flush=True)
        result = subprocess.run([sys.executable, "-m", f"bench.{script.stem}"], cwd=here.parent, check=False)
        failed += result.returncode != 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
