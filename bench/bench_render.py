"""Render cost of the central stack per resource, next to the SDK's own cost for the same resources
registered bare (``bench/baseline.py``): the ratio says how much the program itself adds.

Prints: resources, CPU s/resource of the program's renders and of the bare replays (medians and ranges
of alternating runs), their ratio (target <= 1.2).
"""

from __future__ import annotations

from pathlib import Path

from bench.baseline import measure_ratio
from components.config import load_stack_file
from patchctl.stack_render import render_stack, stack_mocks

RUNS = 5


def main() -> None:
    cfg = load_stack_file(Path(__file__).resolve().parents[1] / "Pulumi.central.yaml")
    result = measure_ratio(lambda: render_stack(cfg), lambda: stack_mocks(cfg), RUNS)
    print("\n".join(result.lines("the central stack (Pulumi.central.yaml)")))


if __name__ == "__main__":
    main()
