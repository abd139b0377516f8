"""The HTTP side of the sandbox: a stdlib ``ThreadingHTTPServer`` speaking HTTP/1.1 with keep-alive.

The handler reads the exact request bytes (raw query string, body capped at
64 KiB), hands them to :class:`~.app.SandboxApp` and writes the answer, or drops
the connection when a fault says so. Malformed HTTP gets a Binance-shaped JSON
error, never a crash or a hang (30 s socket timeout per connection).
"""

from __future__ import annotations

import logging
import os
import re
import socket
import socketserver
import threading
from collections.abc import Mapping
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any

from binance_loan_sandbox import jsonwire, valuation
from binance_loan_sandbox.app import SandboxApp
from binance_loan_sandbox.binance_facts import ILLEGAL_CHARS, MSG_UNSUPPORTED, UNSUPPORTED_OPERATION
from binance_loan_sandbox.commits import PendingCommit
from binance_loan_sandbox.errors import SandboxError
from binance_loan_sandbox.faults import FaultPlan, FaultRule
from binance_loan_sandbox.messages import JSON_TYPE, Request, Response, error_response
from binance_loan_sandbox.server_clock import SandboxClock
from binance_loan_sandbox.state import DEMO, SandboxState, load_state, save_state

log = logging.getLogger("binance_loan_sandbox")

MAX_BODY_BYTES = 64 * 1024
DRAIN_LIMIT_BYTES = 4 * 1024 * 1024
SOCKET_TIMEOUT_SECONDS = 30.0
_SIGNATURE_VALUE = re.compile(r"(signature=)[^&\s]+", re.IGNORECASE)  # access log lines never show a signature
LISTEN_BACKLOG = 256  # a burst of concurrent connects is queued, not reset (stdlib default: 5)
_SEND_ERROR_CODES = {
    400: (ILLEGAL_CHARS, "Malformed HTTP request."),
    414: (ILLEGAL_CHARS, "Request-URI too long."),
    431: (ILLEGAL_CHARS, "Request header fields too large."),
    501: (UNSUPPORTED_OPERATION, MSG_UNSUPPORTED),
}


class _Handler(BaseHTTPRequestHandler):
    """Reads raw bytes, calls the app, writes JSON (or drops the socket)."""

    protocol_version = "HTTP/1.1"
    server_version = "BinanceLoanSandbox/1"
    sys_version = ""
    timeout = SOCKET_TIMEOUT_SECONDS
    disable_nagle_algorithm = True
    server: _HTTPServer

    def setup(self) -> None:
        """Register the connection so stop() can cut it."""
        super().setup()
        self.server.track(self.connection, True)

    def finish(self) -> None:
        """Flush and forget the connection."""
        try:
            super().finish()
        except OSError:
            pass
        finally:
            self.server.track(self.connection, False)

    def do_GET(self) -> None:
        """Every supported method goes through the same dispatcher."""
        self._dispatch()

    do_POST = do_DELETE = do_PUT = do_PATCH = do_OPTIONS = do_GET

    # -- request -------------------------------------------------------------------------------------

    def _dispatch(self) -> None:
        target = self.path.encode("latin-1", "replace")
        if target.startswith((b"http://", b"https://")):
            rest = target.split(b"//", 1)[1]
            target = b"/" + rest.split(b"/", 1)[1] if b"/" in rest else b"/"
        raw_path, _, raw_query = target.partition(b"?")
        raw_query = raw_query.split(b"#", 1)[0]
        try:
            body = self._read_body()
        except SandboxError as exc:
            self._send(error_response(exc))
            return
        except OSError:
            self.close_connection = True
            return
        request = Request(
            method=self.command,
            path=raw_path.decode("latin-1"),
            raw_query=raw_query,
            raw_body=body,
            api_key=self.headers.get("X-MBX-APIKEY"),
            client_ip=str(self.client_address[0]),
        )
        response = self.server.app.handle(request)
        if response.drop:
            self._drop()
        else:
            self._send(response)

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding"):
            raise SandboxError(ILLEGAL_CHARS, "Chunked request bodies are not supported; send Content-Length.", 411,
                               close=True)
        values = {v.strip() for v in self.headers.get_all("Content-Length") or ()}
        if not values:
            return b""
        text = values.pop()
        if values or not text.isascii() or not text.isdigit():
            raise SandboxError(ILLEGAL_CHARS, "Malformed request: invalid Content-Length header.", 400, close=True)
        length = int(text)
        if length > MAX_BODY_BYTES:
            if length <= DRAIN_LIMIT_BYTES:
                self._drain(length)
            raise SandboxError(ILLEGAL_CHARS, f"Request body too large: {length} bytes (limit {MAX_BODY_BYTES}).", 413,
                               close=True)
        body = self.rfile.read(length)
        if len(body) < length:
            raise SandboxError(ILLEGAL_CHARS, "Malformed request: body shorter than Content-Length.", 400, close=True)
        return body

    def _drain(self, length: int) -> None:
        """Read and discard an oversized body so the client gets to read our answer."""
        remaining = length
        try:
            while remaining > 0:
                chunk = self.rfile.read(min(remaining, 65536))
                if not chunk:
                    return
                remaining -= len(chunk)
        except OSError:
            return

    # -- response ------------------------------------------------------------------------------------

    def _send(self, response: Response) -> None:
        try:
            self.send_response(response.status)
            self.send_header("Content-Type", response.content_type)
            self.send_header("Content-Length", str(len(response.body)))
            for name, value in response.headers:
                self.send_header(name, value)
            if response.close:
                self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(response.body)
        except OSError:
            self.close_connection = True

    def _drop(self) -> None:
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """Errors detected by http.server itself (bad request line, unsupported method) as Binance JSON."""
        binance_code, text = _SEND_ERROR_CODES.get(code, _SEND_ERROR_CODES[400])
        if message and code == 400:
            text = f"Malformed HTTP request: {message}."
        if getattr(self, "request_version", "HTTP/0.9") == "HTTP/0.9":
            self.request_version = "HTTP/1.1"
        self.log_error("code %d, message %s", code, message)
        self._send(Response(code, jsonwire.dumps({"code": binance_code, "msg": text}), close=True))
        self.close_connection = True

    def log_message(self, format: str, *args: Any) -> None:
        """Access log at DEBUG level, signatures redacted."""
        log.debug("%s %s", self.address_string(), _SIGNATURE_VALUE.sub(r"\1***", format % args))


