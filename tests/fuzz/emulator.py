"""The ONE place the fuzz suite imports the local AWS emulator and the Lambda loader from.

Why an adapter: the emulator is being moved between packages; fixing this module's imports keeps every fuzz
target working. It also adds the one thing the fuzz invariants need on top of the emulator: a count of the
AWS calls that change something, taken with botocore's ``before-call`` event on the session the code uses.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from types import ModuleType
from typing import Any

import boto3

from devkit.emulator import Emulator, load_lambda
from devkit.moto_extensions.ssm.models import patch_runs as ssm_patching

__all__ = ["ACCOUNT", "REGION", "Emulator", "WriteCounter", "lambda_module", "running_as", "seed_missing_patches"]

ACCOUNT = "111111111111"
REGION = "eu-west-1"
#: Operations that only read: everything else counts as a write.
READ_PREFIXES = ("Describe", "List", "Get", "Head", "Search", "Select", "Lookup", "BatchGet")


def is_write(operation: str) -> bool:
    # AssumeRole is how the emulator picks an account, not something the code under test changes.
    return not operation.startswith(READ_PREFIXES) and operation != "AssumeRole"


class WriteCounter:
    """Counts non-read AWS operations by name through botocore's ``before-call`` event (every attempt), and those
    AWS answered with success through ``after-call`` (``changes``: a conditional write refused with
    ``ConditionalCheckFailedException`` tried, but changed nothing).

    Only calls of the thread that last called :meth:`reset` (the one running the handler) count: the emulator's
    Step Functions interpreter runs executions a handler started on threads of its own, on the same session.
    """

    def __init__(self) -> None:
        self.writes: Counter[str] = Counter()
        self.changes: Counter[str] = Counter()
        self.thread = threading.get_ident()

    def __call__(self, model: Any, **_: Any) -> None:
        if is_write(model.name) and threading.get_ident() == self.thread:
            self.writes[model.name] += 1

    def after(self, model: Any, http_response: Any, **_: Any) -> None:
        ok = http_response is not None and http_response.status_code < 300
        if ok and is_write(model.name) and threading.get_ident() == self.thread:
            self.changes[model.name] += 1

    @property
    def total(self) -> int:
        return sum(self.writes.values())

    def reset(self) -> None:
        self.writes.clear()
        self.changes.clear()
        self.thread = threading.get_ident()


def seed_missing_patches(account: str, region: str, instance: str, patches: list[dict[str, str]]) -> None:
    """The instance is SSM-managed and a scan found ``patches`` (KBId, Title, Classification, Severity) missing."""
    ssm_patching.seed_patches(account, region, instance, patches)
    ssm_patching.simulate_patch_run(account, region, [instance], "Scan")


def lambda_module(name: str) -> ModuleType:
    """``lambda_src/<name>/app.py`` as the Lambda runtime imports it."""
    return load_lambda(name)


@contextmanager
def running_as(
    emulator: Emulator, counter: WriteCounter, account: str = ACCOUNT, region: str = REGION
) -> Iterator[Any]:
    """boto3's default session is ``account``/``region`` on the emulator, with ``counter`` attached once."""
    with emulator.as_account(account, region) as session:
        # unique_id: registering again (the emulator caches the session) does not count twice.
        session.events.register("before-call", counter, unique_id=f"fuzz-write-counter-{id(counter)}")
        session.events.register("after-call", counter.after, unique_id=f"fuzz-change-counter-{id(counter)}")
        assert boto3.DEFAULT_SESSION is session
        yield session


def context(function_name: str) -> Any:
    """A Lambda context as the runtime passes one (Powertools' decorators read it)."""
    from devkit.moto_extensions.awslambda.models import lambda_context

    return lambda_context(function_name, "123456789012", "us-east-1")
