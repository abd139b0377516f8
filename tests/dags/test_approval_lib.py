"""When the plan needs a second person, what the approver sees, and what the report says was decided."""

from __future__ import annotations

from binance_settlement_lib.approval import approval_reasons, decision, plan_markdown

UNITS = [{"group_id": 1, "ltv": "0.5", "liabilities": [{"asset": "USDT", "outstanding": "600000.5"}]},
         {"group_id": 2, "ltv": "0.5", "liabilities": [{"asset": "USDT", "outstanding": "500000"},
                                                       {"asset": "USDC", "outstanding": "10"}]}]
PLAN = [{"group_id": 1, "asset": "USDT", "amount": "outstanding", "binance_credit_conn_id": "c1", "max_amount": None},
        {"group_id": 2, "asset": "USDT", "amount": "outstanding", "binance_credit_conn_id": "c2", "max_amount": "1e9"},
        {"group_id": 2, "asset": "USDC", "amount": "10", "binance_credit_conn_id": "c2", "max_amount": None}]


def test_totals_per_asset_and_single_repays_are_both_checked():
    assert approval_reasons(PLAN, UNITS, "1000000") == [
        "the plan repays 1100000.5 USDT in total, above 1000000"]
    assert approval_reasons(PLAN, UNITS, "550000") == [
        "risk unit 1 repays 600000.5 USDT, above 550000", "the plan repays 1100000.5 USDT in total, above 550000"]
    assert approval_reasons(PLAN, UNITS, "2000000") == []


def test_the_approver_sees_a_table_with_totals():
    text = plan_markdown(PLAN, UNITS, ["why"])
    assert "| 1 | USDT | 600000.5 | outstanding | c1 | - |" in text
    assert "| USDT | 1100000.5 |" in text and "| USDC | 10 |" in text
    assert "**Why a second person:** why." in text


def test_decisions_read_for_the_report():
    approved = {"chosen_options": ["Approve"], "responded_by_user": {"id": "a", "name": "alice"},
                "responded_at": "2026-11-30 18:05:00+00:00", "timedout": False}
    assert decision(approved) == (True, "approved by alice at 2026-11-30 18:05:00+00:00")
    rejected = {**approved, "chosen_options": ["Reject"]}
    assert decision(rejected) == (False, "rejected by alice at 2026-11-30 18:05:00+00:00: nothing was repaid")
    timed_out = {**rejected, "responded_by_user": None, "timedout": True}
    assert decision(timed_out) == (False, "the approval timed out: nothing was repaid")
    assert decision(None)[0] is False
    assert decision({"auto": True, "detail": "small"}) == (True, "not needed (small)")
