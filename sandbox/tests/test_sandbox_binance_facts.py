"""The sandbox's table of Binance's facts, checked against the reference's own arithmetic and texts.

``binance-institutional-loan.md`` §3 lists the weights, and ``binance-signing-and-limits.md`` §6.2
derives from them how many calls fit in a minute; both must follow from the table. (The provider's
tests compare this table with the client's, field by field.)
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from binance_loan_sandbox import binance_facts as facts
from binance_loan_sandbox.amounts import amount_text

CALLS_PER_MINUTE = {  # binance-signing-and-limits.md §6.2
    "repay": 60, "borrow": 60, "close_risk_unit": 180, "edit_member": 180, "ltv_details": 60,
    "max_borrowable": 120, "interest_rebate_records": 120, "borrow_repay_records": 1200, "interest_history": 1200,
    "active_risk_units": 1200, "closed_risk_units": 12000, "force_liquidation": 12000,
    "force_liquidation_transfers": 12000, "transfer_out": 12000,
}


@pytest.mark.parametrize(("name", "calls"), sorted(CALLS_PER_MINUTE.items()))
def test_weights_give_the_documented_calls_per_minute(name, calls):
    route = next(r for r in facts.ROUTES if r.name == name)
    assert route.limit // route.weight == calls
    assert route.path.startswith("/sapi/v1/margin/loan-group")
    assert route.weight_header == ("X-SAPI-USED-UID-WEIGHT-1M" if route.limit_kind == "UID" else
                                   "X-SAPI-USED-IP-WEIGHT-1M")


def test_routes_are_unique_and_only_server_time_is_unsigned():
    assert len(facts.ROUTE_BY_REQUEST) == len(facts.ROUTES) == len(facts.ROUTE_NAMES)
    assert [r.name for r in facts.ROUTES if not r.signed] == ["server_time"]
    time_route = facts.ROUTE_BY_REQUEST[("GET", "/api/v3/time")]
    assert (time_route.weight, time_route.limit, time_route.weight_header) == (1, 6000, "X-MBX-USED-WEIGHT-1M")
    assert facts.ROUTE_BY_REQUEST[("GET", "/sapi/v1/account/apiRestrictions")].weight == 1  # reference §13


def test_error_texts_and_statuses():
    assert facts.MSG_TOO_MUCH_WEIGHT.format(limit=12000, window="1 MINUTE") == (
        "Too much request weight used; current limit is 12000 request weight per 1 MINUTE. "
        "Please use WebSocket Streams for live updates to avoid polling the API.")
    assert facts.MSG_BORROW_OVER_MAX.format(asset="USDT", limit="5", amount="6") == (
        "The requested borrow amount exceeds the maximum allowed limit. "
        "Maximum borrowable for asset USDT is 5, but request 6.")
    assert [facts.HTTP_STATUS_BY_CODE.get(code, 400) for code in (-2014, -2015, -1003, -1007, -1000, -1022)] == [
        401, 401, 429, 500, 500, 400]
    assert (facts.DEFAULT_RECV_WINDOW_MS, facts.MAX_RECV_WINDOW_MS, facts.AHEAD_TOLERANCE_MS) == (5000, 60000, 1000)


@pytest.mark.parametrize(("value", "text"), [
    ("1000.50", "1000.5"), ("1E-8", "0.00000001"), ("0E-8", "0"), ("-0.0", "0"), ("1E+2", "100"),
    ("123456789012345678901234567890.123456789", "123456789012345678901234567890.123456789"), ("-2.500", "-2.5"),
])
def test_amount_text_is_plain_and_exact(value, text):
    assert amount_text(Decimal(value)) == text


def test_amount_text_refuses_non_finite_values():
    for value in ("NaN", "Infinity"):
        with pytest.raises(ValueError):
            amount_text(Decimal(value))
