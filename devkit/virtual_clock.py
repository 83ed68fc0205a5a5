"""The emulator's virtual clock: what the runbook interpreter's sleeps and waits advance, and what the emulated
services that progress with time (instance refreshes) read. Real time never passes in a test.

One clock per process (moto's state is per process too); it only moves forward. It starts at the real time the
process started, so timestamps look plausible.
"""

from __future__ import annotations

import threading
import time


class VirtualClock:
    """Seconds since the epoch, advanced explicitly."""

    def __init__(self, start: float | None = None) -> None:
        self._now = time.time() if start is None else start
        self._lock = threading.Lock()

    def now(self) -> float:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> float:
        if seconds < 0:
            raise ValueError(f"the clock cannot go back ({seconds} s)")
        with self._lock:
            self._now += seconds
            return self._now


#: The clock of the emulator (runbook interpreter, Auto Scaling instance refreshes).
CLOCK = VirtualClock()
