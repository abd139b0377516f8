"""The request pipeline, independent of HTTP I/O: route → weight → key → signature → timestamp → faults → handler.

:class:`SandboxApp` owns the state, clock, weight limiter, fault plan, the
queue of late commits and request counters. The HTTP server (:mod:`.server`)
only reads bytes, calls :meth:`SandboxApp.handle` and writes (or drops) the
:class:`Response`. Every request first applies the late commits that are due.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

from binance_loan_sandbox import answers, interest, jsonwire, money_rules, routes
from binance_loan_sandbox.admin import handle_admin
from binance_loan_sandbox.auth import KeyRing, check_timestamp, check_window, split_signed
from binance_loan_sandbox.binance_facts import KNOWN_PATHS, MSG_UNKNOWN, ROUTE_BY_REQUEST, UNKNOWN, Route
from binance_loan_sandbox.commits import CommitQueue
from binance_loan_sandbox.errors import SandboxError, method_not_allowed, not_found
from binance_loan_sandbox.faults import FaultDecision, FaultPlan, FaultRule
from binance_loan_sandbox.limits import WeightLimiter
from binance_loan_sandbox.messages import Request, Response, error_response
from binance_loan_sandbox.params import Params
from binance_loan_sandbox.server_clock import SandboxClock
from binance_loan_sandbox.state import Account, SandboxState

log = logging.getLogger("binance_loan_sandbox")

ADMIN_PREFIX = "/sandbox"
MAX_ADVANCE_HOURS = 24 * 366
# distinct_tran_ids: response transactionIds come from this range, far from the records' tranIds.
REPLY_ID_START = 900_000_000_000_001


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
        """
        :param state: the simulated exchange's state.
        :param window_seconds: length of the weight windows.
        :param admin: serve the ``/sandbox/*`` endpoints.
        :param live_interest: charge interest on every hour boundary the clock passes.
        :param clock: the server clock (default: real time).
        """
        self.state = state
        self.clock = clock or SandboxClock()
        self.limiter = WeightLimiter(window_seconds)
        self.faults = FaultPlan()
        self.keys = KeyRing(state)
        self.admin = admin
        self.live_interest = live_interest
        self.commits = CommitQueue()
        self._reply_ids = itertools.count(REPLY_ID_START)
        self._count_lock = threading.Lock()
        self.request_count = 0
        self.endpoint_counts: Counter[str] = Counter()

    # -- counters --------------------------------------------------------------------------------

    def _count(self, endpoint: Route | None) -> None:
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
        """Move the sandbox clock forward ``hours`` and charge exactly that many hours of interest.

        Late commits falling due inside the jump are applied at their due time, between the hours.

        :param hours: whole hours, 1 to 8784.
        """
        if isinstance(hours, bool) or not isinstance(hours, int) or not 1 <= hours <= MAX_ADVANCE_HOURS:
            raise ValueError(f"hours must be an integer between 1 and {MAX_ADVANCE_HOURS}")
        with self.state.lock:
            now = self.clock.now_ms()
            self.apply_due_commits(now)
            if self.live_interest:
                interest.accrue_until(self.state, now)
            before, after = self.clock.advance(hours * interest.HOUR_MS)
            rows, cursor = 0, before
            for commit in self.commits.pop_due(after):
                due = max(cursor, commit.due_ms)
                rows += interest.accrue(self.state, interest.hour_boundaries(cursor, due))
                cursor = due
                self.commits.apply(self.state, commit)
            rows += interest.accrue(self.state, interest.hour_boundaries(cursor, after))
            self.state.last_accrual_ms = after
            return rows

    def apply_due_commits(self, now_ms: int | None = None) -> int:
        """Apply every late commit due at ``now_ms`` (default: the sandbox clock), oldest first.

        Each is applied at its own due time (record timestamp, balances then; with live interest the
        hours before it are charged first). Returns how many were resolved (applied or skipped).

        :param now_ms: apply commits with ``due_ms <= now_ms``.
        """
        now = self.clock.now_ms() if now_ms is None else now_ms
        with self.state.lock:
            due = self.commits.pop_due(now)
            for commit in due:
                if self.live_interest:
                    interest.accrue_until(self.state, commit.due_ms)
                self.commits.apply(self.state, commit)
        return len(due)

    # -- the pipeline ----------------------------------------------------------------------------

    def handle(self, request: Request) -> Response:
        """Answer one request; never raises.

        :param request: what the HTTP layer read.
        """
        try:
            self.apply_due_commits()
        except Exception:
            log.exception("sandbox bug while applying late commits")
        if self.admin and (request.path == ADMIN_PREFIX or request.path.startswith(ADMIN_PREFIX + "/")):
            return handle_admin(self, request)
        endpoint = ROUTE_BY_REQUEST.get((request.method, request.path))
        self._count(endpoint)
        if endpoint is None:
            if request.path in KNOWN_PATHS:
                return error_response(method_not_allowed(request.method, request.path))
            return error_response(not_found(request.path))
        headers: list[tuple[str, str]] = []
        try:
            return self._handle(endpoint, request, headers)
        except SandboxError as exc:
            return error_response(exc, headers)
        except Exception:
            log.exception("sandbox bug while handling %s %s", request.method, request.path)
            return error_response(SandboxError(UNKNOWN, MSG_UNKNOWN, 500), headers)

    def _charge(self, endpoint: Route, scope: str, now_ms: int, headers: list[tuple[str, str]]) -> None:
        used = self.limiter.charge(endpoint, scope, now_ms)
        headers.append((endpoint.weight_header, str(used)))

    def _guard(self, caller: Account | None, now_ms: int) -> Callable[[FaultRule], bool]:
        """Conditions of CONDITIONAL fault rules for this request."""

        def holds(rule: FaultRule) -> bool:
            if rule.action != "pending_after_repay" or caller is None:
                return False
            last = money_rules.last_repay_ms(self.state, caller.uid)
            return last is not None and now_ms - last < rule.ms

        return holds

    def _handle(self, endpoint: Route, request: Request, headers: list[tuple[str, str]]) -> Response:
        now = self.clock.now_ms()
        if self.live_interest:
            interest.accrue_until(self.state, now)
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

        decision = self.faults.decide(endpoint.name, self._guard(caller, now))
        if decision.latency_ms:
            time.sleep(decision.latency_ms / 1000.0)  # real time on purpose: the client's timeouts are real
            now = self.clock.now_ms()
            if endpoint.signed:  # Binance checks the window again when processing starts
                check_window(timestamp, recv_window, now)
        if decision.before_commit is not None:
            return answers.before_commit(decision.before_commit, headers)

        call = routes.Call(endpoint, params, caller, self.state, now, decision.records_lag_ms)
        if decision.instead_of_commit is not None:
            return self._instead_of_commit(decision, call, headers)
        body: Any = None
        try:
            body = self._reply_ids_for(decision, routes.HANDLERS[endpoint.name](call))
            response = Response(200, jsonwire.dumps(body), headers)
        except SandboxError as exc:
            response = error_response(exc, headers)
        rule = decision.after_commit
        if rule is None:
            return response
        if rule.action == "commit_then_delay":
            time.sleep(rule.ms / 1000.0)  # real time on purpose: trips the client's read timeout
            return response
        return answers.after_commit(rule, response, body)

    def _instead_of_commit(
        self, decision: FaultDecision, call: routes.Call, headers: list[tuple[str, str]]
    ) -> Response:
        """late_commit (queue the order, answer without committing) or record_failed (FAILED record)."""
        rule = decision.instead_of_commit
        assert rule is not None
        order = routes.ORDERS[call.endpoint.name](call)  # parameter / caller errors are answered as usual
        if rule.action == "late_commit":
            self.commits.add(order, call.now_ms, call.now_ms + rule.ms, call.records_lag_ms)
            return answers.late_commit(rule, headers)
        body = self._reply_ids_for(decision, routes.fail(self.state, order, call.now_ms, call.visible_at))
        return Response(200, jsonwire.dumps(body), headers)

    def _reply_ids_for(self, decision: FaultDecision, body: Any) -> Any:
        """distinct_tran_ids: give the answer its own transactionId, unrelated to the record's tranId."""
        if decision.distinct_tran_ids and isinstance(body, dict) and "transactionId" in body:
            with self._count_lock:
                body["transactionId"] = next(self._reply_ids)
        return body

    # -- JSON helpers for the admin API ----------------------------------------------------------

    def counters(self) -> dict[str, Any]:
        """Request counters as JSON: total, per endpoint, and late commits pending / applied / skipped."""
        late = self.commits.counts()
        with self._count_lock:
            return {"total": self.request_count, "byEndpoint": dict(self.endpoint_counts), "lateCommits": late}
