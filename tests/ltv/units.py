"""Risk units as ltv-details would describe them, for the plain LTV tests (no network)."""

from __future__ import annotations

from decimal import Decimal

from airflow_binance_loan.client.models import Liability, RiskUnitDetails


def unit(group_id: int, ltv: str, *, liability: str = "0", equity: str = "0", maintenance: str = "0",
         owes: tuple[tuple[str, str, str], ...] = ()) -> RiskUnitDetails:
    """A unit with the given figures; ``owes`` = (asset, principal, interest) rows."""
    return RiskUnitDetails(
        group_id=group_id, ltv=Decimal(ltv), total_net_equity=Decimal(equity),
        total_maintenance_margin=Decimal(maintenance), total_liability=Decimal(liability),
        liabilities=tuple(Liability(a, Decimal(p), Decimal(i)) for a, p, i in owes),
    )


#: Binance's own ltv-details example (reference §4.4): ltv "0.592" = 15.30718771 / (26.35196946 - 0.50106177).
BINANCE_EXAMPLE = unit(1, "0.592", liability="15.30718771", equity="26.35196946", maintenance="0.50106177",
                       owes=(("USDT", "15.30718771", "0"),))
