"""Money semantics of the simulated exchange: repay, borrow, close, interest, LTV and max-borrowable.

Everything is exact Decimal arithmetic under ``state.lock``. Binance documents
the repay rule (repaid = min(available, requested)); the interest-first split,
the LTV formula and the max-borrowable formula are inferences, documented in
``docs/sandbox.md``.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal
from typing import Any

from binance_loan_sandbox import binance_facts as facts
from binance_loan_sandbox.amounts import amount_text
from binance_loan_sandbox.clock import HOUR_MS
from binance_loan_sandbox.errors import SandboxError
from binance_loan_sandbox.state import InterestRow, Record, RiskUnit, SandboxState

QUANTUM = Decimal("0.00000001")
LTV_WHEN_NO_EQUITY = Decimal(999)
MAX_CATCH_UP_HOURS = 24 * 100


@dataclass(frozen=True)
class Receipt:
    """What a borrow or repay did: the transaction id (== record ``tranId``) and the amount moved."""

    transaction_id: int
    amount: Decimal


def _value(state: SandboxState, asset: str, amount: Decimal) -> Decimal:
    return amount * state.prices.get(asset, Decimal(0))


# -- valuation -------------------------------------------------------------------------------------


def equity(state: SandboxState, unit: RiskUnit) -> tuple[Decimal, Decimal, Decimal]:
    """(totalNetEquity, totalMaintenanceMargin, totalLiability) of a unit, in USD-stable units."""
    credit = unit.credit
    liability = sum((_value(state, a, x.outstanding) for a, x in unit.liabilities.items()), Decimal(0))
    spot = sum((_value(state, a, v) for a, v in credit.wallets.get("SPOT", {}).items()), Decimal(0))
    margin = sum((_value(state, a, v) for a, v in credit.wallets.get("MARGIN", {}).items()), Decimal(0))
    net = spot + margin - liability
    maint = sum(credit.maintain_margin.values(), Decimal(0))
    for member in unit.collateral:
        for wallet in member.wallets:
            counted = member.enable_spot if wallet.account_type == "SPOT" else member.enable_margin
            if counted:
                net += wallet.net_equity
                maint += wallet.maintain_margin
    return net, maint, liability


def ltv(state: SandboxState, unit: RiskUnit) -> Decimal:
    """Inferred formula: totalLiability / (totalNetEquity − totalMaintenanceMargin), 8 decimals."""
    net, maint, liability = equity(state, unit)
    if liability == 0:
        return Decimal(0)
    denominator = net - maint
    if denominator <= 0:
        return LTV_WHEN_NO_EQUITY
    return (liability / denominator).quantize(QUANTUM, rounding=ROUND_HALF_UP)


def max_borrowable(state: SandboxState, unit: RiskUnit, asset: str) -> Decimal:
    """min(limit − liability, initialLtv × (equity − maintenance) − liability), floored at 0, 8 decimals."""
    net, maint, liability = equity(state, unit)
    by_limit = unit.max_allowed_borrow_limit - liability
    by_ltv = unit.initial_ltv * (net - maint) - liability
    headroom = max(Decimal(0), min(by_limit, by_ltv))
    price = state.prices.get(asset, Decimal(0))
    if price <= 0:
        return Decimal(0)
    return (headroom / price).quantize(QUANTUM, rounding=ROUND_DOWN)


def unit_details(state: SandboxState, unit: RiskUnit) -> dict[str, Any]:
    """One ``ltv-details`` row in Binance's shape (amounts as strings)."""
    net, maint, liability = equity(state, unit)
    credit = unit.credit
    spot = sum((_value(state, a, v) for a, v in credit.wallets.get("SPOT", {}).items()), Decimal(0))
    credit_wallets = [
        {"accountType": "SPOT", "netEquity": amount_text(spot),
         "maintainMargin": amount_text(credit.maintain_margin.get("SPOT", Decimal(0)))},
        {"accountType": credit.margin_account_type,
         "netEquity": amount_text(net - spot - _collateral_equity(unit)),
         "maintainMargin": amount_text(credit.maintain_margin.get("MARGIN", Decimal(0)))},
    ]
    accounts = [
        {
            "email": member.email,
            "type": "COLLATERAL",
            "wallets": [
                {"accountType": w.account_type, "netEquity": amount_text(w.net_equity),
                 "maintainMargin": amount_text(w.maintain_margin)}
                for w in member.wallets
            ],
        }
        for member in unit.collateral
    ]
    accounts.append({"email": credit.email, "type": "CREDIT", "wallets": credit_wallets})
    return {
        "groupId": unit.group_id,
        "parentEmail": state.parent.email,
        "creditEmail": credit.email,
        "updateTime": unit.update_time,
        "ltv": amount_text(ltv(state, unit)),
        "totalNetEquity": amount_text(net),
        "totalMaintenanceMargin": amount_text(maint),
        "totalLiability": amount_text(liability),
        "parentAccountFrozenAmount": amount_text(unit.parent_frozen),
        "maxTransferOutAmount": amount_text(unit.max_transfer_out),
        "maxAllowedBorrowLimit": amount_text(unit.max_allowed_borrow_limit),
        "liabilities": [
            {"assetName": asset, "principal": amount_text(x.principal), "interest": amount_text(x.interest)}
            for asset, x in unit.liabilities.items()
            if x.outstanding > 0
        ],
        "collateralAccounts": accounts,
    }


