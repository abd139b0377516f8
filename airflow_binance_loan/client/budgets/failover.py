"""A shared store with a local stand-in: while the primary (Redis) is unreachable, pace locally.

An unreachable Redis must not stop a month-end settlement: the pacer then counts in a
fallback store (this process's budgets), logs one warning per outage, and tries the primary
again every ``retry_seconds``. Binance's headers and the 429 block-and-resend rule still
protect the shared limits meanwhile (as they did before budgets were shared).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TypeVar

from airflow_binance_loan.client.budgets.base import BudgetStore, BudgetStoreUnavailable, Slot
from airflow_binance_loan.client.budgets.forksafe import ForkSafeLock

log = logging.getLogger("airflow_binance_loan.client.ratelimit")
T = TypeVar("T")


class FailoverStore:
    """``primary`` while it answers, ``fallback`` for ``retry_seconds`` after each failure.

    :param primary: the shared store (raises :class:`BudgetStoreUnavailable` when unreachable).
    :param fallback: the store used meanwhile.
    :param retry_seconds: how long to stay on the fallback before trying the primary again.
    :param monotonic: the clock that times the retry.
    """

    def __init__(self, primary: BudgetStore, fallback: BudgetStore, *, retry_seconds: float = 5.0,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self.primary = primary
        self.fallback = fallback
        self.retry_seconds = retry_seconds
        self._monotonic = monotonic
        self._lock = ForkSafeLock()
        self._down_until: float | None = None

    def __repr__(self) -> str:
        return f"FailoverStore({self.primary!r}, fallback={self.fallback!r})"

    @property
    def degraded(self) -> bool:
        """True while calls go to the fallback."""
        return self._down_until is not None

    def _call(self, operation: Callable[[BudgetStore], T]) -> T:
        with self._lock:
            down_until = self._down_until
        if down_until is not None and self._monotonic() < down_until:
            return operation(self.fallback)
        try:
            result = operation(self.primary)
        except BudgetStoreUnavailable as exc:
            with self._lock:
                first = self._down_until is None
                self._down_until = self._monotonic() + self.retry_seconds
            if first:
                log.warning("%s; pacing with this process's own budgets until it is back (retry every %.0f s)",
                            exc, self.retry_seconds)
            return operation(self.fallback)
        if down_until is not None:
            with self._lock:
                self._down_until = None
            log.info("%r is reachable again; weight budgets are shared again", self.primary)
        return result

    def reserve(
        self, key: str, window: int, weight: int, limit: int, now_ms: float, settle_until_ms: float = 0.0
    ) -> Slot:
        """See :meth:`BudgetStore.reserve`."""
        return self._call(lambda s: s.reserve(key, window, weight, limit, now_ms, settle_until_ms))

    def release(self, key: str, window: int, weight: int) -> None:
        """See :meth:`BudgetStore.release`."""
        self._call(lambda s: s.release(key, window, weight))

    def observe(self, key: str, window: int, server_used: int) -> None:
        """See :meth:`BudgetStore.observe`."""
        self._call(lambda s: s.observe(key, window, server_used))

    def block(self, key: str, until_ms: float) -> None:
        """See :meth:`BudgetStore.block`."""
        self._call(lambda s: s.block(key, until_ms))

    def used(self, key: str, window: int) -> int:
        """See :meth:`BudgetStore.used`."""
        return self._call(lambda s: s.used(key, window))