class _HTTPServer(ThreadingHTTPServer):
    """ThreadingHTTPServer that knows its app and can cut every open connection on stop."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = LISTEN_BACKLOG

    def __init__(self, address: tuple[str, int], app: SandboxApp) -> None:
        self.app = app
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, _Handler)

    def server_bind(self) -> None:
        # Skip HTTPServer.server_bind's reverse DNS lookup (getfqdn), which can be slow offline.
        """Bind without HTTPServer's reverse DNS lookup."""
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name = str(host)
        self.server_port = int(port)

    def track(self, connection: socket.socket, add: bool) -> None:
        """Add or remove an open connection."""
        with self._connections_lock:
            if add:
                self._connections.add(connection)
            else:
                self._connections.discard(connection)

    def close_connections(self) -> None:
        """Shut down every open connection (keep-alive included)."""
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Connection-level errors (resets, timeouts) are routine: log at DEBUG."""
        log.debug("connection error from %s", client_address, exc_info=True)


class _HTTPServer6(_HTTPServer):
    address_family = socket.AF_INET6


class SandboxServer:
    """A local Binance Institutional Loan API server on a background thread.

    ``SandboxServer(load_state("demo"), admin=True).start()`` returns the base URL;
    ``stop()`` shuts it down; also usable as a context manager.
    """

    def __init__(
        self,
        state: SandboxState | str | os.PathLike[str] = DEMO,
        host: str = "127.0.0.1",
        port: int = 0,
        window_seconds: float = 60.0,
        admin: bool = False,
        state_path: str | os.PathLike[str] | None = None,
        save_on_exit: bool = False,
        live_interest: bool = False,
        clock: SandboxClock | None = None,
    ) -> None:
        """
        :param state: a ``SandboxState``, a state file path, or ``"demo"``.
        :param host: bind address.
        :param port: TCP port (0 picks a free one).
        :param window_seconds: length of the weight windows.
        :param admin: serve the ``/sandbox/*`` admin and fault endpoints.
        :param state_path: where :meth:`save` writes.
        :param save_on_exit: save on :meth:`stop`.
        :param live_interest: charge interest on every hour boundary the clock passes.
        :param clock: the server clock; ``SandboxClock(source)`` with a virtual time source makes every
            sandbox time (timestamps, windows, late commits, record visibility) follow that source.
        """
        if not isinstance(state, SandboxState):
            if state_path is None and str(state) != DEMO:
                state_path = state
            state = load_state(state)
        if save_on_exit and state_path is None:
            raise ValueError("save_on_exit needs state_path")
        self.host = host
        self.port = port
        self.window_seconds = window_seconds
        self.state_path = None if state_path is None else Path(state_path)
        self.save_on_exit = save_on_exit
        self.app = SandboxApp(state, window_seconds=window_seconds, admin=admin, live_interest=live_interest,
                              clock=clock)
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -----------------------------------------------------------------------------------

    def start(self) -> str:
        """Bind and serve on a daemon thread; returns the base URL (``http://127.0.0.1:PORT``)."""
        if self._httpd is not None:
            return self.url
        server_class = _HTTPServer6 if ":" in self.host else _HTTPServer
        self._httpd = server_class((self.host, self.port), self.app)
        self.port = int(self._httpd.server_address[1])
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, name=f"sandbox-{self.port}",
            daemon=True,
        )
        self._thread.start()
        log.info("sandbox listening on %s", self.url)
        return self.url

    def stop(self) -> None:
        """Stop serving, cut open keep-alive connections, and save the state if asked to."""
        httpd, self._httpd = self._httpd, None
        if httpd is None:
            return
        httpd.shutdown()
        httpd.close_connections()
        httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        if self.save_on_exit and self.state_path is not None:
            self.save()

    def __enter__(self) -> SandboxServer:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        """True between start() and stop()."""
        return self._httpd is not None

    @property
    def url(self) -> str:
        """The base URL to give a client (``base_url=server.url``)."""
        if self._httpd is None:
            raise RuntimeError("sandbox server is not started")
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    # -- state, clock, faults, counters --------------------------------------------------------------

    @property
    def state(self) -> SandboxState:
        """The live simulated state (inspect or adjust it in tests); late commits due by now are applied first."""
        self.app.apply_due_commits()
        return self.app.state

    @property
    def clock(self) -> SandboxClock:
        """The server clock."""
        return self.app.clock

    def apply_due_commits(self) -> int:
        """Apply every late commit due by the sandbox clock's now; returns how many were applied or skipped."""
        return self.app.apply_due_commits()

    @property
    def pending_commits(self) -> list[PendingCommit]:
        """Late commits accepted but not applied yet, in due order (due ones are applied first)."""
        self.app.apply_due_commits()
        return self.app.commits.pending()

    def save(self, path: str | os.PathLike[str] | None = None) -> None:
        """Write the current state as JSON (to ``path`` or ``state_path``).

        :param path: where to write; default ``state_path``.
        """
        target = path if path is not None else self.state_path
        if target is None:
            raise ValueError("no path to save the state to")
        save_state(self.app.state, target)

    @property
    def faults(self) -> FaultPlan:
        """The current fault plan."""
        return self.app.faults

    def set_faults(self, rules: list[dict[str, Any] | FaultRule]) -> None:
        """Replace the fault rules (same format as ``POST /sandbox/faults``).

        :param rules: the new rules (JSON-shaped dicts or FaultRule objects); all are validated first.
        """
        self.app.faults.set(rules)

    def clear_faults(self) -> None:
        """Remove every fault rule."""
        self.app.faults.clear()

    def set_clock_skew(self, skew_ms: int) -> None:
        """Shift the server clock by ``skew_ms`` relative to real time (tests -1021 handling).

        :param skew_ms: the new skew in milliseconds (replaces the previous one).
        """
        self.app.clock.set_skew(skew_ms)

    def advance_hours(self, hours: int) -> int:
        """Move the server clock forward and accrue that many hours of interest; returns rows written.

        :param hours: whole hours, 1 to 8784.
        """
        return self.app.advance_hours(hours)

    @property
    def prices(self) -> dict[str, Decimal]:
        """A copy of the asset prices used to value wallets, collateral and liabilities."""
        with self.app.state.lock:
            return dict(self.app.state.prices)

    def set_prices(self, prices: Mapping[str, Decimal | str | int]) -> dict[str, Decimal]:
        """Set asset prices (as ``POST /sandbox/prices``): e.g. ``{"BTC": "45000.5"}``; returns every price.

        :param prices: asset → positive price (decimal string, int or Decimal; no floats).
        :raises ValueError: naming the asset and value of an invalid price; nothing changes then.
        """
        return valuation.set_prices(self.app.state, prices)

    def now_ms(self) -> int:
        """The sandbox's current server time in milliseconds."""
        return self.app.clock.now_ms()

    @property
    def request_count(self) -> int:
        """Binance-API requests that reached the sandbox (admin calls excluded)."""
        return self.app.request_count

    @property
    def endpoint_counts(self) -> dict[str, int]:
        """Requests per endpoint name (``repay``, ``ltv_details``, ...) that reached the sandbox."""
        return dict(self.app.endpoint_counts)

    def reset_counters(self) -> None:
        """Zero request_count and endpoint_counts."""
        self.app.reset_counters()


__all__ = ["JSON_TYPE", "MAX_BODY_BYTES", "SandboxServer"]
