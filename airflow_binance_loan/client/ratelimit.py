"""Weight-aware pacing: per-limit-key budgets over fixed windows aligned to server time.

Each /sapi endpoint has its own budget, per IP (keyed by endpoint and base URL)
or per UID (keyed by endpoint and API key). Before a call the pacer reserves the
endpoint's weight in the current window; when the window cannot take it, it waits
for the next window (bounded by ``max_wait_seconds``). Every response's
``X-SAPI-USED-*-WEIGHT-1M`` header raises the local count to the server's (which
also accounts for other processes behind the same IP), and a 429/418 blocks the key
for ``Retry-After`` seconds. One pacer is shared by every client of a process.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

from airflow_binance_loan.client.clock import SYSTEM_CLOCK, Clock
from airflow_binance_loan.client.endpoints import WINDOW_SECONDS, Endpoint
from airflow_binance_loan.exceptions import RateLimitError

log = logging.getLogger(__name__)

DEFAULT_MAX_WAIT_SECONDS = 150.0


@dataclass(frozen=True)
class LimitKey:
    """Which budget a call counts against: (endpoint, IP scope or UID scope)."""

    endpoint: str
    kind: str
    scope: str

    def __str__(self) -> str:
        return f"{self.kind} weight on {self.endpoint}"


def limit_key(endpoint: Endpoint, base_url: str, api_key: str) -> LimitKey:
    if endpoint.limit_kind == "UID":
        scope = "key:" + hashlib.sha256(api_key.encode()).hexdigest()[:16]
    else:
        scope = "ip:" + base_url
    return LimitKey(endpoint.name, endpoint.limit_kind, scope)


@dataclass
class _Budget:
    window: int = -1
    used: int = 0
    blocked_until_ms: float = 0.0


@dataclass(frozen=True)
class Reservation:
    key: LimitKey
    window: int
    weight: int


class WeightPacer:
    """Thread-safe budgets for all limit keys of one process."""

    def __init__(
        self,
        clock: Clock = SYSTEM_CLOCK,
        *,
        window_seconds: float = WINDOW_SECONDS,
        max_wait_seconds: float = DEFAULT_MAX_WAIT_SECONDS,
        guard_ms: float = 15.0,
    ) -> None:
        self._clock = clock
        self.window_ms = window_seconds * 1000.0
        self.max_wait_seconds = max_wait_seconds
        self.guard_ms = guard_ms
        self._lock = threading.Lock()
        self._budgets: dict[LimitKey, _Budget] = {}

    def _budget(self, key: LimitKey, now_ms: float) -> _Budget:
        budget = self._budgets.setdefault(key, _Budget())
        window = int(now_ms // self.window_ms)
        if budget.window != window:
            budget.window = window
            budget.used = 0
        return budget

    def used(self, key: LimitKey, now_ms: float) -> int:
        with self._lock:
            return self._budget(key, now_ms).used

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
        """Reserve ``weight`` in the current window, waiting (bounded) for the next one if needed."""
        if weight > limit:
            raise RateLimitError(f"{key}: weight {weight} exceeds the limit {limit} per window")
        bound = self.max_wait_seconds if max_wait_seconds is None else max_wait_seconds
        waited = 0.0
        logged = False
        while True:
            with self._lock:
                now = now_ms()
                budget = self._budget(key, now)
                if now < budget.blocked_until_ms:
                    wait_ms = budget.blocked_until_ms - now
                    why = f"{key} blocked by Binance (429/418)"
                elif budget.used + weight <= limit:
                    budget.used += weight
                    return Reservation(key, budget.window, weight)
                else:
                    wait_ms = (budget.window + 1) * self.window_ms - now + self.guard_ms + extra_guard_ms
                    why = f"{key.kind} weight {budget.used}/{limit} on {key.endpoint}"
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
        """Give back weight the server never counted (the request never left)."""
        with self._lock:
            budget = self._budget(reservation.key, now_ms)
            if budget.window == reservation.window:
                budget.used = max(0, budget.used - reservation.weight)

    def observe(self, reservation: Reservation, server_used: int, now_ms: float) -> None:
        """Adopt the server's count when it is higher (other workers share the budget)."""
        with self._lock:
            budget = self._budget(reservation.key, now_ms)
            if budget.window == reservation.window and server_used > budget.used:
                budget.used = server_used

    def block(self, key: LimitKey, seconds: float, limit: int, now_ms: float) -> None:
        """After a 429/418: nothing on this key until ``seconds`` (Binance's Retry-After) have passed."""
        with self._lock:
            budget = self._budget(key, now_ms)
            budget.blocked_until_ms = max(budget.blocked_until_ms, now_ms + seconds * 1000.0)


_shared_lock = threading.Lock()
_shared: dict[float, WeightPacer] = {}


def shared_pacer(window_seconds: float = WINDOW_SECONDS) -> WeightPacer:
    """The process-wide pacer (one per window length) shared by every client without its own."""
    with _shared_lock:
        pacer = _shared.get(window_seconds)
        if pacer is None:
            pacer = _shared[window_seconds] = WeightPacer(window_seconds=window_seconds)
        return pacer
