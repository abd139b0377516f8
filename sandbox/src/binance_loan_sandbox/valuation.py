"""What a risk unit is worth to the simulated exchange: prices, net equity, LTV, max-borrowable, ltv-details rows.

Credit-wallet balances, collateral holdings and liabilities are valued at ``state.prices`` (set
with ``POST /sandbox/prices``); collateral wallets may also carry a fixed, unpriced ``netEquity``.
Binance does not publish these formulas: the LTV and max-borrowable ones are inferred from its
examples (``docs/sandbox.md``, reference ``binance-institutional-loan.md`` §11). Exact Decimal
arithmetic; callers hold ``state.lock`` when they need a consistent picture.
"""

from __future__ import annotations

from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal
from typing import Any

from binance_loan_sandbox.amounts import QUANTUM, amount_text
from binance_loan_sandbox.state import RiskUnit, SandboxState

LTV_WHEN_NO_EQUITY = Decimal(999)


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
