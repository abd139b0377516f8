"""The sandbox clock: real wall time plus an injected skew (fault) plus time travelled (advance).

Everything time-dependent in the sandbox (timestamp checks, weight windows,
record timestamps, interest hours) reads this one clock.
"""

from __future__ import annotations

import threading
import time

HOUR_MS = 3_600_000


class SandboxClock:
    """Milliseconds since the epoch as the simulated Binance server sees them."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._skew_ms = 0
        self._advanced_ms = 0

    @property
    def skew_ms(self) -> int:
        """The injected skew in milliseconds."""
        return self._skew_ms

    @property
    def advanced_ms(self) -> int:
        """How far the clock has been advanced (time travel), in milliseconds."""
        return self._advanced_ms

    def now_ms(self) -> int:
        """Current sandbox server time in epoch milliseconds."""
        return int(time.time() * 1000) + self._skew_ms + self._advanced_ms

    def set_skew(self, skew_ms: int) -> None:
        """Shift the server clock by ``skew_ms`` relative to real time (replaces the previous skew)."""
        with self._lock:
            self._skew_ms = int(skew_ms)

    def advance(self, delta_ms: int) -> tuple[int, int]:
        """Move the clock forward for good; returns (now before, now after)."""
        with self._lock:
            before = self.now_ms()
            self._advanced_ms += int(delta_ms)
            return before, before + int(delta_ms)
