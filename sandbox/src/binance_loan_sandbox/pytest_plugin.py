"""pytest fixtures for a local sandbox per test, registered through the ``pytest11`` entry point.

Installing ``binance-loan-sandbox`` makes these fixtures available to every pytest run in that
environment, like pytest-httpbin does for httpbin:

* ``sandbox``: a fresh demo-state server with admin endpoints on a free loopback port;
* ``sandbox_factory(state=None, **kwargs)``: start more servers (all stopped afterwards);
* ``virtual_sandbox``: a demo-state server whose clock reads ``sandbox_time_source``;
* ``sandbox_time_source``: epoch seconds for ``virtual_sandbox``; by default the ``time`` of a
  fresh :class:`~binance_loan_sandbox.virtual_time.VirtualClock` (it stands still unless advanced).
  Override it in a ``conftest.py`` to share the clock a client uses;
* ``demo_creds``: the demo accounts' fake API keys and secrets, by account name.

Every fixture name can be overridden by a ``conftest.py`` fixture of the same name.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from binance_loan_sandbox.server import SandboxServer
from binance_loan_sandbox.server_clock import SandboxClock
from binance_loan_sandbox.state import demo_credentials, load_state
from binance_loan_sandbox.virtual_time import VirtualClock


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
def sandbox_time_source() -> Callable[[], float]:
    """The time source of ``virtual_sandbox``, in epoch seconds: a fresh VirtualClock's ``time``."""
    return VirtualClock().time


@pytest.fixture
def virtual_sandbox(sandbox_time_source: Callable[[], float]) -> Iterator[SandboxServer]:
    """A fresh demo-state sandbox whose clock reads ``sandbox_time_source`` (late commits cost no real time).

    :param sandbox_time_source: the fixture of that name: epoch seconds, read on every sandbox time lookup.
    """
    server = SandboxServer(load_state("demo"), admin=True, clock=SandboxClock(source=sandbox_time_source))
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def demo_creds() -> dict[str, dict[str, Any]]:
    """The demo accounts' API keys and secrets/private keys, by name (``credit_hmac``, ``parent``, ...)."""
    return demo_credentials()
