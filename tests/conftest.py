"""Provider-side shared fixtures: virtual time and clients bound to a sandbox.

The sandbox fixtures themselves (``sandbox``, ``sandbox_factory``, ``virtual_sandbox``, ``demo_creds``)
come from the ``binance-loan-sandbox`` distribution's pytest plugin (``binance_loan_sandbox.pytest_plugin``,
registered through the ``pytest11`` entry point); ``sandbox_time_source`` below points its
``virtual_sandbox`` at ``virtual_clock``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from binance_loan_sandbox import SandboxServer, VirtualClock

from airflow_binance_loan.client import LoanClient, RetryPolicy, connect
from airflow_binance_loan.client.ratelimit import WeightPacer

FAST_RETRIES = RetryPolicy(backoff_base_seconds=0.01, backoff_cap_seconds=0.05)


@pytest.fixture
def virtual_clock() -> VirtualClock:
    """Virtual time: ``sleep`` advances it instantly; shared by ``virtual_sandbox`` and its clients."""
    return VirtualClock()


@pytest.fixture
def sandbox_time_source(virtual_clock: VirtualClock) -> Callable[[], float]:
    """Make the plugin's ``virtual_sandbox`` read ``virtual_clock``, so the sandbox and the client agree on the time."""
    return virtual_clock.time


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
        client.close()
