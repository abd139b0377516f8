"""Each risk unit's records for a month, and per-asset totals that reconcile with them.

Totals per asset, from the month's records only, in exact decimals:

* ``borrowed``: the amounts of the ``BORROW`` records;
* ``repaid``: the amounts of the repay records (``NORMAL_REPAY``, ``REPAY``, ``FORCE_REPAY``), of which
  ``repaid_principal`` and ``repaid_interest`` are the records' own split and ``force_repaid`` the
  liquidation repays (``FORCE_REPAY``);
* ``interest_charged``: the ``interest`` of the interest-history rows.

Only ``CONFIRM`` records count (a ``FAILED`` one moved nothing); every record is still exported, with
``counted`` saying whether it counts. ``checks`` lists what does not reconcile: a repay whose
principal + interest is not its amount, a repay without a split (counted in ``repaid`` only), a record
that did not count.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from decimal import Decimal

from airflow_binance_loan.books.period import Month
from airflow_binance_loan.client.loan_api import LoanClient
from airflow_binance_loan.client.models import BorrowRepayRecord, InterestRecord


@dataclass(frozen=True)
class UnitBooks:
    """One risk unit's records in one month, oldest first."""

    group_id: int
    records: tuple[BorrowRepayRecord, ...]
    interest: tuple[InterestRecord, ...]


@dataclass
class AssetTotals:
    """The month's totals of one asset (see the module docstring)."""

    borrowed: Decimal = Decimal(0)
    repaid: Decimal = Decimal(0)
    repaid_principal: Decimal = Decimal(0)
    repaid_interest: Decimal = Decimal(0)
    force_repaid: Decimal = Decimal(0)
    interest_charged: Decimal = Decimal(0)
    borrows: int = 0
    repays: int = 0
    interest_rows: int = 0

    def add(self, other: AssetTotals) -> None:
        """Add ``other``'s figures to these.

        :param other: totals of the same asset (another unit).
        """
        for item in fields(self):
            setattr(self, item.name, getattr(self, item.name) + getattr(other, item.name))


@dataclass
class Totals:
    """Per-asset totals and the reconciliation notes of a set of records."""

    by_asset: dict[str, AssetTotals] = field(default_factory=dict)
    checks: list[str] = field(default_factory=list)

    def of(self, asset: str) -> AssetTotals:
        """The totals of ``asset`` (created empty).

        :param asset: e.g. ``USDT``.
        """
        return self.by_asset.setdefault(asset, AssetTotals())


def totals_of(books: UnitBooks) -> Totals:
    """The unit's per-asset totals and checks.

    :param books: one unit's month.
    """
    result = Totals()
    where = f"risk unit {books.group_id}"
    for record in books.records:
        if not record.confirmed:
            result.checks.append(f"{where} record {record.tran_id} ({record.type}) has status {record.status}: "
                                 "not counted")
            continue
        sums = result.of(record.asset)
        if record.type == "BORROW":
            sums.borrowed += record.amount
            sums.borrows += 1
            continue
        if not record.is_repay:
            result.checks.append(f"{where} record {record.tran_id} has an unknown type {record.type!r}: not counted")
            continue
        sums.repaid += record.amount
        sums.repays += 1
        if record.type == "FORCE_REPAY":
            sums.force_repaid += record.amount
        if record.principal is None or record.interest is None:
            result.checks.append(f"{where} repay {record.tran_id} of {record.amount} {record.asset} has no "
                                 "principal/interest split: in 'repaid' only")
            continue
        sums.repaid_principal += record.principal
        sums.repaid_interest += record.interest
        if record.principal + record.interest != record.amount:
            result.checks.append(f"{where} repay {record.tran_id}: principal {record.principal} + interest "
                                 f"{record.interest} is not its amount {record.amount}")
    for row in books.interest:
        sums = result.of(row.asset)
        sums.interest_charged += row.interest
        sums.interest_rows += 1
    return result


def combined(all_totals: Iterable[Totals]) -> Totals:
    """Totals of several units together (checks concatenated).

    :param all_totals: each unit's totals.
    """
    result = Totals()
    for totals in all_totals:
        for asset, sums in totals.by_asset.items():
            result.of(asset).add(sums)
        result.checks.extend(totals.checks)
    return result


def read_unit_books(client: LoanClient, group_id: int, month: Month) -> UnitBooks:
    """The unit's borrow and repay records and interest history of ``month`` (credit-account client).

    Binance limits each query's range; the client splits the month and walks every page.

    :param client: the unit's credit-account client.
    :param group_id: the risk unit.
    :param month: a closed month.
    """
    last = month.end_ms - 1
    records = [r for kind in ("BORROW", "REPAY")
               for r in client.borrow_repay_records(kind, group_id=group_id, start_time=month.start_ms, end_time=last)]
    interest = client.interest_history(group_id=group_id, start_time=month.start_ms, end_time=last)
    return UnitBooks(
        group_id,
        tuple(sorted((r for r in records if month.contains(r.timestamp)), key=lambda r: (r.timestamp, r.tran_id))),
        tuple(sorted((r for r in interest if month.contains(r.interest_timestamp)),
                     key=lambda r: (r.interest_timestamp, r.asset))),
    )
