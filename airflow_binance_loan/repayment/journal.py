"""The repay journal: every repay request on a risk unit and asset, its attempts and outcome.

One document per (risk unit, asset), kept in a :class:`JournalStore` (an Airflow Variable in
the operator), holds every request that repays that unit in that asset, keyed by the request's
identity (for the operator: DAG, run, task and amount spec; never the map index, which shifts
when a plan changes). A request's attempts are written *before* their bytes leave, so any later
try, rerun or clear finds them and reconciles instead of repaying again; the other requests'
entries tell the reconciliation which records are not ours.

The store has no compare-and-set, so every change is written, read back after ``settle_seconds``
and re-applied until it survives (changes are idempotent). Each request has an *owner* (one
try): a try that finds a later try owns its request stops before sending anything.
"""

from __future__ import annotations

import hashlib
import json
import threading
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Literal, Protocol

from airflow_binance_loan.client.clock import SYSTEM_CLOCK, Clock
from airflow_binance_loan.client.evidence import OtherRequest, Others, SentRepay, Snapshot
from airflow_binance_loan.exceptions import JournalCorruptError, RepaySupersededError
from airflow_binance_loan.money import parse_decimal

KEY_PREFIX = "binance_loan_repay_journal"
MAX_KEY_LENGTH = 250
VERSION = 1
RETENTION_MS = 400 * 86_400_000
WRITE_ATTEMPTS = 8

AttemptState = Literal["sending", "unknown", "answered", "executed", "not_executed"]
UNRESOLVED: tuple[AttemptState, ...] = ("sending", "unknown", "answered")


class JournalStore(Protocol):
    """Where journal documents live: a key-value store shared by every try and worker."""

    def get(self, key: str) -> str | None:
        """The stored text, or None.

        :param key: the document's key.
        """
        ...

    def set(self, key: str, value: str) -> None:
        """Store ``value`` under ``key``.

        :param key: the document's key.
        :param value: the document's text.
        """
        ...

    def describe(self, key: str) -> str:
        """How a person finds ``key`` (e.g. "Airflow Variable 'x'").

        :param key: the document's key.
        """
        ...


class MemoryJournalStore:
    """A process-local store: for plain client use without Airflow (one process only)."""

    def __init__(self) -> None:
        self.data: dict[str, str] = {}
        self._lock = threading.Lock()

    def get(self, key: str) -> str | None:
        """The stored text, or None.

        :param key: the document key.
        """
        with self._lock:
            return self.data.get(key)

    def set(self, key: str, value: str) -> None:
        """Store ``value`` under ``key``.

        :param key: the document key.
        :param value: the JSON text.
        """
        with self._lock:
            self.data[key] = value

    def describe(self, key: str) -> str:
        """How a person finds ``key``.

        :param key: the document key.
        """
        return f"in-memory journal entry {key!r}"


@dataclass(frozen=True)
class Attempt:
    """One repay request that was (about to be) sent; amounts are exact decimal strings."""

    number: int
    state: AttemptState
    timestamp_ms: int
    amount: str
    try_number: int
    recv_window_ms: int = 5000
    repay_from: str | None = None
    before_outstanding: str | None = None
    before_at_ms: int | None = None
    transaction_id: str | None = None
    answered_amount: str | None = None
    record_tran_id: str | None = None
    detail: str = ""

    @property
    def resolved(self) -> bool:
        """True once the attempt is proven executed or not executed."""
        return self.state not in UNRESOLVED

    def sent_repay(self, group_id: int, asset: str) -> SentRepay:
        """The evidence view of this attempt.

        :param group_id: the risk unit.
        :param asset: the asset.
        """
        before = None if self.before_outstanding is None or self.before_at_ms is None \
            else Snapshot(parse_decimal(self.before_outstanding, "before_outstanding"), self.before_at_ms)
        answered = None if self.answered_amount is None else parse_decimal(self.answered_amount, "answered_amount")
        return SentRepay(group_id, asset, parse_decimal(self.amount), self.timestamp_ms, self.transaction_id,
                         answered, before, self.record_tran_id)


