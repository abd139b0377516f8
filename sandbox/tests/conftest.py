"""Sandbox-test helpers: hand-signed requests (hmac/hashlib and cryptography, no client code) and raw sockets.

The sandbox's fixtures (``sandbox``, ``sandbox_factory``, ``virtual_sandbox``, ``demo_creds``) come from
its own pytest plugin (``binance_loan_sandbox.pytest_plugin``); these helpers are for its tests only.
"""

from __future__ import annotations

import http.client
import json
import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

import pytest
import requests
from hand_signing import sign

from binance_loan_sandbox import SandboxServer


class RawSapi:
    """Builds, signs (by hand, any key type) and sends requests with ``requests``, byte for byte as written."""

    def __init__(self, server: SandboxServer, creds: dict[str, dict[str, Any]]) -> None:
        self.server = server
        self.creds = creds
        self.http = requests.Session()

    def sign(self, account: str, payload: str | bytes) -> str:
        cred = self.creds[account]
        return sign(cred["secret"], cred["keyType"], payload.encode() if isinstance(payload, str) else payload)

    def call(
        self,
        method: str,
        path: str,
        params: dict[str, Any] | list[tuple[str, Any]] | None = None,
        account: str = "credit_hmac",
        *,
        in_body: bool = False,
        timestamp: int | None = None,
        recv_window: int | None = None,
        query: str | None = None,
        body: str | None = None,
        signature: str | None = None,
        api_key: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> requests.Response:
        """Encode ``params`` (+ timestamp) with urlencode, sign query+body, append ``signature`` (encoded) last."""
        items = list(params.items()) if isinstance(params, dict) else list(params or [])
        if recv_window is not None:
            items.append(("recvWindow", recv_window))
        items.append(("timestamp", self.server.now_ms() - 50 if timestamp is None else timestamp))
        encoded = urlencode(items)
        if query is None and body is None:
            query, body = ("", encoded) if in_body else (encoded, "")
        query = query or ""
        body = body or ""
        sig = quote(signature if signature is not None else self.sign(account, query + body), safe="")
        if body:
            body = f"{body}&signature={sig}"
        else:
            query = f"{query}&signature={sig}" if query else f"signature={sig}"
        send_headers = {"X-MBX-APIKEY": self.creds[account]["apiKey"] if api_key is None else api_key}
        if body:
            send_headers["Content-Type"] = "application/x-www-form-urlencoded"
        send_headers.update(headers or {})
        url = f"{self.server.url}{path}" + (f"?{query}" if query else "")
        return self.http.request(method, url, data=body.encode() if body else None, headers=send_headers,
                                 timeout=10)


@pytest.fixture
def raw(sandbox: SandboxServer, demo_creds: dict[str, dict[str, Any]]) -> Iterator[RawSapi]:
    """Hand-signed HTTP against the ``sandbox`` fixture."""
    client = RawSapi(sandbox, demo_creds)
    yield client
    client.http.close()


@pytest.fixture
def raw_for(demo_creds: dict[str, dict[str, Any]]) -> Callable[[SandboxServer], RawSapi]:
    """Hand-signed HTTP against any sandbox (e.g. one from ``sandbox_factory``)."""
    return lambda server: RawSapi(server, demo_creds)


@dataclass(frozen=True)
class RawReply:
    """A parsed HTTP answer to raw bytes."""

    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def send_raw(server: SandboxServer, data: bytes, *, shutdown_write: bool = False) -> RawReply:
    """Write raw bytes on a fresh socket and parse the HTTP answer (for malformed requests)."""
    parts = urlsplit(server.url)
    sock = socket.create_connection((parts.hostname, parts.port), timeout=10)
    try:
        sock.sendall(data)
        if shutdown_write:
            sock.shutdown(socket.SHUT_WR)
        response = http.client.HTTPResponse(sock)
        response.begin()
        body = response.read()
        return RawReply(response.status, {k.lower(): v for k, v in response.getheaders()}, body)
    finally:
        sock.close()


@pytest.fixture
def raw_socket() -> Callable[..., RawReply]:
    """``raw_socket(server, data, shutdown_write=False)`` → RawReply."""
    return send_raw
