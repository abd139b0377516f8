"""A counting HTTP/1.1 forwarder for loopback benchmarks and tests.

Clients talk to the proxy (``proxy.url``) instead of the sandbox; every byte is forwarded
unchanged in both directions (keep-alive included), and each response is recorded as it
crosses the wire: its status, the request's method and path, the hashed API key and the
time. The counts come from the wire, never from the client's own bookkeeping.
"""

from __future__ import annotations

import hashlib
import socket
import socketserver
import threading
import time
from collections import Counter, deque
from dataclasses import dataclass
from typing import BinaryIO


@dataclass(frozen=True)
class Exchange:
    """One request/response pair seen by the proxy."""

    at: float  # time.time() when the response's status line arrived
    method: str
    path: str
    key_hash: str  # sha256 of X-MBX-APIKEY (16 hex chars), "" when absent
    status: int


def _read_message(stream: BinaryIO) -> tuple[bytes, dict[str, str]] | None:
    """Read one HTTP message (start line, headers, Content-Length body); None at EOF."""
    head = b""
    while not head.endswith(b"\r\n\r\n"):
        line = stream.readline(65537)
        if not line:
            return None
        head += line
        if head == b"\r\n":  # stray CRLF between messages
            head = b""
    lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if sep:
            headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0") or 0)
    body = stream.read(length) if length else b""
    return head + body, {"start-line": lines[0], **headers}


class _Handler(socketserver.BaseRequestHandler):
    server: _Server

    def handle(self) -> None:
        proxy = self.server.proxy
        upstream = socket.create_connection(proxy.upstream, timeout=60)
        upstream.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        pending: deque[tuple[str, str, str]] = deque()
        lock = threading.Lock()
        pump = threading.Thread(target=self._responses, args=(upstream, pending, lock), daemon=True)
        pump.start()
        client_in = self.request.makefile("rb")
        try:
            while True:
                message = _read_message(client_in)
                if message is None:
                    break
                raw, headers = message
                method, _, rest = headers["start-line"].partition(" ")
                path = rest.split(" ", 1)[0].split("?", 1)[0]
                key = headers.get("x-mbx-apikey", "")
                key_hash = hashlib.sha256(key.encode()).hexdigest()[:16] if key else ""
                with lock:
                    pending.append((method, path, key_hash))
                upstream.sendall(raw)
        except OSError:
            pass
        finally:
            for sock in (upstream, self.request):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            pump.join(timeout=5)
            upstream.close()

    def _responses(self, upstream: socket.socket, pending: deque[tuple[str, str, str]], lock: threading.Lock) -> None:
        proxy = self.server.proxy
        upstream_in = upstream.makefile("rb")
        try:
            while True:
                message = _read_message(upstream_in)
                if message is None:
                    break
                raw, headers = message
                status = int(headers["start-line"].split(" ", 2)[1])
                with lock:
                    method, path, key_hash = pending.popleft() if pending else ("?", "?", "")
                proxy.record(Exchange(time.time(), method, path, key_hash, status))
                self.request.sendall(raw)
        except (OSError, ValueError, IndexError):
            pass
        finally:
            try:
                self.request.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256

    def __init__(self, proxy: CountingProxy) -> None:
        self.proxy = proxy
        super().__init__(("127.0.0.1", 0), _Handler)


class CountingProxy:
    """``CountingProxy(("127.0.0.1", sandbox_port)).start()`` returns the URL clients should use.

    :param upstream: (host, port) of the server to forward to.
    """

    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self._lock = threading.Lock()
        self.exchanges: list[Exchange] = []
        self._server: _Server | None = None

    def record(self, exchange: Exchange) -> None:
        """Add one exchange (called by the connection threads)."""
        with self._lock:
            self.exchanges.append(exchange)

    def start(self) -> str:
        """Listen on a free loopback port; returns ``http://127.0.0.1:PORT``."""
        self._server = _Server(self)
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self.url

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def stop(self) -> None:
        """Stop accepting connections (open ones end when their peers close)."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def snapshot(self) -> list[Exchange]:
        """Every exchange so far, in arrival order."""
        with self._lock:
            return list(self.exchanges)

    def statuses(self) -> Counter[int]:
        """Responses by HTTP status."""
        return Counter(e.status for e in self.snapshot())

    def reset(self) -> None:
        """Forget the exchanges recorded so far."""
        with self._lock:
            self.exchanges.clear()