@dataclass(frozen=True)
class RequestEntry:
    """A request's journal entry: who owns it, its attempts, and its outcome once settled."""

    request_id: str
    label: str
    owner: str
    owner_try: int
    attempts: tuple[Attempt, ...] = ()
    outcome: dict[str, Any] | None = None
    updated_ms: int = 0

    @property
    def last(self) -> Attempt | None:
        """The newest attempt."""
        return self.attempts[-1] if self.attempts else None

    def attempt(self, number: int) -> Attempt:
        """Attempt ``number`` (1-based).

        :param number: the attempt number.
        """
        for item in self.attempts:
            if item.number == number:
                return item
        raise KeyError(number)

    def to_json(self) -> dict[str, Any]:
        """Plain JSON form."""
        data = asdict(self)
        data["attempts"] = [asdict(a) for a in self.attempts]
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RequestEntry:
        """Parse the JSON form (KeyError/TypeError/ValueError on a bad shape).

        :param data: the JSON dict.
        """
        attempts = tuple(Attempt(**a) for a in data.get("attempts") or ())
        for a in attempts:
            parse_decimal(a.amount)
            if a.state not in ("sending", "unknown", "answered", "executed", "not_executed"):
                raise ValueError(f"unknown attempt state {a.state!r}")
        outcome = data.get("outcome")
        if outcome is not None and not isinstance(outcome, dict):
            raise TypeError("outcome must be an object")
        return cls(
            request_id=str(data["request_id"]), label=str(data.get("label", "")), owner=str(data["owner"]),
            owner_try=int(data["owner_try"]), attempts=attempts, outcome=outcome,
            updated_ms=int(data.get("updated_ms", 0)),
        )


@dataclass
class _Document:
    group_id: int
    asset: str
    requests: dict[str, RequestEntry] = field(default_factory=dict)

    def to_text(self) -> str:
        return json.dumps(
            {"version": VERSION, "group_id": self.group_id, "asset": self.asset,
             "requests": {k: v.to_json() for k, v in sorted(self.requests.items())}},
            sort_keys=True,
        )


def journal_key(group_id: int, asset: str) -> str:
    """The store key of the document for one risk unit and asset.

    :param group_id: the risk unit.
    :param asset: the asset.
    """
    return f"{KEY_PREFIX}::{group_id}::{asset}"


def request_id_for(*parts: str) -> str:
    """A stable request identity from its parts (hashed when too long to read comfortably).

    :param parts: e.g. DAG id, run id, task id and amount spec.
    """
    text = "::".join(parts)
    return text if len(text) <= 200 else hashlib.sha256(text.encode()).hexdigest()


