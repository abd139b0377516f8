"""The repayment that brings a unit back under a level: Binance's own example, edge cases, minimality."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from airflow_binance_loan.ltv.estimate import QUANTUM, estimate_repayment

from .units import BINANCE_EXAMPLE, unit


def test_binance_example_figures():
    est = estimate_repayment(BINANCE_EXAMPLE, Decimal("0.5"))
    # R = L - t(E - M) = 15.30718771 - 0.5 x 25.85090769 = 2.381733865, rounded up.
    assert est.repay_from_unit == Decimal("2.38173387")
    assert est.repay_with_new_funds == Decimal("1.58782258")  # 2.381733865 / 1.5, rounded up
    # L / t - D lands exactly on the level (0.5 still counts as crossed): one more 0.00000001.
    assert est.collateral_to_add == Decimal("4.76346774")
    assert est.implied_ltv == Decimal("0.59213347") and est.fits_reported_ltv  # Binance shows "0.592"
    assert est.to_json()["repay_from_unit"] == "2.38173387"


def test_a_unit_already_under_needs_nothing_and_a_unit_without_debt_too():
    assert estimate_repayment(BINANCE_EXAMPLE, Decimal("0.7")).repay_from_unit == 0
    empty = estimate_repayment(unit(2, "0", equity="100"), Decimal("0.5"))
    assert (empty.repay_from_unit, empty.repay_with_new_funds, empty.collateral_to_add) == (0, 0, 0)


def test_no_equity_left_means_repaying_cannot_help():
    est = estimate_repayment(unit(3, "999", liability="100", equity="50", maintenance="60"), Decimal("0.5"))
    assert est.repay_from_unit is None and est.repay_with_new_funds is None and est.implied_ltv is None
    assert est.collateral_to_add == Decimal("210.00000001")  # 100 / 0.5 - (-10) lands on 0.5: one more
    assert not est.fits_reported_ltv


def test_a_reported_ltv_that_does_not_fit_the_formula_is_flagged():
    est = estimate_repayment(unit(4, "0.7", liability="60", equity="100"), Decimal("0.5"))
    assert est.implied_ltv == Decimal("0.6") and not est.fits_reported_ltv


amounts = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("10000000"), places=8)


@given(owed=amounts, room=amounts, level=st.decimals(min_value=Decimal("0.05"), max_value=Decimal("2"), places=4))
def test_each_amount_is_the_smallest_that_gets_strictly_under(owed, room, level):
    est = estimate_repayment(unit(5, "0", liability=str(owed), equity=str(room)), level)
    assert est.repay_from_unit is not None and est.repay_with_new_funds is not None
    r, n, c = est.repay_from_unit, est.repay_with_new_funds, est.collateral_to_add
    assert owed - r < level * room or r == owed
    assert owed - n < level * (room + n) or n == owed
    assert owed < level * (room + c)
    if r > 0 and r < owed:
        assert owed - (r - QUANTUM) >= level * room
    if c > 0:
        assert owed >= level * (room + c - QUANTUM)
