"""Fixtures for the shared-budget tests: a real redis-server, the sandbox behind a counting proxy.

The harness (worker processes, K-account state) and the counting proxy live in ``bench/``
(on pytest's ``pythonpath``); the benchmark and these tests use the same code.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from binance_loan_sandbox import SandboxServer
from budget_harness import RedisServer, build_state
from counting_proxy import CountingProxy

NO_REDIS = "redis-server is not installed (apt-get install redis-server, or run scripts/install_test_deps.sh)"


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    """A throw-away redis-server for the whole session; skips when the binary is absent."""
    pytest.importorskip("redis", reason="the redis package is missing (pip install -e '.[test]')")
    server = RedisServer()
    if not server.available:
        pytest.skip(NO_REDIS)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def redis_url(redis_server: RedisServer) -> str:
    """The session's Redis, flushed for this test."""
    import redis

    client = redis.Redis.from_url(redis_server.url)
    client.flushdb()
    client.close()
    return redis_server.url


@pytest.fixture
def proxied_sandbox() -> Iterator[Callable[..., tuple[SandboxServer, CountingProxy]]]:
    """``proxied_sandbox(k, window_seconds=1.0)``: a K-account sandbox and a counting proxy in front of it."""
    started: list[tuple[SandboxServer, CountingProxy]] = []

    def start(k: int, **kwargs: Any) -> tuple[SandboxServer, CountingProxy]:
        kwargs.setdefault("admin", True)
        server = SandboxServer(build_state(k), **kwargs)
        server.start()
        proxy = CountingProxy(("127.0.0.1", server.port))
        proxy.start()
        started.append((server, proxy))
        return server, proxy

    yield start
    for server, proxy in started:
        proxy.stop()
        server.stop()
