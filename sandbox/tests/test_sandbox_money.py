"""Money semantics: partial repays, interest first, refusals, exact decimals, ids, concurrency, interest.

Hand-signed HTTP (HMAC, RSA and Ed25519 accounts) and the answers' exact JSON numbers; how the
provider's client turns these answers into results and exceptions is tested on the provider side
(``tests/integration/test_client_money.py``).
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any

import pytest

pytestmark = pytest.mark.integration

REPAY = "/sapi/v1/margin/loan-group/repay"
BORROW = "/sapi/v1/margin/loan-group/borrow"
RECORDS = "/sapi/v1/margin/loan-group/borrow-repay"
LTV = "/sapi/v1/margin/loan-group/ltv-details"
MAX_BORROWABLE = "/sapi/v1/margin/loan-group/max-borrowable"


def exact(response) -> Any:
    """The JSON body with every fraction as an exact Decimal."""
    assert response.status_code == 200, response.text
    return json.loads(response.text, parse_float=Decimal)


def error(response) -> tuple[int, int, str]:
    body = response.json()
    return response.status_code, body["code"], body["msg"]


def repay(raw, account: str, group_id: int, asset: str, amount: Any, **params: Any):
    return raw.call("POST", REPAY, {"groupId": group_id, "assetName": asset, "amount": str(amount), **params},
                    account)


def test_short_unit_gets_a_partial_repay_interest_first(raw, sandbox):
    owed = sandbox.state.liability(10004, "USDT")
    available = sandbox.state.balance(10004, "USDT")
    assert available < owed.outstanding  # the demo unit that is deliberately short of funds
    result = exact(repay(raw, "credit_short", 10004, "USDT", owed.outstanding))
    assert result["amount"] == available == Decimal("40000.5")
    [record] = exact(raw.call("GET", RECORDS, {"type": "REPAY"}, "credit_short"))["rows"]
    assert (record["interest"], record["principal"]) == (Decimal("41.65"), Decimal("39958.85"))
    after = sandbox.state.liability(10004, "USDT")
    assert (after.principal, after.interest) == (Decimal("60041.15"), Decimal(0))
    assert sandbox.state.balance(10004, "USDT") == 0
    assert error(repay(raw, "credit_short", 10004, "USDT", "1")) == (
        400, -27015, "Insufficient balance in balance for asset USDT.")
    from_spot = exact(repay(raw, "credit_short", 10004, "USDT", "5000", repayFrom="SPOT"))
    assert (from_spot["amount"], from_spot["repayFrom"]) == (Decimal("2500"), "SPOT")


def test_repay_is_capped_by_what_is_owed_and_no_liability_is_27011(raw, sandbox):
    assert exact(repay(raw, "credit_hmac", 10001, "USDC", "300000"))["amount"] == Decimal("200030")
    assert error(repay(raw, "credit_hmac", 10001, "USDC", "1")) == (
        400, -27011, "No liability found in the risk unit with GroupID 10001.")
    assert sandbox.state.balance(10001, "USDC") == Decimal("49970")


def test_transaction_ids_are_large_monotonic_and_match_records(raw):
    ids = [exact(repay(raw, "credit_rsa", 10002, "USDT", "10"))["transactionId"] for _ in range(3)]
    assert all(isinstance(i, int) and len(str(i)) >= 11 for i in ids)
    assert ids == sorted(ids) and len(set(ids)) == 3
    rows = exact(raw.call("GET", RECORDS, {"type": "REPAY"}, "credit_rsa"))["rows"]
    assert {r["tranId"] for r in rows} == set(ids)


def test_one_satoshi_is_exact(raw, sandbox):
    result = exact(repay(raw, "credit_ed25519", 10003, "USDC", "0.00000001"))
    assert result["amount"] == Decimal("0.00000001")
    assert sandbox.state.liability(10003, "USDC").interest == Decimal("0.12345677")
    assert sandbox.state.balance(10003, "USDC") == Decimal("899999.99999999")


def test_borrow_limits(raw, sandbox):
    def max_borrowable() -> Decimal:
        return Decimal(exact(raw.call("GET", MAX_BORROWABLE, {"assetName": "USDT"}))["maxBorrowableAmount"])

    def borrow(asset: str, amount: Decimal | str):
        return raw.call("POST", BORROW, {"groupId": 10001, "assetName": asset, "amount": f"{amount}"})

    limit = max_borrowable()
    over = error(borrow("USDT", limit + Decimal("0.00000001")))
    assert over[:2] == (400, -27009)
    assert f"Maximum borrowable for asset USDT is {limit.normalize():f}" in over[2]
    assert error(borrow("BTC", "1"))[:2] == (400, -27017)
    assert exact(borrow("USDT", limit))["amount"] == limit
    assert max_borrowable() == 0


def test_parallel_repays_are_neither_lost_nor_doubled(raw_for, sandbox):
    clients = [raw_for(sandbox) for _ in range(20)]
    before = sandbox.state.liability(10001, "USDT")
    with ThreadPoolExecutor(max_workers=20) as pool:
        results = list(pool.map(lambda c: exact(repay(c, "credit_hmac", 10001, "USDT", "1")), clients))
    for client in clients:
        client.http.close()
    assert all(r["amount"] == 1 for r in results)
    assert len({r["transactionId"] for r in results}) == 20
    records = sandbox.state.records_of(10001)
    assert len(records) == 20 and {r.tran_id for r in records} == {r["transactionId"] for r in results}
    after = sandbox.state.liability(10001, "USDT")
    assert before.outstanding - after.outstanding == 20
    assert after.interest == before.interest - 20 and after.principal == before.principal
    assert sandbox.state.balance(10001, "USDT") == Decimal("1499980")


def test_hourly_interest_accrues_on_principal(sandbox):
    assert sandbox.state.liability(10001, "USDT").interest == Decimal("208.25")
    sandbox.advance_hours(3)
    assert sandbox.state.liability(10001, "USDT").interest == Decimal("208.25") + 3 * Decimal("8.33")
    assert sandbox.state.liability(10001, "USDC").interest == Decimal("30") + 3 * Decimal("1.5")
    rows = [r for r in sandbox.state.interest_rows if r.group_id == 10001 and r.asset == "USDT"]
    assert [r.timestamp - rows[0].timestamp for r in rows] == [0, 3_600_000, 7_200_000]
    assert rows[-1].timestamp <= sandbox.now_ms()


def test_ltv_follows_the_inferred_formula(raw):
    [unit] = exact(raw.call("GET", LTV, {}, "credit_short"))
    liability = Decimal(unit["totalLiability"])
    assert liability == Decimal("100041.65")
    expected = liability / (Decimal(unit["totalNetEquity"]) - Decimal(unit["totalMaintenanceMargin"]))
    assert Decimal(unit["ltv"]) == expected.quantize(Decimal("0.00000001"))
