"""Render cost of the central stack per resource, next to the SDK's own cost for the same
number of bare resources (the ratio says how much the program itself adds).

Prints: resources, ms/resource for the central stack, ms/resource for bare resources, ratio.
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path

import pulumi
import pulumi_aws as aws

from components.config import load_stack_file
from patchctl.offline.mocks import AwsMocks
from patchctl.offline.render import render
from patchctl.stack_render import render_stack

RUNS = 5


def timed(fn) -> tuple[float, int]:  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    count = len(fn().resources)
    return time.perf_counter() - started, count


def bare(count: int):  # type: ignore[no-untyped-def]
    def build() -> None:
        provider = aws.Provider("bare", region="us-east-1")
        for index in range(count - 2):  # the stack and the provider are resources too
            aws.ssm.Parameter(f"p{index}", type="String", value="v", opts=pulumi.ResourceOptions(provider=provider))

    return render(build, mocks=AwsMocks())


def main() -> None:
    cfg = load_stack_file(Path(__file__).resolve().parents[1] / "Pulumi.central.yaml")
    render_stack(cfg)  # warm imports and caches
    program = [timed(lambda: render_stack(cfg)) for _ in range(RUNS)]
    count = program[0][1]
    baseline = [timed(lambda: bare(count)) for _ in range(RUNS)]
    program_ms = statistics.median(t for t, _ in program) / count * 1000
    bare_ms = statistics.median(t for t, _ in baseline) / baseline[0][1] * 1000
    print(f"central stack: {count} resources (median of {RUNS} renders)")
    print(f"  program render      {program_ms:6.2f} ms/resource")
    print(f"  SDK bare resources  {bare_ms:6.2f} ms/resource ({baseline[0][1]} resources)")
    print(f"  ratio program/SDK   {program_ms / bare_ms:6.2f}")


if __name__ == "__main__":
    main()
