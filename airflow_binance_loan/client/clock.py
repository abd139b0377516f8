"""Time: an injectable clock and the server-time offset used for ``timestamp``.

Binance accepts a request when ``timestamp < server_time + 1000`` and
``server_time - timestamp <= recvWindow``. The offset is measured against
``GET /api/v3/time`` at the midpoint of the round trip, refreshed periodically,
and kept slightly in the past (``safety_ms``) because of the 1-second rule.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Protocol


class Clock(Protocol):
    """Wall time, monotonic time and sleeping, injectable so tests never really sleep."""

    def time(self) -> float: ...

    def monotonic(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...


class SystemClock:
    """The real clock."""

    def time(self) -> float:
        return time.time()

    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)


SYSTEM_CLOCK = SystemClock()


class ServerTime:
    """Local estimate of Binance server time in integer milliseconds (thread-safe)."""

    def __init__(
        self,
        clock: Clock = SYSTEM_CLOCK,
        *,
        refresh_seconds: float = 300.0,
        safety_ms: int = 100,
    ) -> None:
        self._clock = clock
        self._refresh = refresh_seconds
        self._safety_ms = safety_ms
        self._lock = threading.Lock()
        self._offset_ms: float = 0.0
        self._uncertainty_ms: float = 0.0
        self._synced_at: float | None = None

    @property
    def offset_ms(self) -> float:
        """server time − local time, in milliseconds (0 before the first sync)."""
        return self._offset_ms

    @property
    def uncertainty_ms(self) -> float:
        """Half the round trip of the last sync: how far off the offset can be."""
        return self._uncertainty_ms

    def needs_sync(self) -> bool:
        synced = self._synced_at
        return synced is None or self._clock.monotonic() - synced >= self._refresh

    def sync(self, fetch_server_ms: Callable[[], int]) -> None:
        """Measure the offset with one server-time call (midpoint of the round trip)."""
        sent = self._clock.time()
        server_ms = fetch_server_ms()
        received = self._clock.time()
        midpoint_ms = (sent + received) * 500.0
        with self._lock:
            self._offset_ms = server_ms - midpoint_ms
            self._uncertainty_ms = (received - sent) * 500.0
            self._synced_at = self._clock.monotonic()

    def invalidate(self) -> None:
        """Force a sync before the next signed request (after -1021)."""
        with self._lock:
            self._synced_at = None

    def server_now(self) -> float:
        """Best estimate of the server's current time in (fractional) milliseconds."""
        return self._clock.time() * 1000.0 + self._offset_ms

    def timestamp_ms(self) -> int:
        """The ``timestamp`` parameter: server time, nudged into the past by the safety margin."""
        return int(self.server_now() - self._safety_ms)
