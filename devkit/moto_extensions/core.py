"""What every service package of the extension uses to reach moto.

* State: kept on moto's backend of the account+region it belongs to (:func:`attached`). moto
  resets by building new backends, so that state is cleared with everything else
  (``mock_aws`` stopping, ``moto.core.models.reset``); nothing has to be reset by hand.
* Operations: moto routes every request of a service to one response class
  (``SimpleSystemManagerResponse``, ``AutoScalingResponse``...) through its URL table, so a
  subclass would never be called. Each service package writes its operations as a subclass
  (typed, checked by mypy) and :func:`copy_members` puts them on moto's class.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


def attached(backend: Any, name: str, factory: Callable[[], T]) -> T:
    """The extension's ``name`` state on ``backend`` (moto's), created by ``factory`` on first use."""
    key = f"_org_patching_{name}"
    if key not in backend.__dict__:
        backend.__dict__[key] = factory()
    state: T = backend.__dict__[key]
    return state


def copy_members(source: type[Any], target: type[Any]) -> None:
    """Set every method and property ``source`` defines itself onto ``target`` (idempotent)."""
    for name, member in vars(source).items():
        if name.startswith("__"):
            continue
        if isinstance(member, property) or callable(member):
            setattr(target, name, member)
