"""The money tests of the sandbox, seen through the provider's client: results parsed, refusals mapped.

The sandbox's own tests (``sandbox/tests/test_sandbox_money.py``) assert the same amounts on the
wire; these keep the client's side of them: the typed results and the exception classes.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest

from airflow_binance_loan.exceptions import InsufficientBalanceError, LoanBusinessError, NoLiabilityError

pytestmark = pytest.mark.integration


def test_short_unit_gets_a_partial_repay_interest_first(client_for, sandbox):
    client = client_for("credit_short")
    owed = sandbox.state.liability(10004, "USDT")
    available = sandbox.state.balance(10004, "USDT")
    result = client.repay(10004, "USDT", owed.outstanding)
    assert result.amount == available == Decimal("40000.5")
    [record] = client.borrow_repay_records("REPAY")
    assert (record.interest, record.principal) == (Decimal("41.65"), Decimal("39958.85"))
    with pytest.raises(InsufficientBalanceError) as info:
        client.repay(10004, "USDT", "1")
    assert info.value.code == -27015 and info.value.msg == "Insufficient balance in balance for asset USDT."
    from_spot = client.repay(10004, "USDT", "5000", repay_from="SPOT")
    assert (from_spot.amount, from_spot.repay_from) == (Decimal("2500"), "SPOT")


def test_repay_is_capped_by_what_is_owed_and_no_liability_is_27011(client_for, sandbox):
    client = client_for("credit_hmac")
    assert client.repay(10001, "USDC", "300000").amount == Decimal("200030")
    with pytest.raises(NoLiabilityError) as info:
        client.repay(10001, "USDC", "1")
    assert info.value.code == -27011
    assert info.value.msg == "No liability found in the risk unit with GroupID 10001."


def test_transaction_ids_are_large_monotonic_and_match_records(client_for):
    client = client_for("credit_rsa")
    ids = [client.repay(10002, "USDT", "10").transaction_id for _ in range(3)]
    assert all(len(i) >= 11 for i in ids)
    assert [int(i) for i in ids] == sorted(int(i) for i in ids) and len(set(ids)) == 3
    assert {r.tran_id for r in client.borrow_repay_records("REPAY")} == set(ids)


def test_one_satoshi_is_exact(client_for, sandbox):
    result = client_for("credit_ed25519").repay(10003, "USDC", "0.00000001")
    assert result.amount == Decimal("0.00000001")
    assert sandbox.state.liability(10003, "USDC").interest == Decimal("0.12345677")


def test_borrow_limits(client_for, sandbox):
    client = client_for("credit_hmac")
    limit = client.max_borrowable("USDT")
    with pytest.raises(LoanBusinessError) as info:
        client.borrow(10001, "USDT", limit + Decimal("0.00000001"))
    assert info.value.code == -27009
    assert f"Maximum borrowable for asset USDT is {limit.normalize():f}" in info.value.msg
    with pytest.raises(LoanBusinessError) as info:
        client.borrow(10001, "BTC", "1")
    assert info.value.code == -27017
    assert client.borrow(10001, "USDT", limit).amount == limit
    assert client.max_borrowable("USDT") == 0


def test_parallel_repays_are_neither_lost_nor_doubled(client_for, sandbox):
    clients = [client_for("credit_hmac") for _ in range(20)]
    before = sandbox.state.liability(10001, "USDT")
    with ThreadPoolExecutor(max_workers=20) as pool:
        results = list(pool.map(lambda c: c.repay(10001, "USDT", "1"), clients))
    assert all(r.amount == 1 for r in results)
    assert len({r.transaction_id for r in results}) == 20
    records = sandbox.state.records_of(10001)
    assert len(records) == 20 and {str(r.tran_id) for r in records} == {r.transaction_id for r in results}
    assert before.outstanding - sandbox.state.liability(10001, "USDT").outstanding == 20


def test_ltv_follows_the_inferred_formula(client_for):
    [unit] = client_for("credit_short").ltv_details()
    assert unit.total_liability == Decimal("100041.65")
    expected = unit.total_liability / (unit.total_net_equity - unit.total_maintenance_margin)
    assert unit.ltv == expected.quantize(Decimal("0.00000001"))
