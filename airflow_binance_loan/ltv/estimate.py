"""How much repayment would bring a risk unit's LTV back under a level, from its own ``ltv-details`` figures.

With ``L`` = ``totalLiability``, ``E`` = ``totalNetEquity``, ``M`` = ``totalMaintenanceMargin`` and
``D = E − M``, for a level ``t``:

* **repay from the unit's own wallet** (what Binance's repay does: it takes the credit account's
  MARGIN or SPOT balance): ``R = L − t·D``. After it, ``(L − R) / D`` is just under ``t``.
* **repay with money brought into the unit first** (transferred in, then repaid): ``(L − t·D) / (1 + t)``.
* **add collateral instead** (no repay): ``L / t − D``.

Amounts are rounded *up* to 8 decimals and then made strictly sufficient (one more 0.00000001 when
the result would land exactly on the level, which still counts as crossed). They are in the unit's
valuation currency (the currency of the ltv-details totals): repaying USDT or USDC is counted 1:1.

What is Binance's and what is inferred, plainly:

* Binance documents the three inputs only: ``totalNetEquity`` ("∑Equity in all PM sub account +
  (∑Collateral Value − ∑(Liability + Interest) in all Cross Margin account) + Free accepted tokens
  in spot"), ``totalLiability`` (principal + interest) and ``totalMaintenanceMargin``. **Inferred:**
  ``ltv = L / (E − M)``, the formula that reproduces Binance's published example (0.592); ``L / E``
  does not. Each estimate says whether the unit's own reported ``ltv`` fits it (within 0.001).
* Binance documents that repay takes the credit account's Margin (default) or Spot balance and
  lowers principal and interest. **Inferred:** both wallets are inside ``totalNetEquity`` (the credit
  account's equity counts its loan as a liability), so a repay lowers cash and debt by the same
  amount and leaves ``E`` unchanged; money transferred in from outside the unit raises ``E`` by its
  value; ``M`` (maintenance margin of positions) does not change with a repay.
* No margin-call or liquidation LTV is published; the level is yours.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal
from typing import Any

from airflow_binance_loan.client.models import RiskUnitDetails
from airflow_binance_loan.money import format_decimal

QUANTUM = Decimal("0.00000001")
#: Reported ltv and L / (E − M) may differ by Binance's rounding (the example shows 3 decimals).
FIT_TOLERANCE = Decimal("0.001")


@dataclass(frozen=True)
class RepaymentEstimate:
    """Amounts that would bring a unit under ``level`` (None: repaying cannot, the equity is not positive)."""

    level: Decimal
    repay_from_unit: Decimal | None
    repay_with_new_funds: Decimal | None
    collateral_to_add: Decimal
    implied_ltv: Decimal | None
    fits_reported_ltv: bool

    def to_json(self) -> dict[str, Any]:
        """Plain form (decimal strings)."""

        def text(value: Decimal | None) -> str | None:
            return None if value is None else format_decimal(value)

        return {
            "level": format_decimal(self.level),
            "repay_from_unit": text(self.repay_from_unit),
            "repay_with_new_funds": text(self.repay_with_new_funds),
            "collateral_to_add": format_decimal(self.collateral_to_add),
            "implied_ltv": text(self.implied_ltv),
            "fits_reported_ltv": self.fits_reported_ltv,
        }


def _enough(amount: Decimal, still_crossed: Callable[[Decimal], bool]) -> Decimal:
    """``amount`` rounded up to 8 decimals, plus one quantum if that still leaves the unit on the level."""
    rounded = max(Decimal(0), amount).quantize(QUANTUM, rounding=ROUND_CEILING)
    return rounded + QUANTUM if rounded > 0 and still_crossed(rounded) else rounded


def estimate_repayment(unit: RiskUnitDetails, level: Decimal) -> RepaymentEstimate:
    """The repayment (or collateral) that brings ``unit`` strictly under ``level``; see the module docstring.

    :param unit: the unit's ``ltv-details`` figures.
    :param level: the LTV level to get under (a ratio > 0).
    """
    if level <= 0:
        raise ValueError(f"level must be greater than 0, got {level}")
    owed = unit.total_liability
    room = unit.total_net_equity - unit.total_maintenance_margin
    collateral = _enough(owed / level - room, lambda c: owed >= level * (room + c))
    if room <= 0:
        return RepaymentEstimate(level, None, None, collateral, None, False)
    implied = (owed / room).quantize(QUANTUM)
    from_unit = min(owed, _enough(owed - level * room, lambda r: owed - r >= level * room))
    new_funds = min(owed, _enough((owed - level * room) / (1 + level),
                                  lambda r: owed - r >= level * (room + r)))
    return RepaymentEstimate(level, from_unit, new_funds, collateral, implied,
                             abs(implied - unit.ltv) <= FIT_TOLERANCE)
