"""The simulated exchange's money rules: repay, borrow, close, and the FAILED record of the record_failed fault.

Everything is exact Decimal arithmetic under ``state.lock``. Binance documents the repay rule
(repaid = min(available, requested)); paying interest before principal and capping a borrow at
max-borrowable are inferences, documented in ``docs/sandbox.md``.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from binance_loan_sandbox import binance_facts as facts
from binance_loan_sandbox.amounts import amount_text
from binance_loan_sandbox.errors import SandboxError
from binance_loan_sandbox.state import Record, RiskUnit, SandboxState
from binance_loan_sandbox.valuation import max_borrowable


@dataclass(frozen=True)
class Receipt:
    """What a borrow or repay did: the transaction id (== record ``tranId``) and the amount moved."""

    transaction_id: int
    amount: Decimal


def repay(
    state: SandboxState, unit: RiskUnit, asset: str, requested: Decimal, source: str, now_ms: int,
    visible_at: int | None = None,
) -> Receipt:
    """Repay min(available in source wallet, requested, outstanding): interest first, then principal.

    :param state: the sandbox state.
    :param unit: the unit repaid.
    :param asset: the asset repaid.
    :param requested: the amount asked for.
    :param source: the credit wallet paying: ``MARGIN`` or ``SPOT``.
    :param now_ms: the commit time (record timestamp).
    :param visible_at: when the record shows in borrow-repay (default: at once).
    """
    with state.lock:
        owed = unit.liabilities.get(asset)
        if not unit.active or owed is None or owed.outstanding <= 0:
            raise SandboxError(facts.NO_LIABILITY, facts.MSG_NO_LIABILITY.format(group_id=unit.group_id))
        available = unit.credit.balance(source, asset)
        if available <= 0:
            raise SandboxError(facts.INSUFFICIENT_BALANCE, facts.MSG_INSUFFICIENT_BALANCE.format(asset=asset))
        repaid = min(available, requested, owed.outstanding)
        to_interest = min(repaid, owed.interest)
        to_principal = repaid - to_interest
        owed.interest -= to_interest
        owed.principal -= to_principal
        unit.credit.add(source, asset, -repaid)
        unit.update_time = now_ms
        tran_id = state.allocate_transaction_id()
        state.records.append(
            Record(tran_id, unit.group_id, asset, repaid, "NORMAL_REPAY", "CONFIRM", now_ms,
                   principal=to_principal, interest=to_interest, visible_at=visible_at or now_ms)
        )
        return Receipt(tran_id, repaid)


def borrow(
    state: SandboxState, unit: RiskUnit, asset: str, amount: Decimal, now_ms: int, visible_at: int | None = None
) -> Receipt:
    """Borrow into the credit MARGIN wallet, capped by the max-borrowable amount (-27009).

    :param state: the sandbox state.
    :param unit: the unit borrowing.
    :param asset: the asset borrowed.
    :param amount: the amount.
    :param now_ms: the commit time (record timestamp).
    :param visible_at: when the record shows in borrow-repay (default: at once).
    """
    with state.lock:
        if asset not in state.borrowable_assets:
            raise SandboxError(facts.ASSET_NOT_BORROWABLE, facts.MSG_ASSET_NOT_BORROWABLE.format(asset=asset))
        if not unit.active:
            raise SandboxError(facts.LOAN_GROUP_NOT_FOUND, facts.MSG_LOAN_GROUP_NOT_FOUND)
        limit = max_borrowable(state, unit, asset)
        if amount > limit:
            raise SandboxError(facts.BORROW_OVER_MAX, facts.MSG_BORROW_OVER_MAX.format(
                asset=asset, limit=amount_text(limit), amount=amount_text(amount)))
        unit.liability(asset).principal += amount
        unit.credit.add("MARGIN", asset, amount)
        unit.update_time = now_ms
        tran_id = state.allocate_transaction_id()
        state.records.append(
            Record(tran_id, unit.group_id, asset, amount, "BORROW", "CONFIRM", now_ms,
                   visible_at=visible_at or now_ms)
        )
        return Receipt(tran_id, amount)


def record_failed(
    state: SandboxState, group_id: int, record_type: str, asset: str, amount: Decimal, now_ms: int, visible_at: int
) -> Receipt:
    """Write a FAILED record (a repay's principal/interest split is 0/0) and move nothing (record_failed fault).

    :param state: the sandbox state.
    :param group_id: the unit.
    :param record_type: ``NORMAL_REPAY`` or ``BORROW``.
    :param asset: the asset.
    :param amount: the amount the answer claims.
    :param now_ms: the record timestamp.
    :param visible_at: when the record shows in borrow-repay.
    """
    zero = Decimal(0) if record_type == "NORMAL_REPAY" else None
    with state.lock:
        tran_id = state.allocate_transaction_id()
        state.records.append(
            Record(tran_id, group_id, asset, amount, record_type, "FAILED", now_ms, principal=zero, interest=zero,
                   visible_at=visible_at)
        )
        return Receipt(tran_id, amount)


def last_repay_ms(state: SandboxState, credit_uid: int) -> int | None:
    """Timestamp of the credit account's latest committed (CONFIRM) repay over all its units, or None.

    :param state: the sandbox state.
    :param credit_uid: the credit account's UID.
    """
    with state.lock:
        groups = {u.group_id for u in state.units_of_credit(credit_uid)}
        return max(
            (r.timestamp for r in state.records
             if r.group_id in groups and r.type == "NORMAL_REPAY" and r.status == "CONFIRM"),
            default=None,
        )


def close(state: SandboxState, unit: RiskUnit, now_ms: int) -> None:
    """Close an active unit whose liabilities (principal and interest) are all zero (-27018 otherwise).

    :param state: the sandbox state.
    :param unit: the unit to close.
    :param now_ms: the close time.
    """
    with state.lock:
        if not unit.active:
            raise SandboxError(facts.LOAN_GROUP_NOT_FOUND, facts.MSG_LOAN_GROUP_NOT_FOUND)
        for asset, owed in unit.liabilities.items():
            if owed.outstanding > 0:
                raise SandboxError(facts.LIABILITY_NOT_REPAID, facts.MSG_LIABILITY_NOT_REPAID.format(
                    asset=asset, remaining=amount_text(owed.outstanding)))
        unit.status = "CLOSED"
        unit.close_time = now_ms
        unit.update_time = now_ms
