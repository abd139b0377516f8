"""Request-weight counters: Binance's per-endpoint /sapi budgets over fixed windows.

Windows are aligned to epoch multiples of ``window_seconds`` on the sandbox clock
(window index = floor(now_ms / window_ms)). IP-limited endpoints count per
endpoint per client IP, UID-limited ones per endpoint per account UID, and
``/api/v3/time`` counts in the shared /api IP budget. A rejected request adds no
weight.
"""

from __future__ import annotations

import math
import threading

from binance_loan_sandbox.binance_facts import MSG_TOO_MUCH_WEIGHT, TOO_MANY_REQUESTS, Route
from binance_loan_sandbox.errors import SandboxError


class WeightLimiter:
    """Thread-safe fixed-window counters keyed by (budget, scope)."""

    def __init__(self, window_seconds: float = 60.0) -> None:
        """
        :param window_seconds: window length (60 on Binance; shorter compresses time).
        """
        if window_seconds <= 0:
            raise ValueError("window_seconds must be positive")
        self.window_seconds = window_seconds
        self.window_ms = window_seconds * 1000.0
        self._lock = threading.Lock()
        self._counts: dict[tuple[str, str], tuple[int, int]] = {}

    def _window_label(self) -> str:
        if self.window_seconds == 60:
            return "1 MINUTE"
        return f"{self.window_seconds:g} SECONDS"

    def charge(self, route: Route, scope: str, now_ms: int) -> int:
        """Add the route's weight for ``scope`` and return the weight used in the window after it.

        :param route: the endpoint called.
        :param scope: ``ip:ADDRESS`` or ``uid:UID``, whichever the route's limit counts.
        :param now_ms: the sandbox time of the request.
        :raises RateLimited: HTTP 429 / -1003 with Retry-After when the budget would be exceeded.
        """
        window = int(now_ms // self.window_ms)
        key = (_budget(route), scope)
        with self._lock:
            counted_window, used = self._counts.get(key, (window, 0))
            if counted_window != window:
                used = 0
            if used + route.weight > route.limit:
                self._counts[key] = (window, used)
                retry_after = max(1, math.ceil(((window + 1) * self.window_ms - now_ms) / 1000.0))
                raise RateLimited(used, route.weight_header, retry_after, route.limit, self._window_label())
            used += route.weight
            self._counts[key] = (window, used)
            return used

    def used(self, route: Route, scope: str, now_ms: int) -> int:
        """Weight used so far in the current window (0 when nothing counted yet).

        :param route: the endpoint.
        :param scope: ``ip:ADDRESS`` or ``uid:UID``.
        :param now_ms: the sandbox time.
        """
        with self._lock:
            window, used = self._counts.get((_budget(route), scope), (-1, 0))
            return used if window == int(now_ms // self.window_ms) else 0

    def reset(self) -> None:
        """Forget every counter."""
        with self._lock:
            self._counts.clear()


def _budget(route: Route) -> str:
    """/api endpoints share one budget; every /sapi endpoint has its own."""
    return "api" if route.shares_api_budget else route.name


class RateLimited(SandboxError):
    """HTTP 429 / -1003 with the integer ``Retry-After`` seconds until the window ends."""

    def __init__(self, used: int, header: str, retry_after: int, limit: int, window_label: str) -> None:
        """
        :param used: weight used in the window.
        :param header: the weight header to send.
        :param retry_after: whole seconds until the window ends.
        :param limit: the budget per window.
        :param window_label: e.g. ``1 MINUTE``.
        """
        super().__init__(TOO_MANY_REQUESTS, MSG_TOO_MUCH_WEIGHT.format(limit=limit, window=window_label), 429)
        self.used = used
        self.header = header
        self.retry_after = retry_after
