"""The sandbox clock: a time source (real wall time by default) plus an injected skew plus time travelled.

Everything time-dependent in the sandbox (timestamp checks, weight windows,
record timestamps, late commits, interest hours) reads this one clock. Tests can
inject a virtual time source shared with the client (:class:`.virtual_time.VirtualClock`); only the ``latency`` and
``commit_then_delay`` faults really sleep.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class SandboxClock:
    """Milliseconds since the epoch as the simulated Binance server sees them."""

    def __init__(self, source: Callable[[], float] | None = None) -> None:
        """
        :param source: returns the current time in epoch **seconds** (float); default ``time.time``.
            Skew and :meth:`advance` are added on top of it.
        """
        self._source: Callable[[], float] = source if source is not None else time.time
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
        # round, not int: a virtual source's float seconds × 1000 may land just below a whole millisecond
        return round(self._source() * 1000) + self._skew_ms + self._advanced_ms

    def set_skew(self, skew_ms: int) -> None:
        """Shift the server clock by ``skew_ms`` relative to the time source (replaces the previous skew).

        :param skew_ms: the new skew in milliseconds.
        """
        with self._lock:
            self._skew_ms = int(skew_ms)

    def advance(self, delta_ms: int) -> tuple[int, int]:
        """Move the clock forward for good; returns (now before, now after).

        :param delta_ms: how far, in milliseconds.
        """
        with self._lock:
            before = self.now_ms()
            self._advanced_ms += int(delta_ms)
            return before, before + int(delta_ms)

