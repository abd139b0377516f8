"""What a risk unit is worth to the simulated exchange: prices, net equity, LTV, max-borrowable, ltv-details rows.

Credit-wallet balances, collateral wallets' ``assets`` and liabilities are valued at
``state.prices`` (one price per asset, in USD-stable units; set with :func:`set_prices`, i.e.
``POST /sandbox/prices``, for LTV rehearsals); a collateral wallet may also carry a fixed, unpriced
``netEquity``. Binance does not publish these formulas: the LTV and max-borrowable ones are
inferred from its examples (``docs/sandbox.md``, reference ``binance-institutional-loan.md`` §11).
Exact Decimal arithmetic; callers hold ``state.lock`` when they need a consistent picture.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from binance_loan_sandbox import jsonwire
from binance_loan_sandbox.amounts import QUANTUM, amount_text
from binance_loan_sandbox.state import CollateralAccount, CollateralWallet, RiskUnit, SandboxState

LTV_WHEN_NO_EQUITY = Decimal(999)
_ASSET_NAME = re.compile(r"^[A-Z0-9]{1,20}$")
_NUMBER_TEXT = re.compile(r"^[0-9.eE+-]{1,64}$")


def _value(state: SandboxState, asset: str, amount: Decimal) -> Decimal:
    return amount * state.prices.get(asset, Decimal(0))


# -- prices ----------------------------------------------------------------------------------------


def parse_prices(raw: Any) -> dict[str, Decimal]:
    """Validate new prices: ``{"BTC": "45000.5", "ETH": 2000}`` → exact Decimals, all or nothing.

    :param raw: asset → price as a decimal string, an integer or a Decimal (a JSON fraction parsed
        exactly); never a float or a bool.
    :raises ValueError: naming the asset and the value, for an asset name that is not ``[A-Z0-9]{1,20}``
        or a price that is not a positive finite number.
    """
    if not isinstance(raw, Mapping):
        raise ValueError('prices must be an object of asset -> price, e.g. {"BTC": "45000.5"}')
    parsed: dict[str, Decimal] = {}
    for asset, value in raw.items():
        if not isinstance(asset, str) or not _ASSET_NAME.match(asset):
            raise ValueError(f"Invalid asset name {_shown(asset)}: expected 1 to 20 upper-case letters or digits.")
        price = _exact_number(value)
        if price is None or not price.is_finite() or price <= 0:
            raise ValueError(f"Invalid price for asset {asset}: {_shown(value)} (a price must be a positive number).")
        parsed[asset] = price
    return parsed


def set_prices(state: SandboxState, raw: Any) -> dict[str, Decimal]:
    """Set the price of each asset given (others keep theirs; new assets are added); returns every price.

    :param state: the sandbox state.
    :param raw: what :func:`parse_prices` accepts.
    :raises ValueError: as :func:`parse_prices`; nothing changes then.
    """
    parsed = parse_prices(raw)
    with state.lock:
        state.prices.update(parsed)
        return dict(state.prices)


def _exact_number(value: Any) -> Decimal | None:
    if isinstance(value, bool) or isinstance(value, float):
        return None
    if isinstance(value, int | Decimal):
        return Decimal(value)
    if isinstance(value, str) and _NUMBER_TEXT.match(value):
        try:
            return Decimal(value)
        except InvalidOperation:
            return None
    return None


def _shown(value: Any) -> str:
    try:
        return jsonwire.dumps(value).decode("utf-8")
    except TypeError:
        return repr(value)


# -- what a collateral wallet is worth ---------------------------------------------------------------


def wallet_equity(state: SandboxState, wallet: CollateralWallet) -> Decimal:
    """A collateral wallet's net equity: its fixed ``netEquity`` plus its ``assets`` at today's prices.

    :param state: the sandbox state (prices).
    :param wallet: the wallet.
    """
    priced = sum((_value(state, asset, amount) for asset, amount in wallet.assets.items()), Decimal(0))
    return wallet.net_equity + priced


def _counted(member: CollateralAccount, wallet: CollateralWallet) -> bool:
    """Only the wallets the member enabled as collateral (enableSpot / enableMargin) count."""
    return member.enable_spot if wallet.account_type == "SPOT" else member.enable_margin


# -- valuation -------------------------------------------------------------------------------------


def equity(state: SandboxState, unit: RiskUnit) -> tuple[Decimal, Decimal, Decimal]:
    """(totalNetEquity, totalMaintenanceMargin, totalLiability) of a unit, in USD-stable units.

    :param state: the sandbox state (prices).
    :param unit: the risk unit.
    """
    credit = unit.credit
    liability = sum((_value(state, a, x.outstanding) for a, x in unit.liabilities.items()), Decimal(0))
    spot = sum((_value(state, a, v) for a, v in credit.wallets.get("SPOT", {}).items()), Decimal(0))
    margin = sum((_value(state, a, v) for a, v in credit.wallets.get("MARGIN", {}).items()), Decimal(0))
    net = spot + margin - liability
    maint = sum(credit.maintain_margin.values(), Decimal(0))
    for member in unit.collateral:
        for wallet in member.wallets:
            if _counted(member, wallet):
                net += wallet_equity(state, wallet)
                maint += wallet.maintain_margin
    return net, maint, liability


def ltv(state: SandboxState, unit: RiskUnit) -> Decimal:
    """Inferred formula: totalLiability / (totalNetEquity − totalMaintenanceMargin), 8 decimals.

    :param state: the sandbox state (prices).
    :param unit: the risk unit.
    """
    net, maint, liability = equity(state, unit)
    if liability == 0:
        return Decimal(0)
    denominator = net - maint
    if denominator <= 0:
        return LTV_WHEN_NO_EQUITY
    return (liability / denominator).quantize(QUANTUM, rounding=ROUND_HALF_UP)


def max_borrowable(state: SandboxState, unit: RiskUnit, asset: str) -> Decimal:
    """min(limit − liability, initialLtv × (equity − maintenance) − liability), floored at 0, 8 decimals.

    :param state: the sandbox state (prices).
    :param unit: the risk unit.
    :param asset: the asset to borrow (its price converts the headroom).
    """
    net, maint, liability = equity(state, unit)
    by_limit = unit.max_allowed_borrow_limit - liability
    by_ltv = unit.initial_ltv * (net - maint) - liability
    headroom = max(Decimal(0), min(by_limit, by_ltv))
    price = state.prices.get(asset, Decimal(0))
    if price <= 0:
        return Decimal(0)
    return (headroom / price).quantize(QUANTUM, rounding=ROUND_DOWN)


def unit_details(state: SandboxState, unit: RiskUnit) -> dict[str, Any]:
    """One ``ltv-details`` row in Binance's shape (amounts as strings).

    :param state: the sandbox state (prices, parent).
    :param unit: the risk unit.
    """
    net, maint, liability = equity(state, unit)
    credit = unit.credit
    spot = sum((_value(state, a, v) for a, v in credit.wallets.get("SPOT", {}).items()), Decimal(0))
    credit_wallets = [
        {"accountType": "SPOT", "netEquity": amount_text(spot),
         "maintainMargin": amount_text(credit.maintain_margin.get("SPOT", Decimal(0)))},
        {"accountType": credit.margin_account_type,
         "netEquity": amount_text(net - spot - _collateral_equity(state, unit)),
         "maintainMargin": amount_text(credit.maintain_margin.get("MARGIN", Decimal(0)))},
    ]
    accounts = [
        {
            "email": member.email,
            "type": "COLLATERAL",
            "wallets": [
                {"accountType": w.account_type, "netEquity": amount_text(wallet_equity(state, w)),
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


def _collateral_equity(state: SandboxState, unit: RiskUnit) -> Decimal:
    return sum(
        (wallet_equity(state, w) for member in unit.collateral for w in member.wallets if _counted(member, w)),
        Decimal(0),
    )
