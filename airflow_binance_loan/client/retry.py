"""When a failed call may be sent again, and how long to wait first.

Read-only calls retry transport errors, timeouts, HTTP 5xx and -1000/-1001/-1004/
-1006/-1007/-1008 with exponential backoff and jitter. Money-moving calls are
resent only when the request provably never reached Binance or was rejected
before execution (429/418 after the wait, -1021 after a clock resync); everything
else after sending becomes :class:`ExecutionUnknownError`.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field


@dataclass(frozen=True)
class RetryPolicy:
    read_attempts: int = 4
    unsent_write_attempts: int = 3
    rate_limit_retries: int = 3
    backoff_base_seconds: float = 0.5
    backoff_cap_seconds: float = 8.0
    rng: random.Random = field(default_factory=random.Random, compare=False, repr=False)

    def backoff(self, retry_number: int) -> float:
        """Exponential backoff with "equal jitter": half fixed, half random, capped."""
        ceiling = min(self.backoff_cap_seconds, self.backoff_base_seconds * (2 ** max(0, retry_number - 1)))
        return ceiling / 2 + self.rng.uniform(0, ceiling / 2)


DEFAULT_RETRY_POLICY = RetryPolicy()
