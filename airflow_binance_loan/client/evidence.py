"""Reconciliation: did a repay whose answer was lost (or not yet confirmed) execute?

Binance has no idempotency key, and once a request has passed the gateway's ``recvWindow``
checks it promises no bound on when the back end applies it or when its borrow/repay
record appears. So absence of a record soon after the request proves nothing. The
evidence used here, strongest first:

1. the borrow/repay record with the transaction id Binance answered (when it answered);
2. otherwise the unique REPAY record of this unit and asset, at most the requested amount,
   created at or after the request's timestamp, that no other request claims;
3. the unit's outstanding liability for the asset before the send versus now: a drop that the
   visible records do not explain means *something* repaid, possibly this request (interest
   only ever raises the liability, so it never fakes a drop).

"Not executed" is concluded only when a record says FAILED, or when the request is older
than ``horizon_ms`` with no candidate record and no unexplained drop. Anything else is
"unknown"; ``ambiguous`` marks evidence that waiting alone may not resolve.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal

from airflow_binance_loan.client.intent import RequestIntent
from airflow_binance_loan.client.models import BorrowRepayRecord
from airflow_binance_loan.exceptions import BinanceLoanError, InvalidParameterError
from airflow_binance_loan.money import format_decimal, optional_decimal_text, parse_decimal

if TYPE_CHECKING:
    from airflow_binance_loan.client.loan_api import LoanClient

Outcome = Literal["executed", "not_executed", "unknown"]
SKEW_MS = 2_000
DEFAULT_HORIZON_MS = 600_000
OUR_REPAY_TYPES = ("NORMAL_REPAY", "REPAY")


@dataclass(frozen=True)
class Snapshot:
    """The unit's outstanding liability (principal + interest) for the asset, read at ``at_ms`` (server time)."""

    outstanding: Decimal
    at_ms: int


