"""Every endpoint through the project's client, with HMAC, RSA and Ed25519 credit accounts."""

from __future__ import annotations

from decimal import Decimal

import pytest

from airflow_binance_loan.exceptions import AuthenticationError, InvalidRequestError, LoanBusinessError

pytestmark = pytest.mark.integration

CREDIT_ACCOUNTS = [("credit_hmac", 10001, "USDT"), ("credit_rsa", 10002, "USDT"), ("credit_ed25519", 10003, "USDC")]


@pytest.mark.parametrize(("account", "group_id", "asset"), CREDIT_ACCOUNTS)
def test_credit_account_reads_its_own_unit(client_for, sandbox, account, group_id, asset):
    client = client_for(account)
    assert client.session.key_type == account.split("_")[1]
    [unit] = client.ltv_details()
    assert unit.group_id == group_id
    assert unit.liability(asset).outstanding > 0
    assert client.ltv_details(group_id=10004) == []
    assert {a.type for a in unit.accounts} == {"CREDIT", "COLLATERAL"}
    net, maint = unit.total_net_equity, unit.total_maintenance_margin
    assert unit.ltv == (unit.total_liability / (net - maint)).quantize(Decimal("0.00000001"))
    assert client.max_borrowable(asset) > 0
    assert client.max_borrowable(asset, group_id=10004) is None
    restrictions = client.api_restrictions()
    assert restrictions.enable_reading and restrictions.enable_spot_and_margin_trading


@pytest.mark.parametrize(("account", "group_id", "asset"), CREDIT_ACCOUNTS)
def test_borrow_repay_and_records(client_for, sandbox, account, group_id, asset):
    client = client_for(account)
    before = sandbox.state.liability(group_id, asset)
    borrowed = client.borrow(group_id, asset, "1234.5")
    assert borrowed.status == "success" and borrowed.amount == Decimal("1234.5")
    repaid = client.repay(group_id, asset, "100.25")
    assert repaid.amount == Decimal("100.25") and repaid.repay_from == "MARGIN"
    after = sandbox.state.liability(group_id, asset)
    assert after.outstanding == before.outstanding + Decimal("1234.5") - Decimal("100.25")
    [borrow_row] = client.borrow_repay_records("BORROW")
    [repay_row] = client.borrow_repay_records("REPAY", group_id=group_id, asset=asset)
    assert borrow_row.tran_id == borrowed.transaction_id and borrow_row.type == "BORROW"
    assert repay_row.tran_id == repaid.transaction_id and repay_row.type == "NORMAL_REPAY"
    assert repay_row.principal + repay_row.interest == repay_row.amount


@pytest.mark.parametrize(("account", "group_id", "asset"), CREDIT_ACCOUNTS)
def test_interest_history_after_advancing_the_clock(client_for, sandbox, account, group_id, asset):
    assert sandbox.advance_hours(3) > 0
    client = client_for(account)
    client.session.sync_time()  # the client derives its default range from server time
    rows = client.interest_history(asset=asset)
    assert len(rows) == 3
    assert [r.interest_timestamp for r in rows] == sorted((r.interest_timestamp for r in rows), reverse=True)
    assert all(r.interest_timestamp % 3_600_000 == 0 and r.group_id == group_id for r in rows)
    assert all(r.interest == (r.principal * r.interest_rate).quantize(Decimal("0.00000001")) for r in rows)


def test_parent_sees_all_units_and_lists_active_ones(client_for):
    parent = client_for("parent")
    assert [u.group_id for u in parent.ltv_details()] == [10001, 10002, 10003, 10004]
    assert [u.group_id for u in parent.ltv_details(group_id=10002)] == [10002]
    active = parent.active_risk_units()
    assert [u.group_id for u in active] == [10001, 10002, 10003, 10004]
    assert active[0].members[0].type == "CREDIT"
    assert parent.max_borrowable("USDT", group_id=10001) > 0
    with pytest.raises(InvalidRequestError) as info:
        parent.max_borrowable("USDT")
    assert info.value.code == -1102
    with pytest.raises(AuthenticationError):
        parent.repay(10001, "USDT", "1")


def test_collateral_key_gets_empty_results_or_minus_2015(client_for):
    collateral = client_for("collateral_a")
    assert collateral.ltv_details() == []
    assert collateral.max_borrowable("USDT") is None
    assert collateral.api_restrictions().enable_spot_and_margin_trading is False
    for call in (lambda: collateral.repay(10001, "USDT", "1"), collateral.active_risk_units,
                 lambda: collateral.borrow_repay_records("REPAY")):
        with pytest.raises(AuthenticationError) as info:
            call()
        assert info.value.code == -2015 and info.value.http_status == 401


def test_close_needs_zero_liability_then_unit_is_listed_as_closed(client_for, sandbox):
    client = client_for("credit_hmac")
    with pytest.raises(LoanBusinessError) as info:
        client.close_risk_unit(10001)
    assert info.value.code == -27018 and "USDT" in info.value.msg
    assert client.repay(10001, "USDT", "2000000").amount == Decimal("1000208.25")
    assert client.repay(10001, "USDC", "2000000").amount == Decimal("200030")
    assert client.close_risk_unit(10001) == {"groupId": 10001, "status": "CLOSED"}
    closed = client.signed_request("GET", "/sapi/v1/margin/loan-groups/closed")
    assert closed["total"] == 1 and closed["rows"][0]["groupId"] == 10001
    assert closed["rows"][0]["enabled"] is False
    assert client.ltv_details() == []
    assert len(client.borrow_repay_records("REPAY", group_id=10001)) == 2  # history stays queryable
    assert [u.group_id for u in client_for("parent").active_risk_units()] == [10002, 10003, 10004]


def test_liquidation_lists_are_empty_and_unmodelled_endpoints_refuse(client_for):
    client = client_for("credit_rsa")
    for path in ("/sapi/v1/margin/loan-group/force-liquidation",
                 "/sapi/v1/margin/loan-group/force-liquidation-transfer-record"):
        assert client.signed_request("GET", path) == {"total": 0, "rows": []}
    with pytest.raises(InvalidRequestError) as info:
        client.signed_request("POST", "/sapi/v1/margin/loan-group/transfer-out", {"asset": "USDT", "amount": "1"})
    assert info.value.code == -1020


def test_server_time_is_the_sandbox_clock(client_for, sandbox):
    sandbox.set_clock_skew(-7_000)
    server_ms = client_for("credit_hmac").session.fetch_server_time()
    assert abs(server_ms - sandbox.now_ms()) < 2_000