class RepayJournal:
    """One request's view of the (risk unit, asset) journal document.

    :param store: where documents live.
    :param group_id: the risk unit.
    :param asset: the asset.
    :param request_id: this request's identity (see :func:`request_id_for`).
    :param label: a human-readable description of the request (DAG, run, task).
    :param clock: for the read-back pause and timestamps.
    :param settle_seconds: pause between a write and its read-back.
    :param owner: this try's identity; a try resumed in another process (after deferral) must pass the
        same value. Defaults to a fresh random token.
    """

    def __init__(
        self,
        store: JournalStore,
        group_id: int,
        asset: str,
        request_id: str,
        *,
        label: str = "",
        clock: Clock = SYSTEM_CLOCK,
        settle_seconds: float = 0.2,
        owner: str | None = None,
    ) -> None:
        self.store = store
        self.group_id = group_id
        self.asset = asset
        self.request_id = request_id
        self.label = label or request_id
        self.key = journal_key(group_id, asset)
        self.owner = owner or uuid.uuid4().hex
        self._clock = clock
        self._settle = settle_seconds

    @property
    def location(self) -> str:
        """Where a person finds this journal (for messages)."""
        return self.store.describe(self.key)

    # -- reading ---------------------------------------------------------------------------------

    def load(self) -> RequestEntry | None:
        """This request's entry, or None if it never sent anything."""
        return self._read().requests.get(self.request_id)

    def load_with_others(self, exclude_attempt: int) -> tuple[RequestEntry | None, Others]:
        """This request's entry and what every other request (and this one's other attempts) claims, in one read.

        :param exclude_attempt: this request's attempt under examination (not counted as "other").
        """
        document = self._read()
        claimed: set[str] = set()
        unclaimed: list[OtherRequest] = []
        for entry in document.requests.values():
            for a in entry.attempts:
                if entry.request_id == self.request_id and a.number == exclude_attempt:
                    continue
                claimed |= {i for i in (a.transaction_id, a.record_tran_id) if i}
                if a.state in UNRESOLVED:
                    amount = parse_decimal(a.answered_amount or a.amount)
                    unclaimed.append(OtherRequest(a.timestamp_ms, amount, executed=a.state == "answered"))
        return document.requests.get(self.request_id), Others(frozenset(claimed), tuple(unclaimed))

    # -- writing ---------------------------------------------------------------------------------

    def take_over(self, try_number: int) -> RequestEntry | None:
        """Make this try the owner of the request (if it has an entry); a later try's entry wins.

        :param try_number: this try's number (Airflow's ``try_number``).
        """

        def change(entry: RequestEntry | None) -> RequestEntry | None:
            if entry is None:
                return None
            if entry.owner_try > try_number and entry.owner != self.owner:
                raise RepaySupersededError(
                    f"try {entry.owner_try} of this task instance owns the repay ({self.label}); "
                    f"this try ({try_number}) stops without sending anything"
                )
            return replace(entry, owner=self.owner, owner_try=try_number)

        return self._update(change)

    def begin_attempt(self, attempt: Attempt) -> RequestEntry:
        """Record an attempt just before its bytes leave; raises (so nothing is sent) if that is unsafe.

        :param attempt: the attempt, in state ``sending``.
        """

        def change(entry: RequestEntry | None) -> RequestEntry:
            if entry is None:
                entry = RequestEntry(self.request_id, self.label, self.owner, attempt.try_number)
            self._check_owner(entry)
            if any(a.number == attempt.number for a in entry.attempts):
                return entry
            pending = [a for a in entry.attempts if not a.resolved]
            if pending:
                raise RepaySupersededError(
                    f"attempt {pending[0].number} of this repay ({self.label}) is not settled yet; "
                    "not sending another"
                )
            return replace(entry, attempts=(*entry.attempts, attempt))

        entry = self._update(change)
        assert entry is not None
        return entry

    def update_attempt(self, number: int, **changes: Any) -> RequestEntry:
        """Change fields of attempt ``number`` (state, transaction id, record id, detail).

        :param number: the attempt number.
        :param changes: the fields to set.
        """

        def change(entry: RequestEntry | None) -> RequestEntry:
            if entry is None:
                raise self._corrupt(f"attempt {number} of request {self.request_id!r} vanished from the journal")
            self._check_owner(entry)
            attempts = tuple(replace(a, **changes) if a.number == number else a for a in entry.attempts)
            return replace(entry, attempts=attempts)

        entry = self._update(change)
        assert entry is not None
        return entry

    def finish(self, outcome: dict[str, Any]) -> None:
        """Record the request's final outcome (what a later try or rerun reports again).

        :param outcome: the outcome's XCom dict.
        """

        def change(entry: RequestEntry | None) -> RequestEntry:
            if entry is None:
                entry = RequestEntry(self.request_id, self.label, self.owner, 0)
            self._check_owner(entry)
            return replace(entry, outcome=outcome)

        self._update(change)

    # -- internals -------------------------------------------------------------------------------

    def _check_owner(self, entry: RequestEntry) -> None:
        if entry.owner != self.owner and entry.attempts:
            raise RepaySupersededError(
                f"another try (try {entry.owner_try}) of this task instance took over the repay ({self.label}); "
                "this try stops without sending anything"
            )

    def _update(self, change: Callable[[RequestEntry | None], RequestEntry | None]) -> RequestEntry | None:
        for _ in range(WRITE_ATTEMPTS):
            document = self._read()
            current = document.requests.get(self.request_id)
            wanted = change(current)
            if wanted is None:
                return None
            if wanted == current:
                return current
            wanted = replace(wanted, updated_ms=int(self._clock.time() * 1000))
            document.requests[self.request_id] = wanted
            self._prune(document)
            self.store.set(self.key, document.to_text())
            self._clock.sleep(self._settle)
            survived = self._read().requests.get(self.request_id)
            if survived is not None and change(survived) == survived:
                return survived
        raise JournalCorruptError(
            f"could not write the repay journal ({self.location}) after {WRITE_ATTEMPTS} tries: something "
            "else keeps overwriting it. Nothing was sent by this step."
        )

    def _prune(self, document: _Document) -> None:
        horizon = int(self._clock.time() * 1000) - RETENTION_MS
        for key, entry in list(document.requests.items()):
            if entry.outcome is not None and entry.updated_ms < horizon:
                del document.requests[key]

    def _read(self) -> _Document:
        raw = self.store.get(self.key)
        if not raw:
            return _Document(self.group_id, self.asset)
        try:
            data = json.loads(raw)
            if not isinstance(data, dict) or data.get("version") != VERSION:
                raise ValueError(f"not a version-{VERSION} journal document")
            if (int(data["group_id"]), str(data["asset"])) != (self.group_id, self.asset):
                raise ValueError("the document belongs to another risk unit or asset")
            requests = {str(k): RequestEntry.from_json(v) for k, v in dict(data["requests"]).items()}
        except (ValueError, KeyError, TypeError, ArithmeticError) as exc:
            raise self._corrupt(f"{type(exc).__name__}: {str(exc)[:200]}") from None
        return _Document(self.group_id, self.asset, requests)

    def _corrupt(self, why: str) -> JournalCorruptError:
        return JournalCorruptError(
            f"the repay journal {self.location} cannot be read ({why}). Nothing was sent. It records which "
            f"repays of risk unit {self.group_id} {self.asset} may have executed: restore its JSON, or check "
            "the unit's borrow/repay records by hand and then delete it to start afresh."
        )

