"""Virtual time a test shares between the sandbox and a client: sleeping advances it instantly.

A reconciliation that waits ten minutes for evidence runs in milliseconds, while the sandbox
(late commits, record lag, weight windows) and the client (timestamps, pacing, horizons) keep
agreeing on what time it is. Only the HTTP read timeout stays real.

``SandboxClock(source=clock.time)`` makes the sandbox read it; a client takes the object itself
wherever it accepts a clock with ``time()``, ``monotonic()`` and ``sleep()``.
"""

from __future__ import annotations

import threading
import time


class VirtualClock:
    """Wall time, monotonic time and sleeping over a virtual epoch that starts at the real time."""

    def __init__(self, start: float | None = None) -> None:
        """
        :param start: the first wall-time reading in epoch seconds; default: the real time now.
        """
        self._lock = threading.Lock()
        self._now = time.time() if start is None else start
        self._mono = 1_000.0
        self.slept = 0.0

    def time(self) -> float:
        """Virtual epoch seconds."""
        with self._lock:
            return self._now

    def monotonic(self) -> float:
        """Virtual monotonic seconds (moves with :meth:`advance`)."""
        with self._lock:
            return self._mono

    def sleep(self, seconds: float) -> None:
        """Return at once, ``seconds`` later in virtual time.

        :param seconds: how long to "sleep"; nothing happens for 0 or less.
        """
        self.advance(seconds)

    def advance(self, seconds: float) -> None:
        """Move wall and monotonic time forward (and count it in :attr:`slept`).

        :param seconds: how far; nothing happens for 0 or less.
        """
        if seconds <= 0:
            return
        with self._lock:
            self._now += seconds
            self._mono += seconds
            self.slept += seconds
