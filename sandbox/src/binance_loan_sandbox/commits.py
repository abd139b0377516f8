"""Late commits: borrows/repays the back end applies after the gateway has already answered (``late_commit``).

Binance's -1007 / HTTP 5xx mean "execution status unknown": the request may be
applied seconds or minutes later. The app queues such orders here and applies
every due one lazily, in due-time order, at the start of each request (and on
``SandboxServer.apply_due_commits()`` / ``SandboxServer.state``), with the
commit time as the record timestamp. An order that would fail at commit time
(e.g. -27011 nothing owed, -27015 empty wallet) is skipped: no record, no money.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass
from typing import Any

from binance_loan_sandbox.amounts import amount_text
from binance_loan_sandbox.errors import SandboxError
from binance_loan_sandbox.routes import Order, execute
from binance_loan_sandbox.state import SandboxState

RESOLVED_HISTORY = 1000


@dataclass(frozen=True)
class PendingCommit:
    """An accepted order waiting for its commit time ``due_ms`` (sandbox clock)."""

    commit_id: int
    order: Order
    accepted_ms: int
    due_ms: int
    records_lag_ms: int = 0

    def to_json(self) -> dict[str, Any]:
        """JSON form (admin state dump)."""
        return {"id": self.commit_id, **self.order.to_json(), "acceptedAt": self.accepted_ms, "dueAt": self.due_ms,
                "recordsLagMs": self.records_lag_ms}


class CommitQueue:
    """Thread-safe queue of pending commits plus applied / skipped counters and a short history."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: list[PendingCommit] = []
        self._next_id = 1
        self.applied = 0
        self.skipped = 0
        self._resolved: deque[dict[str, Any]] = deque(maxlen=RESOLVED_HISTORY)

    def add(self, order: Order, accepted_ms: int, due_ms: int, records_lag_ms: int = 0) -> PendingCommit:
        """Queue ``order`` to be committed at ``due_ms``.

        :param order: the validated borrow/repay.
        :param accepted_ms: when the gateway accepted it (sandbox time).
        :param due_ms: when the back end applies it (sandbox time).
        :param records_lag_ms: its record becomes visible this long after the commit.
        """
        with self._lock:
            commit = PendingCommit(self._next_id, order, accepted_ms, due_ms, records_lag_ms)
            self._next_id += 1
            self._pending.append(commit)
            return commit

    def pending(self) -> list[PendingCommit]:
        """The commits not applied yet, in due order."""
        with self._lock:
            return sorted(self._pending, key=lambda c: (c.due_ms, c.commit_id))

    def pop_due(self, now_ms: int) -> list[PendingCommit]:
        """Remove and return every commit with ``due_ms <= now_ms``, in due order.

        :param now_ms: the sandbox time to apply up to.
        """
        with self._lock:
            due = [c for c in self._pending if c.due_ms <= now_ms]
            if due:
                self._pending = [c for c in self._pending if c.due_ms > now_ms]
        return sorted(due, key=lambda c: (c.due_ms, c.commit_id))

    def apply(self, state: SandboxState, commit: PendingCommit) -> dict[str, Any]:
        """Execute one commit at its due time (caller holds ``state.lock``); returns the outcome JSON.

        :param state: the sandbox state.
        :param commit: a commit returned by :meth:`pop_due`.
        """
        outcome: dict[str, Any] = {"id": commit.commit_id, "endpoint": commit.order.kind, "dueAt": commit.due_ms}
        try:
            body = execute(state, commit.order, commit.due_ms, commit.due_ms + commit.records_lag_ms)
        except SandboxError as exc:
            outcome.update({"outcome": "skipped", "code": exc.code, "msg": exc.msg})
        else:
            outcome.update({"outcome": "applied", "tranId": body["transactionId"],
                            "amount": amount_text(body["amount"])})
        with self._lock:
            if outcome["outcome"] == "applied":
                self.applied += 1
            else:
                self.skipped += 1
            self._resolved.append(outcome)
        return outcome

    def counts(self) -> dict[str, int]:
        """How many commits are pending, were applied, were skipped."""
        with self._lock:
            return {"pending": len(self._pending), "applied": self.applied, "skipped": self.skipped}

    def to_json(self) -> dict[str, Any]:
        """``{"pendingCommits": [...], "lateCommits": {pending, applied, skipped, resolved: [...]}}`` (admin)."""
        pending = [c.to_json() for c in self.pending()]
        with self._lock:
            resolved = list(self._resolved)
        return {"pendingCommits": pending, "lateCommits": {**self.counts(), "resolved": resolved}}
