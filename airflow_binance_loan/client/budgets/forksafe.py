"""A thread lock that a forked child gets back unlocked.

``os.fork`` copies a ``threading.Lock`` in whatever state it is: a lock another thread held at
fork time is never released in the child, and the child's first budget call would hang. The
LocalExecutor and Celery's prefork pool fork worker processes, so the stores' locks are
re-created in every child.
"""

from __future__ import annotations

import os
import threading
import weakref
from types import TracebackType

_LOCKS: weakref.WeakSet[ForkSafeLock] = weakref.WeakSet()


class ForkSafeLock:
    """A non-reentrant ``threading.Lock``, fresh (unlocked) in a forked child."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        _LOCKS.add(self)

    def __enter__(self) -> ForkSafeLock:
        self._lock.acquire()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._lock.release()

    def _renew(self) -> None:
        self._lock = threading.Lock()


def _after_fork_in_child() -> None:
    for lock in list(_LOCKS):
        lock._renew()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
