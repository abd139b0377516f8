"""The weight-budget store contract, and the budget rules every store applies atomically.

A store keeps, per limit key (one Binance budget: an IP-limited endpoint behind one egress
IP, or a UID-limited endpoint of one account), three numbers: the index of the current
window (``floor(server_ms / window_ms)``), the weight used in it, and the server time until
which Binance blocked the key after a 429/418. :class:`~..ratelimit.WeightPacer` asks its
store one atomic question per request (:meth:`BudgetStore.reserve`) and reports what the
server said (:meth:`BudgetStore.observe`, :meth:`BudgetStore.block`). Where the numbers live
decides who shares them: one process (memory), one machine (files), or a cluster (Redis).

The rules below are the single definition of what each operation does; the memory and file
stores call them, and the Redis store's Lua script mirrors them line for line (the same
contract tests run against all three).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from airflow_binance_loan.exceptions import BinanceLoanError


class BudgetStoreUnavailable(BinanceLoanError):
    """The shared store cannot be reached (e.g. Redis is down); nothing was counted."""


@dataclass
class BudgetRecord:
    """One limit key's state: window index, weight used in it, Binance block end (server ms)."""

    window: int = -1
    used: int = 0
    blocked_until_ms: float = 0.0


@dataclass(frozen=True)
class Slot:
    """The answer to a reservation: granted or not, and the key's state after the question."""

    granted: bool
    window: int
    used: int
    blocked_until_ms: float


class BudgetStore(Protocol):
    """Where the budgets live. Every method is atomic for every process sharing the store."""

    def reserve(
        self, key: str, window: int, weight: int, limit: int, now_ms: float, settle_until_ms: float = 0.0
    ) -> Slot:
        """Add ``weight`` to the key's current window if it fits and the key is not blocked.

        :param key: the budget's store key (no secrets: API keys are hashed).
        :param window: the caller's window index, ``floor(server_ms / window_ms)``.
        :param weight: the request's weight.
        :param limit: the budget's limit per window.
        :param now_ms: the caller's estimate of server time in milliseconds.
        :param settle_until_ms: before this server time, a new window whose predecessor cannot take
            ``weight`` is not trusted yet (the server may still be in the old one).
        """
        ...

    def release(self, key: str, window: int, weight: int) -> None:
        """Give back weight the server never counted (the request never left).

        :param key: the budget's store key.
        :param window: the window the weight was reserved in.
        :param weight: the weight to give back.
        """
        ...

    def observe(self, key: str, window: int, server_used: int) -> None:
        """Raise the window's count to the server's ``X-SAPI-USED-*-WEIGHT-1M`` (never lower it).

        :param key: the budget's store key.
        :param window: the window of the reservation whose response carried the header.
        :param server_used: the weight the server says is used.
        """
        ...

    def block(self, key: str, until_ms: float) -> None:
        """Nothing on this key before ``until_ms`` (server time, ms; fractions kept).

        :param key: the budget's store key.
        :param until_ms: end of the block Binance asked for (429/418 ``Retry-After``).
        """
        ...

    def used(self, key: str, window: int) -> int:
        """Weight used in ``window`` (0 when the key is in another window).

        :param key: the budget's store key.
        :param window: the window index.
        """
        ...


# -- the rules (mirrored by redis_store.LUA) -------------------------------------------------------


def apply_reserve(
    record: BudgetRecord, window: int, weight: int, limit: int, now_ms: float, settle_until_ms: float = 0.0
) -> Slot:
    """Reserve ``weight`` in the current window of ``record`` (mutates it).

    Windows only move forward: a caller one window behind (its server-time estimate is a few ms
    late at a boundary) counts in the newer window the store already holds, never resets it. A
    record more than one window ahead was written by a clock that jumped, and is reset.

    A caller that is first into a new window while the previous one could not take its weight
    is refused until ``settle_until_ms`` (the boundary plus a guard): its estimate of server
    time may be early, and the request would then be counted, and refused, in the full window.

    :param record: the key's state, updated in place.
    :param window: the caller's window index.
    :param weight: the request's weight.
    :param limit: the budget's limit per window.
    :param now_ms: the caller's server time in ms.
    :param settle_until_ms: see :meth:`BudgetStore.reserve`.
    """
    if window == record.window + 1 and now_ms < settle_until_ms and record.used + weight > limit:
        return Slot(False, record.window, record.used, record.blocked_until_ms)
    if window > record.window or window < record.window - 1:
        record.window = window
        record.used = 0
    granted = now_ms >= record.blocked_until_ms and record.used + weight <= limit
    if granted:
        record.used += weight
    return Slot(granted, record.window, record.used, record.blocked_until_ms)


def apply_release(record: BudgetRecord, window: int, weight: int) -> None:
    """Give back ``weight`` if the record is still in ``window``.

    :param record: the key's state, updated in place.
    :param window: the reservation's window.
    :param weight: the weight to give back.
    """
    if record.window == window:
        record.used = max(0, record.used - weight)


def apply_observe(record: BudgetRecord, window: int, server_used: int) -> None:
    """Raise the count to the server's for ``window`` (a newer window is adopted with that count).

    :param record: the key's state, updated in place.
    :param window: the reservation's window.
    :param server_used: the server's count from the response header.
    """
    if window > record.window:
        record.window = window
        record.used = server_used
    elif window == record.window and server_used > record.used:
        record.used = server_used


def apply_block(record: BudgetRecord, until_ms: float) -> None:
    """Extend the block to ``until_ms`` (a shorter block never shortens a longer one).

    :param record: the key's state, updated in place.
    :param until_ms: end of the block in server ms.
    """
    record.blocked_until_ms = max(record.blocked_until_ms, until_ms)


def used_in(record: BudgetRecord, window: int) -> int:
    """The weight used in ``window`` according to ``record``.

    :param record: the key's state.
    :param window: the window index.
    """
    return record.used if record.window == window else 0
