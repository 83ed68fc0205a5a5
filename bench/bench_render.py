"""Render cost of the central stack per resource, next to the SDK's own cost for the same resources
registered bare (``bench/baseline.py``): the ratio says how much the program itself adds.

Prints: resources, CPU s/resource of the program's renders and of the bare replays (medians and ranges
of alternating runs), their ratio (target <= 1.2); then renders with the program's caches kept (a second
render in the same process): the part of the ratio that is the program's fixed per-run work (botocore's
endpoint data, the two runbooks with their scripts inlined) rather than its structure.
"""

from __future__ import annotations

import gc
import statistics
import time
from pathlib import Path

from bench.baseline import measure_ratio
from components.config import load_stack_file
from patchctl.stack_render import render_stack, stack_mocks

RUNS = 5


def main() -> None:
    cfg = load_stack_file(Path(__file__).resolve().parents[1] / "Pulumi.central.yaml")
    result = measure_ratio(lambda: render_stack(cfg), lambda: stack_mocks(cfg), RUNS)
    print("\n".join(result.lines("the central stack (Pulumi.central.yaml)")))
    kept: list[float] = []
    for _ in range(RUNS):
        gc.collect()
        started = time.process_time()
        capture = render_stack(cfg)
        kept.append((time.process_time() - started) / len(capture.resources))
    print(
        f"  caches kept         {statistics.median(kept):.5f} s/resource (range {min(kept):.5f}-{max(kept):.5f}; "
        f"ratio {statistics.median(kept) / statistics.median(result.bare):.2f}: the program without its fixed "
        "per-run work)"
    )


if __name__ == "__main__":
    main()
