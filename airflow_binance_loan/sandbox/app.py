"""The request pipeline, independent of HTTP I/O: route → weight → key → signature → timestamp → faults → handler.

:class:`SandboxApp` owns the state, clock, weight limiter, fault plan and
request counters. The HTTP server (:mod:`.server`) only reads bytes, calls
:meth:`SandboxApp.handle` and writes (or drops) the :class:`Response`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from typing import Any

from airflow_binance_loan.client.endpoints import BY_ROUTE, ENDPOINTS, Endpoint
from airflow_binance_loan.sandbox import jsonwire, ledger, routes
from airflow_binance_loan.sandbox.admin import handle_admin
from airflow_binance_loan.sandbox.auth import KeyRing, check_timestamp, check_window, split_signed
from airflow_binance_loan.sandbox.clock import HOUR_MS, SandboxClock
from airflow_binance_loan.sandbox.errors import (
    MSG_PENDING,
    MSG_PENDING_LOAN,
    MSG_TIMEOUT_1007,
    MSG_UNKNOWN,
    SandboxError,
    method_not_allowed,
    not_found,
)
from airflow_binance_loan.sandbox.faults import FaultPlan, FaultRule
from airflow_binance_loan.sandbox.limits import WeightLimiter
from airflow_binance_loan.sandbox.messages import Request, Response, error_response
from airflow_binance_loan.sandbox.params import Params
from airflow_binance_loan.sandbox.state import SandboxState

log = logging.getLogger("airflow_binance_loan.sandbox")

ADMIN_PREFIX = "/sandbox"
MAX_ADVANCE_HOURS = 24 * 366
_KNOWN_PATHS = frozenset(e.path for e in ENDPOINTS)
_HTML_503 = (
    b"<html><head><title>503 Service Temporarily Unavailable</title></head><body>"
    b"<center><h1>503 Service Temporarily Unavailable</h1></center></body></html>"
)


class SandboxApp:
    """The simulated exchange behind the HTTP server (thread-safe)."""

    def __init__(
        self,
        state: SandboxState,
        *,
        window_seconds: float = 60.0,
        admin: bool = False,
        live_interest: bool = False,
        clock: SandboxClock | None = None,
    ) -> None:
        self.state = state
        self.clock = clock or SandboxClock()
        self.limiter = WeightLimiter(window_seconds)
        self.faults = FaultPlan()
        self.keys = KeyRing(state)
        self.admin = admin
        self.live_interest = live_interest
        self._count_lock = threading.Lock()
        self.request_count = 0
        self.endpoint_counts: Counter[str] = Counter()

    # -- counters --------------------------------------------------------------------------------

    def _count(self, endpoint: Endpoint | None) -> None:
        with self._count_lock:
            self.request_count += 1
            if endpoint is not None:
                self.endpoint_counts[endpoint.name] += 1

    def reset_counters(self) -> None:
        """Zero the request counters."""
        with self._count_lock:
            self.request_count = 0
            self.endpoint_counts.clear()

    # -- time ------------------------------------------------------------------------------------

    def advance_hours(self, hours: int) -> int:
        """Move the sandbox clock forward ``hours`` and charge exactly that many hours of interest."""
        if isinstance(hours, bool) or not isinstance(hours, int) or not 1 <= hours <= MAX_ADVANCE_HOURS:
            raise ValueError(f"hours must be an integer between 1 and {MAX_ADVANCE_HOURS}")
        with self.state.lock:
            if self.live_interest:
                ledger.accrue_until(self.state, self.clock.now_ms())
            before, after = self.clock.advance(hours * HOUR_MS)
            rows = ledger.accrue(self.state, ledger.hour_boundaries(before, after))
            self.state.last_accrual_ms = after
            return rows

    # -- the pipeline ----------------------------------------------------------------------------

    def handle(self, request: Request) -> Response:
        """Answer one request; never raises."""
        if self.admin and (request.path == ADMIN_PREFIX or request.path.startswith(ADMIN_PREFIX + "/")):
            return handle_admin(self, request)
        endpoint = BY_ROUTE.get((request.method, request.path))
        self._count(endpoint)
        if endpoint is None:
            if request.path in _KNOWN_PATHS:
                return error_response(method_not_allowed(request.method, request.path))
            return error_response(not_found(request.path))
        headers: list[tuple[str, str]] = []
        try:
            return self._handle(endpoint, request, headers)
        except SandboxError as exc:
            return error_response(exc, headers)
        except Exception:
            log.exception("sandbox bug while handling %s %s", request.method, request.path)
            return error_response(SandboxError(-1000, MSG_UNKNOWN, 500), headers)

    def _charge(self, endpoint: Endpoint, scope: str, now_ms: int, headers: list[tuple[str, str]]) -> None:
        charge = self.limiter.charge(endpoint, scope, now_ms)
        headers.append((charge.header, str(charge.used)))

    def _handle(self, endpoint: Endpoint, request: Request, headers: list[tuple[str, str]]) -> Response:
        now = self.clock.now_ms()
        if self.live_interest:
            ledger.accrue_until(self.state, now)
        if endpoint.limit_kind == "IP":
            self._charge(endpoint, "ip:" + request.client_ip, now, headers)
        caller = None
        params = Params([], [])
        timestamp = recv_window = 0
        if endpoint.signed:
            caller = self.keys.identify(request.api_key)
            if endpoint.limit_kind == "UID":
                self._charge(endpoint, f"uid:{caller.uid}", now, headers)
            signed = split_signed(request.raw_query, request.raw_body)
            self.keys.verify(caller, signed)
            params = signed.params
            timestamp, recv_window = check_timestamp(params, now)
            routes.require_reading(endpoint, caller)

        decision = self.faults.decide(endpoint.name)
        if decision.latency_ms:
            time.sleep(decision.latency_ms / 1000.0)
            now = self.clock.now_ms()
            if endpoint.signed:  # Binance checks the window again when processing starts
                check_window(timestamp, recv_window, now)
        if decision.before_commit is not None:
            return self._before_commit(decision.before_commit, headers)

        call = routes.Call(endpoint, params, caller, self.state, now, decision.records_lag_ms)
        try:
            response = Response(200, jsonwire.dumps(routes.HANDLERS[endpoint.name](call)), headers)
        except SandboxError as exc:
            response = error_response(exc, headers)
        if decision.after_commit is not None:
            return self._after_commit(decision.after_commit, response)
        return response

    def _before_commit(self, rule: FaultRule, headers: list[tuple[str, str]]) -> Response:
        if rule.action == "drop_before_commit":
            return Response(0, drop=True)
        if rule.action == "reject_429":
            error = SandboxError(
                -1003,
                rule.msg or "Too much request weight used; current limit is 12000 request weight per 1 MINUTE. "
                "Please use WebSocket Streams for live updates to avoid polling the API.",
                rule.status or 429,
            )
            return error_response(error, [*headers, ("Retry-After", str(rule.seconds))])
        if rule.action == "pending":
            code = rule.code if rule.code is not None else -1025
            default = MSG_PENDING if code == -1025 else MSG_PENDING_LOAN
            return error_response(SandboxError(code, rule.msg or default, rule.status or 400), headers)
        code = rule.code if rule.code is not None else -1000
        return error_response(SandboxError(code, rule.msg or MSG_UNKNOWN, rule.status or 500), headers)

    def _after_commit(self, rule: FaultRule, response: Response) -> Response:
        if rule.action == "commit_then_drop":
            return Response(0, drop=True)
        if rule.action == "commit_then_503":
            return Response(rule.status or 503, _HTML_503, response.headers, content_type="text/html")
        if rule.action == "commit_then_1007":
            error = SandboxError(rule.code or -1007, rule.msg or MSG_TIMEOUT_1007, rule.status or 500)
            return error_response(error, response.headers)
        time.sleep(rule.ms / 1000.0)  # commit_then_delay
        return response

    # -- JSON helpers for the admin API ----------------------------------------------------------

    def counters(self) -> dict[str, Any]:
        """Request counters as JSON: total and per endpoint."""
        with self._count_lock:
            return {"total": self.request_count, "byEndpoint": dict(self.endpoint_counts)}