@dataclass(frozen=True)
class SentRepay:
    """What the evidence needs to know about one repay request that left the client."""

    group_id: int
    asset: str
    amount: Decimal
    timestamp_ms: int
    transaction_id: str | None = None
    answered_amount: Decimal | None = None
    before: Snapshot | None = None
    record_tran_id: str | None = None

    @property
    def known_ids(self) -> frozenset[str]:
        """Ids that identify this request's record: the answered id and an already matched record id."""
        return frozenset(i for i in (self.transaction_id, self.record_tran_id) if i)

    def to_json(self) -> dict[str, Any]:
        """Plain JSON form (amounts as exact decimal strings), e.g. for a trigger's kwargs."""
        return {
            "group_id": self.group_id, "asset": self.asset, "amount": format_decimal(self.amount),
            "timestamp_ms": self.timestamp_ms, "transaction_id": self.transaction_id,
            "answered_amount": optional_decimal_text(self.answered_amount),
            "before": None if self.before is None else {"outstanding": format_decimal(self.before.outstanding),
                                                        "at_ms": self.before.at_ms},
            "record_tran_id": self.record_tran_id,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SentRepay:
        """Rebuild from :meth:`to_json`.

        :param data: the dict.
        """
        before = data.get("before")
        answered = data.get("answered_amount")
        return cls(
            int(data["group_id"]), str(data["asset"]), parse_decimal(data["amount"]), int(data["timestamp_ms"]),
            data.get("transaction_id"),
            None if answered is None else parse_decimal(answered, "answered_amount"),
            None if before is None else Snapshot(parse_decimal(before["outstanding"], "outstanding"),
                                                 int(before["at_ms"])),
            data.get("record_tran_id"),
        )


@dataclass(frozen=True)
class OtherRequest:
    """Another request on the same unit and asset: it may own a record that looks like ours."""

    timestamp_ms: int
    amount: Decimal
    executed: bool


@dataclass(frozen=True)
class Others:
    """Records claimed by other requests, and other requests that have not claimed theirs yet."""

    claimed_ids: frozenset[str] = frozenset()
    unclaimed: tuple[OtherRequest, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """Plain JSON form (amounts as exact decimal strings)."""
        return {
            "claimed_ids": sorted(self.claimed_ids),
            "unclaimed": [{"timestamp_ms": o.timestamp_ms, "amount": format_decimal(o.amount), "executed": o.executed}
                          for o in self.unclaimed],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Others:
        """Rebuild from :meth:`to_json`.

        :param data: the dict.
        """
        return cls(
            frozenset(str(i) for i in data.get("claimed_ids") or ()),
            tuple(OtherRequest(int(o["timestamp_ms"]), parse_decimal(o["amount"]), bool(o["executed"]))
                  for o in data.get("unclaimed") or ()),
        )


NO_OTHERS = Others()


@dataclass(frozen=True)
class Reconciliation:
    """The verdict: ``record`` is set for executed (and for a FAILED record); ``rule`` says how it matched."""

    outcome: Outcome
    detail: str
    record: BorrowRepayRecord | None = None
    rule: str = ""
    ambiguous: bool = False
    evidence: dict[str, str] = field(default_factory=dict, compare=False)


def examine(
    client: LoanClient,
    sent: SentRepay,
    *,
    others: Others = NO_OTHERS,
    horizon_ms: int = DEFAULT_HORIZON_MS,
) -> Reconciliation:
    """One look at the evidence for ``sent``; never raises for read failures (they are "unknown").

    :param client: the credit account's client (records and ltv-details are credit-account reads).
    :param sent: the request, with Binance's answer when there was one and the liability snapshot.
    :param others: records owned by other requests on this unit and asset, and their open requests.
    :param horizon_ms: age (from the request's timestamp) after which no evidence proves non-execution.
    """
    try:
        return _examine(client, sent, others, horizon_ms)
    except BinanceLoanError as exc:
        return Reconciliation("unknown", f"could not read the evidence ({type(exc).__name__}: {exc})")


def _examine(client: LoanClient, sent: SentRepay, others: Others, horizon_ms: int) -> Reconciliation:
    since = sent.timestamp_ms if sent.before is None else min(sent.timestamp_ms, sent.before.at_ms)
    records = client.borrow_repay_records("REPAY", group_id=sent.group_id, asset=sent.asset,
                                          start_time=max(0, since - SKEW_MS))
    by_id = next((r for r in records if r.tran_id in sent.known_ids), None)
    if by_id is not None:
        return _verdict(by_id, "transaction id")
    candidates = [r for r in _ours(records, sent) if r.tran_id not in others.claimed_ids]
    if sent.transaction_id is not None:
        return _confirm_without_id(sent, candidates)
    could_own = [o for o in others.unclaimed if any(_explains(o, r, horizon_ms) for r in candidates)]
    if candidates and any(not o.executed for o in could_own):
        return Reconciliation("unknown", f"{_ids(candidates)} could belong to another request on this unit "
                              "whose outcome is also unknown; resolve by hand", ambiguous=True)
    if len(candidates) - len(could_own) > 1:
        return Reconciliation("unknown", f"{len(candidates)} candidate records ({_ids(candidates)}) for one "
                              "request; resolve by hand", ambiguous=True)
    if could_own:
        return Reconciliation("unknown", f"{_ids(candidates)} may belong to another request that has not claimed "
                              "its record yet; waiting for it")
    if len(candidates) == 1:
        return _verdict(candidates[0], "unique record for this request")
    return _no_record(client, sent, records, horizon_ms)


def _confirm_without_id(sent: SentRepay, candidates: list[BorrowRepayRecord]) -> Reconciliation:
    """Binance answered with an id no record carries: the unique record of this request, if one exists."""
    if sent.answered_amount is not None:
        candidates = [r for r in candidates if r.amount == sent.answered_amount]
    if len(candidates) == 1:
        return _verdict(candidates[0], "unique record for this request (no record carries transaction id "
                        f"{sent.transaction_id})")
    if candidates:
        return Reconciliation("unknown", f"transaction {sent.transaction_id} not in the records and "
                              f"{_ids(candidates)} all match it; resolve by hand", ambiguous=True)
    return Reconciliation("unknown", f"the record of transaction {sent.transaction_id} is not visible yet")


def _no_record(
    client: LoanClient, sent: SentRepay, records: list[BorrowRepayRecord], horizon_ms: int
) -> Reconciliation:
    now = client.server_time_ms()
    evidence: dict[str, str] = {}
    if sent.before is not None:
        units = [u for u in client.ltv_details(sent.group_id) if u.group_id == sent.group_id]
        after = units[0].liability(sent.asset).outstanding if units else Decimal(0)
        explained = sum((r.amount for r in records if r.timestamp >= sent.before.at_ms and r.status != "FAILED"
                         and r.is_repay), Decimal(0))
        unexplained = sent.before.outstanding - after - explained
        evidence = {"before": str(sent.before.outstanding), "after": str(after), "explained": str(explained)}
        if unexplained > 0:
            return Reconciliation(
                "unknown",
                f"no record yet, but the {sent.asset} liability fell from {sent.before.outstanding} to {after}, "
                f"{unexplained} more than the visible records explain: the repay may have executed",
                evidence=evidence,
            )
    oldest_proof = sent.timestamp_ms + horizon_ms
    if now >= oldest_proof:
        how = "and no unexplained liability drop " if sent.before is not None else ""
        return Reconciliation(
            "not_executed",
            f"no matching record {how}{(now - sent.timestamp_ms) / 1000:.0f} s after the request",
            evidence=evidence,
        )
    return Reconciliation(
        "unknown",
        f"no record yet; absence proves nothing until {(oldest_proof - now) / 1000:.0f} s from now",
        evidence=evidence,
    )


def _ours(records: Iterable[BorrowRepayRecord], sent: SentRepay) -> list[BorrowRepayRecord]:
    return [
        r for r in records
        if r.type in OUR_REPAY_TYPES and r.asset == sent.asset and r.amount <= sent.amount
        and r.timestamp >= sent.timestamp_ms - SKEW_MS
    ]


def _explains(other: OtherRequest, record: BorrowRepayRecord, horizon_ms: int) -> bool:
    """Could ``other`` have created ``record``? (A request older than the horizon counts as settled.)"""
    return (other.timestamp_ms - SKEW_MS <= record.timestamp <= other.timestamp_ms + horizon_ms
            and record.amount <= other.amount)


def _verdict(record: BorrowRepayRecord, rule: str) -> Reconciliation:
    detail = f"record tranId={record.tran_id} amount={record.amount} status={record.status} (matched by {rule})"
    if record.status == "FAILED":
        return Reconciliation("not_executed", detail, record, rule)
    if not record.confirmed:
        return Reconciliation("unknown", detail + "; waiting for CONFIRM", None, rule)
    return Reconciliation("executed", detail, record, rule)


def _ids(records: list[BorrowRepayRecord]) -> str:
    return ", ".join(f"tranId={r.tran_id}" for r in records)


def reconcile(
    client: LoanClient,
    intent: RequestIntent,
    *,
    before: Snapshot | None = None,
    horizon_ms: int = DEFAULT_HORIZON_MS,
    others: Others = NO_OTHERS,
) -> Reconciliation:
    """Did the repay described by ``intent`` (from an :class:`ExecutionUnknownError`) execute?

    :param client: the credit account's client.
    :param intent: the request's intent, as carried by :class:`ExecutionUnknownError`.
    :param before: the unit's liability snapshot taken before sending, when the caller has one.
    :param horizon_ms: how old the request must be before missing evidence proves non-execution.
    :param others: records and open requests of other callers on this unit and asset.
    """
    if intent.group_id is None or intent.asset is None or intent.amount is None:
        raise InvalidParameterError("intent", intent.describe(), "needs group_id, asset and amount to reconcile")
    if not intent.path.endswith("/repay"):
        raise InvalidParameterError("intent", intent.describe(), "only repay requests can be reconciled")
    sent = SentRepay(intent.group_id, intent.asset, Decimal(intent.amount), intent.timestamp_ms, before=before)
    return examine(client, sent, others=others, horizon_ms=horizon_ms)

