"""In-process budgets: every thread of one process shares them, other processes do not."""

from __future__ import annotations

from airflow_binance_loan.client.budgets.base import (
    BudgetRecord,
    Slot,
    apply_block,
    apply_observe,
    apply_release,
    apply_reserve,
    used_in,
)
from airflow_binance_loan.client.budgets.forksafe import ForkSafeLock


class MemoryBudgetStore:
    """Budgets in a dict behind one lock (a forked child starts with a copy and a fresh lock)."""

    def __init__(self) -> None:
        self._lock = ForkSafeLock()
        self._records: dict[str, BudgetRecord] = {}

    def __repr__(self) -> str:
        return "MemoryBudgetStore()"

    def _record(self, key: str) -> BudgetRecord:
        return self._records.setdefault(key, BudgetRecord())

    def reserve(
        self, key: str, window: int, weight: int, limit: int, now_ms: float, settle_until_ms: float = 0.0
    ) -> Slot:
        """See :meth:`BudgetStore.reserve`."""
        with self._lock:
            return apply_reserve(self._record(key), window, weight, limit, now_ms, settle_until_ms)

    def release(self, key: str, window: int, weight: int) -> None:
        """See :meth:`BudgetStore.release`."""
        with self._lock:
            apply_release(self._record(key), window, weight)

    def observe(self, key: str, window: int, server_used: int) -> None:
        """See :meth:`BudgetStore.observe`."""
        with self._lock:
            apply_observe(self._record(key), window, server_used)

    def block(self, key: str, until_ms: float) -> None:
        """See :meth:`BudgetStore.block`."""
        with self._lock:
            apply_block(self._record(key), until_ms)

    def used(self, key: str, window: int) -> int:
        """See :meth:`BudgetStore.used`."""
        with self._lock:
            return used_in(self._record(key), window)


_PROCESS_STORE = MemoryBudgetStore()


def process_store() -> MemoryBudgetStore:
    """The process-wide store shared by every client built without its own pacer or store."""
    return _PROCESS_STORE
