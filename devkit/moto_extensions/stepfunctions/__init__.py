"""Step Functions: StopExecution of an execution that is inside a Map state ends it ``ABORTED``.

AWS: "Stops an execution ... the execution's status becomes ABORTED" (Step Functions API reference,
StopExecution; the history ends with ``ExecutionAborted``). moto 5.2's interpreter aborts the running Map
iterations, and the iteration's abort then surfaces as an error that overwrites the stopped state, so the
execution ended ``FAILED`` (``States.Runtime``) instead: found by ``patchctl emergency cancel``'s test, which
stops a rollout while its wave's Map polls the automation. Here an error reported after a stop is ignored.
"""

from __future__ import annotations

from typing import Any

from moto.stepfunctions.parser.asl.eval import environment
from moto.stepfunctions.parser.asl.eval.program_state import ProgramStopped

_installed = False


def install() -> None:
    """Keep a stopped program stopped (idempotent)."""
    global _installed
    if _installed:
        return
    original = environment.Environment.set_error

    def set_error(self: Any, error: Any) -> None:
        with self._state_mutex:
            if isinstance(self._program_state, ProgramStopped):
                return  # StopExecution won: the execution is ABORTED, whatever its Map iterations raise
        original(self, error)

    environment.Environment.set_error = set_error  # type: ignore[method-assign]
    _installed = True
