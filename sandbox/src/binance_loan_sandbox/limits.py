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
from dataclasses import dataclass

from airflow_binance_loan.client.endpoints import Endpoint

from binance_loan_sandbox.errors import SandboxError

SAPI_IP_HEADER = "X-SAPI-USED-IP-WEIGHT-1M"
SAPI_UID_HEADER = "X-SAPI-USED-UID-WEIGHT-1M"
API_HEADER = "X-MBX-USED-WEIGHT-1M"


@dataclass(frozen=True)
class Charge:
    """The result of counting one request: header to send and the weight used after it."""

    header: str
    used: int


class WeightLimiter:
    """Thread-safe fixed-window counters keyed by (budget, scope)."""

    def __init__(self, window_seconds: float = 60.0) -> None:
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

    def charge(self, endpoint: Endpoint, scope: str, now_ms: int) -> Charge:
        """Add the endpoint's weight for ``scope`` (IP or UID) or raise 429 / -1003 with Retry-After."""
        if endpoint.path.startswith("/api/"):
            budget, header = "api", API_HEADER
        else:
            budget = endpoint.name
            header = SAPI_UID_HEADER if endpoint.limit_kind == "UID" else SAPI_IP_HEADER
        window = int(now_ms // self.window_ms)
        key = (budget, scope)
        with self._lock:
            counted_window, used = self._counts.get(key, (window, 0))
            if counted_window != window:
                used = 0
            if used + endpoint.weight > endpoint.limit:
                self._counts[key] = (window, used)
                retry_after = max(1, math.ceil(((window + 1) * self.window_ms - now_ms) / 1000.0))
                raise RateLimited(used, header, retry_after, endpoint.limit, self._window_label())
            used += endpoint.weight
            self._counts[key] = (window, used)
            return Charge(header, used)

    def used(self, endpoint: Endpoint, scope: str, now_ms: int) -> int:
        """Weight used so far in the current window (0 when nothing counted yet)."""
        budget = "api" if endpoint.path.startswith("/api/") else endpoint.name
        with self._lock:
            window, used = self._counts.get((budget, scope), (-1, 0))
            return used if window == int(now_ms // self.window_ms) else 0

    def reset(self) -> None:
        """Forget every counter."""
        with self._lock:
            self._counts.clear()


class RateLimited(SandboxError):
    """HTTP 429 / -1003 with the integer ``Retry-After`` seconds until the window ends."""

    def __init__(self, used: int, header: str, retry_after: int, limit: int, window_label: str) -> None:
        super().__init__(
            -1003,
            f"Too much request weight used; current limit is {limit} request weight per {window_label}. "
            "Please use WebSocket Streams for live updates to avoid polling the API.",
            429,
        )
        self.used = used
        self.header = header
        self.retry_after = retry_after