def _collateral_equity(unit: RiskUnit) -> Decimal:
    total = Decimal(0)
    for member in unit.collateral:
        for wallet in member.wallets:
            if member.enable_spot if wallet.account_type == "SPOT" else member.enable_margin:
                total += wallet.net_equity
    return total


# -- money-moving ----------------------------------------------------------------------------------


def repay(
    state: SandboxState, unit: RiskUnit, asset: str, requested: Decimal, source: str, now_ms: int,
    visible_at: int | None = None,
) -> Receipt:
    """Repay min(available in source wallet, requested, outstanding): interest first, then principal."""
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
    """Borrow into the credit MARGIN wallet, capped by the max-borrowable amount (-27009)."""
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
    """Write a FAILED record (a repay's principal/interest split is 0/0) and move nothing (record_failed fault)."""
    zero = Decimal(0) if record_type == "NORMAL_REPAY" else None
    with state.lock:
        tran_id = state.allocate_transaction_id()
        state.records.append(
            Record(tran_id, group_id, asset, amount, record_type, "FAILED", now_ms, principal=zero, interest=zero,
                   visible_at=visible_at)
        )
        return Receipt(tran_id, amount)


def last_repay_ms(state: SandboxState, credit_uid: int) -> int | None:
    """Timestamp of the credit account's latest committed (CONFIRM) repay over all its units, or None."""
    with state.lock:
        groups = {u.group_id for u in state.units_of_credit(credit_uid)}
        return max(
            (r.timestamp for r in state.records
             if r.group_id in groups and r.type == "NORMAL_REPAY" and r.status == "CONFIRM"),
            default=None,
        )


def close(state: SandboxState, unit: RiskUnit, now_ms: int) -> None:
    """Close an active unit whose liabilities (principal and interest) are all zero (-27018 otherwise)."""
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


# -- interest --------------------------------------------------------------------------------------


def hour_boundaries(after_ms: int, until_ms: int) -> list[int]:
    """Top-of-hour instants in (after_ms, until_ms]."""
    first = (after_ms // HOUR_MS + 1) * HOUR_MS
    return list(range(first, until_ms + 1, HOUR_MS))


def accrue(state: SandboxState, boundaries: list[int]) -> int:
    """Charge one hour of interest per boundary on every active unit: interest += principal × hourly rate."""
    rows = 0
    with state.lock:
        for instant in boundaries:
            for unit in state.units.values():
                if not unit.active:
                    continue
                for asset, owed in unit.liabilities.items():
                    rate = unit.hourly_rates.get(asset, Decimal(0))
                    charge = (owed.principal * rate).quantize(QUANTUM, rounding=ROUND_HALF_UP)
                    if owed.principal <= 0 or charge <= 0:
                        continue
                    owed.interest += charge
                    unit.update_time = instant
                    state.interest_rows.append(
                        InterestRow(unit.group_id, asset, owed.principal, rate, charge, instant)
                    )
                    rows += 1
    return rows


def accrue_until(state: SandboxState, now_ms: int) -> int:
    """Live mode: accrue every hour boundary passed since the last accrual (at most 100 days' worth)."""
    with state.lock:
        last = state.last_accrual_ms
        if last is not None and now_ms <= last:
            return 0  # never move backwards (a reduced skew would charge hours twice)
        state.last_accrual_ms = now_ms
        if last is None:
            return 0
        boundaries = hour_boundaries(max(last, now_ms - MAX_CATCH_UP_HOURS * HOUR_MS), now_ms)
        return accrue(state, boundaries)
