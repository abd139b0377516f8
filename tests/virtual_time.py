"""Virtual time shared by the client and the sandbox: sleeping advances it instantly.

A reconciliation that waits ten minutes for evidence runs in milliseconds, while the sandbox
(late commits, record lag, weight windows) and the client (timestamps, pacing, horizons) keep
agreeing on what time it is. Only the HTTP read timeout stays real.
"""

from __future__ import annotations

import threading
import time


class VirtualClock:
    """The client's Clock protocol over a virtual epoch that starts at the real time."""

    def __init__(self, start: float | None = None) -> None:
        self._lock = threading.Lock()
        self._now = time.time() if start is None else start
        self._mono = 1_000.0
        self.slept = 0.0

    def time(self) -> float:
        with self._lock:
            return self._now

    def monotonic(self) -> float:
        with self._lock:
            return self._mono

    def sleep(self, seconds: float) -> None:
        self.advance(seconds)

    def advance(self, seconds: float) -> None:
        if seconds <= 0:
            return
        with self._lock:
            self._now += seconds
            self._mono += seconds
            self.slept += seconds
