"""Shared fixtures: a fresh local sandbox per test, the demo credentials, and clients bound to it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from virtual_time import VirtualClock

from airflow_binance_loan.client import LoanClient, RetryPolicy, connect
from airflow_binance_loan.client.ratelimit import WeightPacer
from airflow_binance_loan.sandbox import SandboxServer, demo_credentials, load_state
from airflow_binance_loan.sandbox.clock import SandboxClock

FAST_RETRIES = RetryPolicy(backoff_base_seconds=0.01, backoff_cap_seconds=0.05)


@pytest.fixture
def sandbox() -> Iterator[SandboxServer]:
    """A fresh demo-state sandbox with admin endpoints, on a free loopback port."""
    server = SandboxServer(load_state("demo"), admin=True)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def sandbox_factory() -> Iterator[Callable[..., SandboxServer]]:
    """``sandbox_factory(state=None, **kwargs)`` starts another sandbox (e.g. ``window_seconds=1``)."""
    servers: list[SandboxServer] = []

    def start(state: Any = None, **kwargs: Any) -> SandboxServer:
        kwargs.setdefault("admin", True)
        server = SandboxServer(load_state("demo") if state is None else state, **kwargs)
        server.start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def virtual_clock() -> VirtualClock:
    """Virtual time: ``sleep`` advances it instantly; shared by ``virtual_sandbox`` and its clients."""
    return VirtualClock()


@pytest.fixture
def virtual_sandbox(virtual_clock: VirtualClock) -> Iterator[SandboxServer]:
    """A fresh demo-state sandbox whose clock is ``virtual_clock`` (late commits and lags cost no real time)."""
    server = SandboxServer(load_state("demo"), admin=True, clock=SandboxClock(source=virtual_clock.time))
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def demo_creds() -> dict[str, dict[str, Any]]:
    """The demo accounts' API keys and secrets/private keys, by name (``credit_hmac``, ``parent``, ...)."""
    return demo_credentials()


@pytest.fixture
def client_for(
    request: pytest.FixtureRequest, demo_creds: dict[str, dict[str, Any]]
) -> Iterator[Callable[..., LoanClient]]:
    """``client_for(account_name, server=None, **session_options)``: a LoanClient for a demo account.

    Defaults to the ``sandbox`` fixture's server; each client gets its own WeightPacer and fast
    retry backoff (override with ``pacer=`` / ``retry_policy=``).
    """
    clients: list[LoanClient] = []

    def make(account: str, server: SandboxServer | None = None, **options: Any) -> LoanClient:
        target = server if server is not None else request.getfixturevalue("sandbox")
        creds = demo_creds[account]
        options.setdefault("pacer", WeightPacer(window_seconds=target.window_seconds))
        options.setdefault("window_seconds", target.window_seconds)
        options.setdefault("retry_policy", FAST_RETRIES)
        client = connect(creds["apiKey"], creds["secret"], base_url=target.url, key_type=creds["keyType"], **options)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.session.close()
