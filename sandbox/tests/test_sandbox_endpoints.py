"""Every endpoint over hand-signed HTTP, with HMAC, RSA and Ed25519 credit accounts, the parent and a collateral key.

The same endpoints through the provider's client are tested on the provider side
(``tests/integration/test_client_endpoints.py``).
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest

pytestmark = pytest.mark.integration

GROUP = "/sapi/v1/margin/loan-group"
LTV = f"{GROUP}/ltv-details"
MAX_BORROWABLE = f"{GROUP}/max-borrowable"
RECORDS = f"{GROUP}/borrow-repay"
INTEREST = f"{GROUP}/interest-history"
ACTIVE = "/sapi/v1/margin/loan-groups/activated"
CLOSED = "/sapi/v1/margin/loan-groups/closed"
RESTRICTIONS = "/sapi/v1/account/apiRestrictions"
CREDIT_ACCOUNTS = [("credit_hmac", 10001, "USDT"), ("credit_rsa", 10002, "USDT"), ("credit_ed25519", 10003, "USDC")]


def exact(response) -> Any:
    """The JSON body with every fraction as an exact Decimal."""
    assert response.status_code == 200, response.text
    return json.loads(response.text, parse_float=Decimal)


def error(response) -> tuple[int, int]:
    return response.status_code, response.json()["code"]


def owed(row: dict[str, Any], asset: str) -> Decimal:
    debt = next(x for x in row["liabilities"] if x["assetName"] == asset)
    return Decimal(debt["principal"]) + Decimal(debt["interest"])


@pytest.mark.parametrize(("account", "group_id", "asset"), CREDIT_ACCOUNTS)
def test_credit_account_reads_its_own_unit(raw, demo_creds, account, group_id, asset):
    assert demo_creds[account]["keyType"] == account.split("_")[1]
    [unit] = exact(raw.call("GET", LTV, {}, account))
    assert unit["groupId"] == group_id
    assert owed(unit, asset) > 0
    assert exact(raw.call("GET", LTV, {"groupId": 10004}, account)) == []
    assert {a["type"] for a in unit["collateralAccounts"]} == {"CREDIT", "COLLATERAL"}
    net, maint = Decimal(unit["totalNetEquity"]), Decimal(unit["totalMaintenanceMargin"])
    assert Decimal(unit["ltv"]) == (Decimal(unit["totalLiability"]) / (net - maint)).quantize(Decimal("0.00000001"))
    assert Decimal(exact(raw.call("GET", MAX_BORROWABLE, {"assetName": asset}, account))["maxBorrowableAmount"]) > 0
    other = exact(raw.call("GET", MAX_BORROWABLE, {"assetName": asset, "groupId": 10004}, account))
    assert other == {"maxBorrowableAmount": None}
    restrictions = exact(raw.call("GET", RESTRICTIONS, {}, account))
    assert restrictions["enableReading"] is True and restrictions["enableSpotAndMarginTrading"] is True


@pytest.mark.parametrize(("account", "group_id", "asset"), CREDIT_ACCOUNTS)
def test_borrow_repay_and_records(raw, sandbox, account, group_id, asset):
    before = sandbox.state.liability(group_id, asset)
    borrowed = exact(raw.call("POST", f"{GROUP}/borrow", {"groupId": group_id, "assetName": asset,
                                                          "amount": "1234.5"}, account))
    assert borrowed["status"] == "success" and borrowed["amount"] == Decimal("1234.5")
    repaid = exact(raw.call("POST", f"{GROUP}/repay", {"groupId": group_id, "assetName": asset,
                                                       "amount": "100.25"}, account, in_body=True))
    assert repaid["amount"] == Decimal("100.25") and repaid["repayFrom"] == "MARGIN"
    after = sandbox.state.liability(group_id, asset)
    assert after.outstanding == before.outstanding + Decimal("1234.5") - Decimal("100.25")
    [borrow_row] = exact(raw.call("GET", RECORDS, {"type": "BORROW"}, account))["rows"]
    [repay_row] = exact(raw.call("GET", RECORDS, {"type": "REPAY", "groupId": group_id, "asset": asset},
                                 account))["rows"]
    assert borrow_row["tranId"] == borrowed["transactionId"] and borrow_row["type"] == "BORROW"
    assert repay_row["tranId"] == repaid["transactionId"] and repay_row["type"] == "NORMAL_REPAY"
    assert repay_row["principal"] + repay_row["interest"] == repay_row["amount"]


@pytest.mark.parametrize(("account", "group_id", "asset"), CREDIT_ACCOUNTS)
def test_interest_history_after_advancing_the_clock(raw, sandbox, account, group_id, asset):
    assert sandbox.advance_hours(3) > 0
    rows = exact(raw.call("GET", INTEREST, {"asset": asset}, account))["rows"]
    assert len(rows) == 3
    stamps = [r["interestTimestamp"] for r in rows]
    assert stamps == sorted(stamps, reverse=True)
    assert all(r["interestTimestamp"] % 3_600_000 == 0 and r["groupId"] == group_id for r in rows)
    assert all(r["interest"] == (r["principal"] * r["interestRate"]).quantize(Decimal("0.00000001")) for r in rows)


def test_parent_sees_all_units_and_lists_active_ones(raw):
    assert [u["groupId"] for u in exact(raw.call("GET", LTV, {}, "parent"))] == [10001, 10002, 10003, 10004]
    assert [u["groupId"] for u in exact(raw.call("GET", LTV, {"groupId": 10002}, "parent"))] == [10002]
    active = exact(raw.call("GET", ACTIVE, {}, "parent"))
    assert [u["groupId"] for u in active] == [10001, 10002, 10003, 10004]
    assert active[0]["members"][0]["type"] == "CREDIT"
    limit = exact(raw.call("GET", MAX_BORROWABLE, {"assetName": "USDT", "groupId": 10001}, "parent"))
    assert Decimal(limit["maxBorrowableAmount"]) > 0
    assert error(raw.call("GET", MAX_BORROWABLE, {"assetName": "USDT"}, "parent")) == (400, -1102)
    repay = {"groupId": 10001, "assetName": "USDT", "amount": "1"}
    assert error(raw.call("POST", f"{GROUP}/repay", repay, "parent")) == (401, -2015)


def test_collateral_key_gets_empty_results_or_minus_2015(raw):
    assert exact(raw.call("GET", LTV, {}, "collateral_a")) == []
    assert exact(raw.call("GET", MAX_BORROWABLE, {"assetName": "USDT"}, "collateral_a")) == {
        "maxBorrowableAmount": None}
    assert exact(raw.call("GET", RESTRICTIONS, {}, "collateral_a"))["enableSpotAndMarginTrading"] is False
    for method, path, params in (("POST", f"{GROUP}/repay", {"groupId": 10001, "assetName": "USDT", "amount": "1"}),
                                 ("GET", ACTIVE, {}), ("GET", RECORDS, {"type": "REPAY"})):
        assert error(raw.call(method, path, params, "collateral_a")) == (401, -2015)


def test_close_needs_zero_liability_then_unit_is_listed_as_closed(raw):
    refused = raw.call("DELETE", GROUP, {"groupId": 10001})
    assert error(refused) == (400, -27018) and "USDT" in refused.json()["msg"]
    for asset, everything in (("USDT", Decimal("1000208.25")), ("USDC", Decimal("200030"))):
        repaid = raw.call("POST", f"{GROUP}/repay", {"groupId": 10001, "assetName": asset, "amount": "2000000"})
        assert exact(repaid)["amount"] == everything
    assert exact(raw.call("DELETE", GROUP, {"groupId": 10001})) == {"groupId": 10001, "status": "CLOSED"}
    closed = exact(raw.call("GET", CLOSED, {}))
    assert closed["total"] == 1 and closed["rows"][0]["groupId"] == 10001
    assert closed["rows"][0]["enabled"] is False
    assert exact(raw.call("GET", LTV, {})) == []
    assert len(exact(raw.call("GET", RECORDS, {"type": "REPAY", "groupId": 10001}))["rows"]) == 2  # still there
    assert [u["groupId"] for u in exact(raw.call("GET", ACTIVE, {}, "parent"))] == [10002, 10003, 10004]


def test_liquidation_lists_are_empty_and_unmodelled_endpoints_refuse(raw):
    for path in (f"{GROUP}/force-liquidation", f"{GROUP}/force-liquidation-transfer-record"):
        assert exact(raw.call("GET", path, {}, "credit_rsa")) == {"total": 0, "rows": []}
    refused = raw.call("POST", f"{GROUP}/transfer-out", {"asset": "USDT", "amount": "1"}, "credit_rsa")
    assert error(refused) == (400, -1020)


def test_server_time_is_the_sandbox_clock(raw, sandbox):
    sandbox.set_clock_skew(-7_000)
    server_ms = exact(raw.http.get(f"{sandbox.url}/api/v3/time", timeout=5))["serverTime"]
    assert abs(server_ms - sandbox.now_ms()) < 2_000
