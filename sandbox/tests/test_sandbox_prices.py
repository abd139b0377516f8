"""Collateral prices for LTV rehearsals: ``GET`` / ``POST /sandbox/prices`` and what ltv-details shows after a shock.

The contract (an LTV sensor is built against it): ``POST /sandbox/prices {"prices": {"BTC": "45000.5",
"ETH": 2000}}`` sets each asset's price (decimal strings or JSON numbers, parsed exactly; new assets
are added; a non-positive or non-numeric price is a Binance-shaped -1130 naming the asset and the
value, and changes nothing); both methods answer ``{"prices": {...every price as a string...},
"serverTime": ms}``; admin only.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
import requests

from binance_loan_sandbox import SandboxServer, load_state

pytestmark = pytest.mark.integration

LTV = "/sapi/v1/margin/loan-group/ltv-details"
MAX_BORROWABLE = "/sapi/v1/margin/loan-group/max-borrowable"
DEMO_PRICES = {"USDT": "1", "USDC": "1", "BTC": "50000", "ETH": "2500"}


def prices_url(server: SandboxServer) -> str:
    return f"{server.url}/sandbox/prices"


def post_prices(server: SandboxServer, body: Any) -> requests.Response:
    return requests.post(prices_url(server), data=json.dumps(body), timeout=5)


def unit_details(raw, account: str = "credit_hmac") -> dict[str, Any]:
    response = raw.call("GET", LTV, {}, account)
    assert response.status_code == 200, response.text
    [unit] = response.json()
    return unit


def wallet(unit: dict[str, Any], member_type: str, account_type: str) -> dict[str, Any]:
    member = next(a for a in unit["collateralAccounts"] if a["type"] == member_type)
    return next(w for w in member["wallets"] if w["accountType"] == account_type)


def expected_ltv(unit: dict[str, Any]) -> str:
    denominator = Decimal(unit["totalNetEquity"]) - Decimal(unit["totalMaintenanceMargin"])
    ltv = (Decimal(unit["totalLiability"]) / denominator).quantize(Decimal("0.00000001"))
    return f"{ltv.normalize():f}"


def test_get_prices_shows_every_price_as_a_string_with_server_time(sandbox):
    answer = requests.get(prices_url(sandbox), timeout=5).json()
    assert answer["prices"] == DEMO_PRICES
    assert isinstance(answer["serverTime"], int) and abs(answer["serverTime"] - sandbox.now_ms()) < 2_000


def test_a_btc_shock_moves_collateral_equity_and_ltv_exactly(sandbox, raw):
    before = unit_details(raw)
    assert wallet(before, "COLLATERAL", "SPOT")["netEquity"] == "2500000"  # 1500000 fixed + 20 BTC at 50000
    assert (before["totalNetEquity"], before["ltv"]) == ("3874761.75", expected_ltv(before))
    limit_before = Decimal(raw.call("GET", MAX_BORROWABLE, {"assetName": "USDT"}).json()["maxBorrowableAmount"])

    answer = post_prices(sandbox, {"prices": {"BTC": "45000.5", "ETH": 2000}})
    assert answer.status_code == 200, answer.text
    assert answer.json()["prices"] == {**DEMO_PRICES, "BTC": "45000.5", "ETH": "2000"}
    assert abs(answer.json()["serverTime"] - sandbox.now_ms()) < 2_000

    after = unit_details(raw)
    assert wallet(after, "COLLATERAL", "SPOT")["netEquity"] == "2400010"  # 1500000 + 20 × 45000.5
    assert wallet(after, "COLLATERAL", "CROSS_MARGIN")["netEquity"] == "800000"  # unpriced: unchanged
    assert after["totalNetEquity"] == "3774771.75"
    assert after["totalLiability"] == before["totalLiability"] == "1200238.25"
    assert after["ltv"] == expected_ltv(after) == "0.32136857"
    assert Decimal(after["ltv"]) > Decimal(before["ltv"])
    limit_after = Decimal(raw.call("GET", MAX_BORROWABLE, {"assetName": "USDT"}).json()["maxBorrowableAmount"])
    assert limit_after < limit_before
    eth_unit = unit_details(raw, "credit_rsa")
    assert wallet(eth_unit, "COLLATERAL", "SPOT")["netEquity"] == "1100000"  # 700000 + 200 ETH × 2000
    assert eth_unit["totalNetEquity"] == "1349906.29"


def test_a_crash_then_recovery_and_the_parent_sees_every_unit(sandbox, raw):
    assert post_prices(sandbox, {"prices": {"BTC": "1000"}}).status_code == 200
    units = {u["groupId"]: u for u in raw.call("GET", LTV, {}, "parent").json()}
    assert units[10001]["totalNetEquity"] == "2894761.75" and units[10001]["ltv"] == expected_ltv(units[10001])
    assert wallet(units[10003], "COLLATERAL", "PORTFOLIO_MARGIN")["netEquity"] == "1010000"  # 1000000 + 10 BTC
    assert units[10004]["totalNetEquity"] == "342458.85"  # stable coins only: no BTC exposure
    assert post_prices(sandbox, {"prices": {"BTC": 50000}}).status_code == 200
    assert unit_details(raw)["totalNetEquity"] == "3874761.75"


def test_a_liability_asset_price_values_debt_and_wallets(sandbox, raw):
    assert post_prices(sandbox, {"prices": {"USDT": "1.1"}}).status_code == 200
    unit = unit_details(raw, "credit_short")
    assert unit["totalLiability"] == "110045.815"  # 100041.65 USDT × 1.1
    assert unit["ltv"] == expected_ltv(unit)


def test_json_numbers_are_parsed_exactly_and_new_assets_are_added(sandbox):
    raw_json = b'{"prices": {"BTC": 45000.123456789123456789, "DOGE": "0.00000001", "SOL": 1e2}}'
    answer = requests.post(prices_url(sandbox), data=raw_json, timeout=5)
    assert answer.status_code == 200, answer.text
    prices = answer.json()["prices"]
    assert prices["BTC"] == "45000.123456789123456789"  # never through a binary float
    assert (prices["DOGE"], prices["SOL"]) == ("0.00000001", "100")
    assert sandbox.prices["BTC"] == Decimal("45000.123456789123456789")
    assert requests.get(prices_url(sandbox), timeout=5).json()["prices"] == prices
    assert sandbox.state.snapshot()["prices"]["DOGE"] == "0.00000001"  # saved with the state


@pytest.mark.parametrize(("value", "shown"), [
    ("0", '"0"'), ("-1", '"-1"'), (0, "0"), (-5, "-5"), ("abc", '"abc"'), ("NaN", '"NaN"'),
    ("Infinity", '"Infinity"'), (True, "true"), (None, "null"), ([1], "[1]"), ("", '""'), (" 5", '" 5"'),
    ("1_000", '"1_000"'), (-0.5, "-0.5"),
])
def test_non_positive_or_non_numeric_prices_are_minus_1130_naming_asset_and_value(sandbox, value, shown):
    response = post_prices(sandbox, {"prices": {"ETH": "2100", "BTC": value}})
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == -1130 and set(body) == {"code", "msg"}
    assert "BTC" in body["msg"] and shown in body["msg"]
    assert sandbox.prices == {a: Decimal(p) for a, p in DEMO_PRICES.items()}  # all or nothing: ETH unchanged


@pytest.mark.parametrize("body", [{}, {"prices": []}, {"prices": "BTC=1"}, {"price": {"BTC": "1"}},
                                  {"prices": {"BTC": "1"}, "extra": 1}, {"prices": {"btc": "1"}},
                                  {"prices": {"": "1"}}, [{"BTC": "1"}]])
def test_malformed_bodies_are_minus_1130(sandbox, body):
    response = post_prices(sandbox, body)
    assert response.status_code == 400 and response.json()["code"] == -1130
    assert sandbox.prices == {a: Decimal(p) for a, p in DEMO_PRICES.items()}


def test_invalid_json_is_minus_1130(sandbox):
    response = requests.post(prices_url(sandbox), data=b"{prices: BTC}", timeout=5)
    assert response.status_code == 400 and response.json()["code"] == -1130


def test_python_api_takes_the_same_prices(sandbox):
    assert sandbox.set_prices({"BTC": "40000"})["BTC"] == Decimal(40000)
    with pytest.raises(ValueError, match="BTC"):
        sandbox.set_prices({"BTC": "-1"})
    assert sandbox.prices["BTC"] == Decimal(40000)


def test_prices_exist_only_with_admin():
    with SandboxServer(load_state("demo")) as server:
        for method in ("GET", "POST"):
            response = requests.request(method, prices_url(server), json={"prices": {"BTC": "1"}}, timeout=5)
            assert response.status_code == 404 and response.json()["code"] == -1099
        assert server.prices["BTC"] == Decimal(50000)


def test_advance_still_accrues_interest_next_to_prices(sandbox):
    assert post_prices(sandbox, {"prices": {"BTC": "45000"}}).status_code == 200
    advanced = requests.post(f"{sandbox.url}/sandbox/advance", json={"hours": 2}, timeout=5).json()
    assert advanced["interestRows"] == 10
    assert sandbox.state.liability(10001, "USDT").interest == Decimal("208.25") + 2 * Decimal("8.33")
    assert sandbox.prices["BTC"] == Decimal(45000)
