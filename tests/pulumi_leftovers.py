"""After a Pulumi program failed on purpose in a test: tidy what the SDK leaves behind.

A program that stops inside an ``apply`` (or a mock that raises) leaves tasks that failed with it
(their exception never retrieved) and outputs that will never resolve (coroutines never started).
Garbage-collected later, each complains in the middle of whatever runs then -- inside ``compile()``
on Python 3.11 that is ``SystemError: AST constructor recursion depth mismatch``, which stops pytest
in an unrelated test. So their exceptions are retrieved, the coroutines closed (all that awaiting
them could still do) and the lot collected, right after the failure.
"""

from __future__ import annotations

import asyncio
import gc
import inspect
import weakref


def collect_failed_program_leftovers() -> None:
    for obj in gc.get_objects():
        if isinstance(obj, weakref.ProxyTypes):
            continue  # a dead proxy raises ReferenceError on any attribute lookup, isinstance included
        if isinstance(obj, asyncio.Future) and obj.done() and not obj.cancelled():
            obj.exception()  # retrieved: no "exception was never retrieved" when it is collected
        elif (
            inspect.iscoroutine(obj)
            and obj.cr_code.co_qualname.startswith("Output.")
            and inspect.getcoroutinestate(obj) == inspect.CORO_CREATED
        ):
            obj.close()  # never started: closing it is all that awaiting would have done
    gc.collect()
