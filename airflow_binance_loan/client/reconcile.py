"""Reconciliation: did a borrow/repay whose outcome is unknown actually execute?

Binance has no idempotency key, so the only proof is the borrow/repay records.
Binance executes a request only if it starts processing within ``recvWindow`` of
the request's ``timestamp``, so a matching record must carry a timestamp in
``[timestamp - skew, timestamp + recvWindow + slack]``. When no such record exists
once that window has passed (plus ``settle_ms`` for records to appear), the
request provably did not execute.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from airflow_binance_loan.client.loan_api import LoanClient
from airflow_binance_loan.client.models import BorrowRepayRecord
from airflow_binance_loan.exceptions import RequestIntent

Outcome = Literal["executed", "not_executed", "unknown"]
SKEW_MS = 2_000
EXECUTION_SLACK_MS = 5_000


@dataclass(frozen=True)
class Reconciliation:
    outcome: Outcome
    record: BorrowRepayRecord | None
    detail: str


def reconcile(
    client: LoanClient,
    intent: RequestIntent,
    *,
    processing_ms: int = EXECUTION_SLACK_MS,
    settle_ms: int = 3_000,
    exclude_tran_ids: Collection[str] = (),
) -> Reconciliation:
    """Look up the records around ``intent``'s send time and say executed / not executed / unknown.

    ``processing_ms`` bounds how long after ``recvWindow`` Binance may still be executing the
    request; ``settle_ms`` how long its record may take to appear.
    """
    is_repay = intent.path.endswith("/repay")
    if intent.group_id is None or intent.asset is None or intent.amount is None:
        return Reconciliation("unknown", None, f"intent lacks group/asset/amount: {intent.describe()}")
    lower = intent.timestamp_ms - SKEW_MS
    upper = intent.timestamp_ms + intent.recv_window_ms + processing_ms
    now = client.session.server_now()
    records = client.borrow_repay_records(
        "REPAY" if is_repay else "BORROW",
        group_id=intent.group_id,
        asset=intent.asset,
        start_time=max(0, lower),
        end_time=max(lower, min(now, upper)),
    )
    requested = Decimal(intent.amount)
    matches = [
        r
        for r in records
        if r.tran_id not in exclude_tran_ids
        and r.status != "FAILED"
        and lower <= r.timestamp <= upper
        and r.asset == intent.asset
        and (r.type in ("NORMAL_REPAY", "REPAY") if is_repay else r.type == "BORROW")
        and (r.amount <= requested if is_repay else r.amount == requested)
    ]
    if len(matches) == 1:
        record = matches[0]
        return Reconciliation(
            "executed", record, f"record tranId={record.tran_id} amount={record.amount} status={record.status}"
        )
    if len(matches) > 1:
        ids = ", ".join(r.tran_id for r in matches)
        return Reconciliation("unknown", None, f"{len(matches)} candidate records ({ids}); resolve by hand")
    if now >= upper + settle_ms:
        return Reconciliation(
            "not_executed", None, f"no matching record between {lower} and {upper} (checked at {now})"
        )
    return Reconciliation(
        "unknown", None, f"no record yet; the request could still appear until {upper + settle_ms} (now {now})"
    )


def find_transaction(
    client: LoanClient,
    kind: str,
    group_id: int,
    asset: str,
    tran_id: str,
    since_ms: int,
) -> BorrowRepayRecord | None:
    """The borrow/repay record with ``tran_id`` created at or after ``since_ms`` (None if not visible yet)."""
    records = client.borrow_repay_records(kind, group_id=group_id, asset=asset, start_time=max(0, since_ms - SKEW_MS))
    return next((r for r in records if r.tran_id == tran_id), None)
