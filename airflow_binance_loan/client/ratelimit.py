"""Weight-aware pacing: per-limit-key budgets over fixed windows aligned to server time.

Each /sapi endpoint has its own budget, per IP (keyed by endpoint and base URL)
or per UID (keyed by endpoint and API key). Before a call the pacer reserves the
endpoint's weight in the current window; when the window cannot take it, it waits
for the next window (bounded by ``max_wait_seconds``). Every response's
``X-SAPI-USED-*-WEIGHT-1M`` header raises the count to the server's (which also
accounts for other processes behind the same IP), and a 429/418 blocks the key
for ``Retry-After`` seconds.

The counts live in a :class:`~.budgets.BudgetStore`, injected into the pacer: this
process only (the default), every process of the machine (files), or every host (Redis).
Window indexes are ``floor(server_ms / window_ms)`` in every process, so all sharers count
in the same windows as Binance.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass

from airflow_binance_loan.client.budgets import BudgetStore, MemoryBudgetStore
from airflow_binance_loan.client.budgets.forksafe import ForkSafeLock
from airflow_binance_loan.client.clock import SYSTEM_CLOCK, Clock
from airflow_binance_loan.client.endpoints import WINDOW_SECONDS, Endpoint
from airflow_binance_loan.exceptions import RateLimitError

log = logging.getLogger(__name__)

DEFAULT_MAX_WAIT_SECONDS = 150.0
_FLOAT_SLACK_MS = 0.001


@dataclass(frozen=True)
class LimitKey:
    """Which budget a call counts against: (endpoint, IP scope or UID scope)."""

    endpoint: str
    kind: str
    scope: str

    def __str__(self) -> str:
        return f"{self.kind} weight on {self.endpoint}"


def limit_key(endpoint: Endpoint, base_url: str, api_key: str) -> LimitKey:
    """The budget an endpoint call counts against (the API key appears only hashed).

    :param endpoint: the endpoint called.
    :param base_url: the base URL (stands for the egress IP's budget).
    :param api_key: the API key (stands for the account's UID budget).
    """
    if endpoint.limit_kind == "UID":
        scope = "key:" + hashlib.sha256(api_key.encode()).hexdigest()[:16]
    else:
        scope = "ip:" + base_url
    return LimitKey(endpoint.name, endpoint.limit_kind, scope)


@dataclass(frozen=True)
class Reservation:
    key: LimitKey
    window: int
    weight: int


class WeightPacer:
    """Paces calls against the budgets in ``store`` (thread-safe; process-safe with a shared store).

    :param clock: the clock the pacer sleeps on.
    :param store: where the budgets live; default: a new in-memory store private to this pacer.
    :param window_seconds: Binance's window (60 s; shorter only for a sandbox).
    :param max_wait_seconds: longest wait for weight before :class:`RateLimitError`.
    :param guard_ms: extra wait past a window boundary, so a request is not counted in the old one.
    """

    def __init__(
        self,
        clock: Clock = SYSTEM_CLOCK,
        *,
        store: BudgetStore | None = None,
        window_seconds: float = WINDOW_SECONDS,
        max_wait_seconds: float = DEFAULT_MAX_WAIT_SECONDS,
        guard_ms: float = 15.0,
    ) -> None:
        self._clock = clock
        self.store: BudgetStore = store if store is not None else MemoryBudgetStore()
        self.window_ms = window_seconds * 1000.0
        self.max_wait_seconds = max_wait_seconds
        self.guard_ms = guard_ms
        self._lock = ForkSafeLock()

    def __repr__(self) -> str:
        return f"WeightPacer(store={self.store!r}, window_seconds={self.window_ms / 1000.0:g})"

    def store_key(self, key: LimitKey) -> str:
        """The key's name in the store: window length, kind, endpoint, scope (API keys hashed).

        :param key: the limit key.
        """
        return f"{self.window_ms:g}ms|{key.kind}|{key.endpoint}|{key.scope}"

    def window_of(self, now_ms: float) -> int:
        """The window index of a server time.

        :param now_ms: server time in ms.
        """
        return int(now_ms // self.window_ms)

    def used(self, key: LimitKey, now_ms: float) -> int:
        """Weight used on ``key`` in the window of ``now_ms``.

        :param key: the limit key.
        :param now_ms: server time in ms.
        """
        return self.store.used(self.store_key(key), self.window_of(now_ms))

    def acquire(
        self,
        key: LimitKey,
        weight: int,
        limit: int,
        now_ms: Callable[[], float],
        *,
        max_wait_seconds: float | None = None,
        extra_guard_ms: float = 0.0,
    ) -> Reservation:
        """Reserve ``weight`` in the current window, waiting (bounded) for the next one if needed.

        :param key: the limit key.
        :param weight: the request's weight.
        :param limit: the budget's limit per window.
        :param now_ms: returns the current server time in ms.
        :param max_wait_seconds: overrides the pacer's wait bound for this call.
        :param extra_guard_ms: added to the boundary guard (the server-time uncertainty).
        """
        if weight > limit:
            raise RateLimitError(f"{key}: weight {weight} exceeds the limit {limit} per window")
        bound = self.max_wait_seconds if max_wait_seconds is None else max_wait_seconds
        store_key = self.store_key(key)
        waited = 0.0
        logged = False
        while True:
            with self._lock:  # this pacer's threads read the time and reserve as one step
                now = now_ms()
                window = self.window_of(now)
                # the boundary plus the guard, less a hair: a wait computed to reach it lands a float ulp short
                settle = window * self.window_ms + self.guard_ms + extra_guard_ms - _FLOAT_SLACK_MS
                slot = self.store.reserve(store_key, window, weight, limit, now, settle)
            if slot.granted:
                return Reservation(key, slot.window, weight)
            if now < slot.blocked_until_ms:
                wait_ms = slot.blocked_until_ms - now
                why = f"{key} blocked by Binance (429/418)"
            else:
                wait_ms = (slot.window + 1) * self.window_ms - now + self.guard_ms + extra_guard_ms
                why = f"{key.kind} weight {slot.used}/{limit} on {key.endpoint}"
            wait = wait_ms / 1000.0
            if waited + wait > bound:
                raise RateLimitError(
                    f"{why}; the next slot is {wait:.1f} s away, beyond the max wait of {bound:.0f} s "
                    f"(already waited {waited:.1f} s)",
                    retry_after=wait,
                )
            if not logged:
                log.info("%s; waiting %.1f s", why, wait)
                logged = True
            self._clock.sleep(wait)
            waited += wait

    def release(self, reservation: Reservation, now_ms: float) -> None:
        """Give back weight the server never counted (the request never left). Never raises.

        :param reservation: what :meth:`acquire` returned.
        :param now_ms: server time in ms (kept for callers; the reservation names its window).
        """
        try:
            self.store.release(self.store_key(reservation.key), reservation.window, reservation.weight)
        except Exception as exc:
            log.warning("%s: could not give back weight %d (%s)", reservation.key, reservation.weight, exc)

    def observe(self, reservation: Reservation, server_used: int, now_ms: float) -> None:
        """Adopt the server's count when it is higher (other workers share the budget). Never raises.

        :param reservation: the reservation whose response carried the header.
        :param server_used: the ``X-SAPI-USED-*-WEIGHT-1M`` value.
        :param now_ms: server time in ms (kept for callers; the reservation names its window).
        """
        try:
            self.store.observe(self.store_key(reservation.key), reservation.window, server_used)
        except Exception as exc:
            log.warning("%s: could not record the server's count %d (%s)", reservation.key, server_used, exc)

    def block(self, key: LimitKey, seconds: float, limit: int, now_ms: float) -> None:
        """After a 429/418: nothing on this key until ``seconds`` (Binance's Retry-After) have passed.

        Every process sharing the store waits too. Never raises.

        :param key: the limit key.
        :param seconds: Binance's ``Retry-After`` (fractions kept).
        :param limit: the budget's limit (unused; kept for callers).
        :param now_ms: server time in ms when the answer arrived.
        """
        try:
            self.store.block(self.store_key(key), now_ms + seconds * 1000.0)
        except Exception as exc:
            log.warning("%s: could not record Binance's %.1f s block (%s)", key, seconds, exc)
