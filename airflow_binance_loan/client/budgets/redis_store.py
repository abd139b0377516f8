"""Cluster-wide budgets on Redis: every process of every host using the same Redis shares them.

Each limit key is one Redis hash (``w`` window, ``u`` used, ``b`` block end in server ms as a
decimal string, so ``Retry-After`` fractions survive). Every operation is one Lua script run,
which Redis executes atomically; the script mirrors :mod:`.base`'s rules. Keys expire an hour
after their last change (or an hour after a longer block ends). Needs the optional ``redis``
package: ``pip install 'airflow-provider-binance-loan[redis]'``.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlsplit

from airflow_binance_loan.client.budgets.base import BudgetStoreUnavailable, Slot
from airflow_binance_loan.exceptions import ConfigurationError

KEY_PREFIX = "binance_loan:budget:"
IDLE_TTL_MS = 3_600_000
DEFAULT_TIMEOUT_SECONDS = 1.0

# KEYS[1] the budget hash; ARGV[1] op; ARGV[2] window; ARGV[3] weight / server count / block end;
# ARGV[4] limit; ARGV[5] now (server ms); ARGV[6] idle TTL (ms); ARGV[7] settle-until (server ms).
# Returns {granted, w, u, b}.
LUA = """
local key, op, window = KEYS[1], ARGV[1], tonumber(ARGV[2])
local rec = redis.call('HMGET', key, 'w', 'u', 'b')
local w = tonumber(rec[1]) or -1
local u = tonumber(rec[2]) or 0
local b = tonumber(rec[3]) or 0
local granted = 0
if op == 'used' then
  if w ~= window then u = 0 end
  return {0, w, u, string.format('%.3f', b)}
elseif op == 'reserve' then
  local weight, limit, now = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
  if window == w + 1 and now < tonumber(ARGV[7]) and u + weight > limit then
    return {0, w, u, string.format('%.3f', b)}
  end
  if window > w or window < w - 1 then w = window; u = 0 end
  if now >= b and u + weight <= limit then u = u + weight; granted = 1 end
elseif op == 'release' then
  if w == window then u = math.max(0, u - tonumber(ARGV[3])) end
elseif op == 'observe' then
  local seen = tonumber(ARGV[3])
  if window > w then w = window; u = seen elseif window == w and seen > u then u = seen end
elseif op == 'block' then
  b = math.max(b, tonumber(ARGV[3]))
else
  return redis.error_reply('unknown budget op ' .. op)
end
redis.call('HSET', key, 'w', string.format('%d', w), 'u', string.format('%d', u), 'b', string.format('%.3f', b))
local t = redis.call('TIME')
local now_r = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local ttl = tonumber(ARGV[6])
redis.call('PEXPIRE', key, math.floor(math.max(ttl, b - now_r + ttl)))
return {granted, w, u, string.format('%.3f', b)}
"""


class RedisBudgetStore:
    """Budgets in Redis, shared by every host that uses the same server and database.

    :param url: ``redis://[user:password@]host:port/db`` or ``rediss://...`` (TLS).
    :param label: how the store is named in logs and errors (the URL without its password).
    :param timeout: connect and read timeout in seconds for each operation.
    :param prefix: prefix of every Redis key this store writes.
    :param client: an existing ``redis.Redis`` client to use instead of connecting to ``url``.
    """

    def __init__(self, url: str, *, label: str | None = None, timeout: float = DEFAULT_TIMEOUT_SECONDS,
                 prefix: str = KEY_PREFIX, client: Any = None) -> None:
        try:
            import redis
            from redis.backoff import NoBackoff
            from redis.retry import Retry
        except ImportError:
            raise ConfigurationError(
                "weight_budget redis:// needs the redis package: pip install 'airflow-provider-binance-loan[redis]'"
            ) from None
        self.label = label or url
        parts = urlsplit(url)
        self._passwords = [p for p in (parts.password, *(v for k, v in parse_qsl(parts.query) if k == "password")) if p]
        self._prefix = prefix
        self._errors: tuple[type[BaseException], ...] = (redis.RedisError, OSError)
        if client is None:
            # No client-side retries: an unreachable Redis must hand over to the fallback quickly.
            client = redis.Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout,
                                          retry=Retry(NoBackoff(), 0))
        self._client = client
        self._script = client.register_script(LUA)

    def __repr__(self) -> str:
        return f"RedisBudgetStore({self.label!r})"

    def close(self) -> None:
        """Close the connection pool."""
        self._client.close()

    def _run(self, key: str, op: str, window: int, value: float = 0, limit: int = 0, now_ms: float = 0.0,
             settle_until_ms: float = 0.0) -> Slot:
        try:
            granted, w, u, b = self._script(
                keys=[self._prefix + key],
                args=[op, window, float(value), limit, float(now_ms), IDLE_TTL_MS, float(settle_until_ms)],
            )
        except self._errors as exc:
            detail = str(exc)
            for password in self._passwords:
                detail = detail.replace(password, "***")
            raise BudgetStoreUnavailable(
                f"Redis weight budget {self.label} unavailable: {type(exc).__name__}: {detail}"
            ) from None
        return Slot(bool(granted), int(w), int(u), float(b))

    # -- the store contract ----------------------------------------------------------------------

    def reserve(
        self, key: str, window: int, weight: int, limit: int, now_ms: float, settle_until_ms: float = 0.0
    ) -> Slot:
        """See :meth:`BudgetStore.reserve`."""
        return self._run(key, "reserve", window, weight, limit, now_ms, settle_until_ms)

    def release(self, key: str, window: int, weight: int) -> None:
        """See :meth:`BudgetStore.release`."""
        self._run(key, "release", window, weight)

    def observe(self, key: str, window: int, server_used: int) -> None:
        """See :meth:`BudgetStore.observe`."""
        self._run(key, "observe", window, server_used)

    def block(self, key: str, until_ms: float) -> None:
        """See :meth:`BudgetStore.block`."""
        self._run(key, "block", 0, until_ms)

    def used(self, key: str, window: int) -> int:
        """See :meth:`BudgetStore.used`."""
        return self._run(key, "used", window).used
