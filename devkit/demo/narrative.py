"""How the demo talks: numbered steps, one line per fact, the time each step took."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO


class Narrator:
    def __init__(self, out: TextIO | None = None, quiet: bool = False) -> None:
        self.out = out or sys.stdout
        self.quiet = quiet
        self.started = time.perf_counter()
        self._step = 0
        self.timings: dict[str, float] = {}

    def say(self, text: str = "") -> None:
        if not self.quiet:
            self.out.write(text + "\n")
            self.out.flush()

    def fact(self, text: str) -> None:
        self.say(f"    {text}")

    @contextmanager
    def step(self, title: str) -> Iterator[None]:
        self._step += 1
        self.say(f"\n[{self._step}] {title}")
        started = time.perf_counter()
        yield
        elapsed = time.perf_counter() - started
        self.timings[title] = elapsed
        self.say(f"    ({elapsed:.1f} s)")

    @property
    def elapsed(self) -> float:
        return time.perf_counter() - self.started
