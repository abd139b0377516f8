"""Pure settlement helpers: plan building (threshold, caps, connection precedence) and the report."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from binance_settlement_lib.plan import build_plan, connection_for, units_to_json
from binance_settlement_lib.report import build_report, render_report

from airflow_binance_loan.client.models import Liability, RiskUnitDetails


def unit(group_id: int, ltv: str, **liabilities: str) -> dict[str, Any]:
    return {
        "group_id": group_id,
        "ltv": ltv,
        "liabilities": [
            {"asset": a, "principal": v, "interest": "0", "outstanding": v} for a, v in liabilities.items()
        ],
    }


BEFORE = [unit(1, "0.5", USDT="1000.5", USDC="0.005"), unit(2, "0.4", USDT="300")]


# -- plan -----------------------------------------------------------------------------------------------


def test_plan_skips_at_or_below_threshold_and_keeps_outstanding() -> None:
    plan = build_plan(BEFORE, threshold="0.01")
    assert plan == [
        {"group_id": 1, "asset": "USDT", "amount": "outstanding", "binance_credit_conn_id": "binance_credit_1",
         "max_amount": None, "repay_from": None},
        {"group_id": 2, "asset": "USDT", "amount": "outstanding", "binance_credit_conn_id": "binance_credit_2",
         "max_amount": None, "repay_from": None},
    ]
    assert [p["group_id"] for p in build_plan(BEFORE, threshold="300")] == [1]


def test_plan_caps_and_repay_from() -> None:
    plan = build_plan(BEFORE, threshold="0.01", caps={"2": "250"}, repay_from="SPOT")
    assert [(p["group_id"], p["max_amount"], p["repay_from"]) for p in plan] == [(1, None, "SPOT"), (2, "250", "SPOT")]
    with pytest.raises(ValueError, match="max_amount_per_unit"):
        build_plan(BEFORE, threshold="0.01", caps={"2": 250.0})


def test_connection_precedence_param_then_variable_then_convention() -> None:
    param, variable = {"1": "from_param"}, {"1": "from_var", "2": "var_2"}
    assert connection_for(1, param, variable) == ("from_param", "param connection_map")
    assert connection_for(2, param, variable) == ("var_2", "Variable binance_loan_connection_map")
    assert connection_for(3, param, variable) == ("binance_credit_3", "convention")
    assert connection_for(3, None, None)[0] == "binance_credit_3"
    plan = build_plan(BEFORE, threshold="0.01", connection_map=param, variable_map=variable)
    assert [p["binance_credit_conn_id"] for p in plan] == ["from_param", "var_2"]
    with pytest.raises(ValueError, match="non-empty"):
        connection_for(1, {"1": ""}, None)


def test_units_to_json_uses_exact_strings() -> None:
    units = [
        RiskUnitDetails(2, Decimal("0.10"), Decimal("10"), Decimal("0"), Decimal("0"), ()),
        RiskUnitDetails(1, Decimal("0.3129890"), Decimal("3195717.5"), Decimal("0"), Decimal("1000208.25000000"),
                        (Liability("USDT", Decimal("1000000"), Decimal("208.25000000")),), update_time=5),
    ]
    assert units_to_json(units) == [
        {"group_id": 1, "ltv": "0.312989", "total_liability": "1000208.25", "total_net_equity": "3195717.5",
         "total_maintenance_margin": "0", "update_time": 5, "liabilities": [
            {"asset": "USDT", "principal": "1000000", "interest": "208.25", "outstanding": "1000208.25"}]},
        {"group_id": 2, "ltv": "0.1", "total_liability": "0", "total_net_equity": "10",
         "total_maintenance_margin": "0", "update_time": 0, "liabilities": []},
    ]


# -- report ---------------------------------------------------------------------------------------------


def result(group_id: int, asset: str, requested: str, repaid: str, tx: str = "77") -> dict[str, Any]:
    return {"status": "repaid", "group_id": group_id, "asset": asset, "repay_from": None,
            "requested_amount": requested, "repaid_amount": repaid, "transaction_id": tx}


def test_report_all_settled() -> None:
    plan = build_plan(BEFORE, threshold="0.01")
    after = [unit(1, "0", USDT="0", USDC="0.005"), unit(2, "0", USDT="0")]
    data = build_report(before=BEFORE, plan=plan, after=after, tolerance="0.01", threshold="0.01",
                        results=[result(1, "USDT", "1000.5", "1000.5", "11"), result(2, "USDT", "300", "300", "12")])
    assert data["ok"] and data["failures"] == []
    rows = {(r["group_id"], r["asset"]): r for r in data["rows"]}
    assert (rows[("1", "USDT")]["repaid"], rows[("1", "USDT")]["transaction_id"]) == ("1000.5", "11")
    assert rows[("1", "USDC")]["status"] == "not planned" and rows[("1", "USDC")]["settled"] is True
    assert all(isinstance(v, str) for r in data["rows"] for k, v in r.items() if k != "settled")
    text = render_report(data)
    assert "settlement complete" in text
    widths = {len(line) for line in text.splitlines()[1:3]}
    assert len(widths) == 1, "header and separator line up"


def test_report_partial_repay_names_unit_amount_and_reason() -> None:
    plan = build_plan(BEFORE, threshold="0.01")
    after = [unit(1, "0.2", USDT="600.25", USDC="0.005"), unit(2, "0", USDT="0")]
    data = build_report(before=BEFORE, plan=plan, after=after, tolerance="0.01",
                        results=[result(1, "USDT", "1000.5", "400.25", "11"), result(2, "USDT", "300", "300")])
    assert not data["ok"]
    assert data["failures"] == [
        "risk unit 1 USDT still owes 600.25 USDT (tolerance 0.01): partial repay: requested 1000.5, Binance "
        "repaid 400.25 (transaction 11); the credit account's available balance was lower"]
    assert "STILL OWES" in render_report(data)


def test_report_failed_repay_task_mentions_state_and_cap() -> None:
    plan = build_plan(BEFORE, threshold="0.01", caps={"1": "500"})
    after = [unit(1, "0.5", USDT="1000.5"), unit(2, "0", USDT="0")]
    data = build_report(before=BEFORE, plan=plan, after=after, tolerance="0.01",
                        results=[None, result(2, "USDT", "300", "300")], task_states=["failed", "success"])
    (failure,) = data["failures"]
    assert failure.startswith("risk unit 1 USDT still owes 1000.5 USDT")
    assert "repay task failed" in failure and "repay[0]" in failure and "max_amount 500" in failure
    row = next(r for r in data["rows"] if r["group_id"] == "1" and r["asset"] == "USDT")
    assert (row["status"], row["requested"], row["repaid"]) == ("failed", "-", "-")


def test_report_unplanned_debt_above_tolerance_and_missing_after() -> None:
    plan = build_plan(BEFORE, threshold="500")  # unit 2 (300) is left alone
    data = build_report(before=BEFORE, plan=plan, after=[unit(1, "0", USDT="0"), unit(2, "0.4", USDT="300")],
                        tolerance="0.01", threshold="500", results=[result(1, "USDT", "1000.5", "1000.5")])
    assert data["failures"] == ["risk unit 2 USDT still owes 300 USDT (tolerance 0.01): not planned: "
                                "outstanding 300 was at or below the threshold 500"]
    unknown = build_report(before=BEFORE, plan=plan, after=None, tolerance="0.01", results=[None])
    assert not unknown["ok"] and all("outcome unknown" in f for f in unknown["failures"])
    assert build_report(before=None, plan=None, after=[], tolerance="0.01", results=None)["failures"] == [
        "read_liabilities produced no snapshot: nothing was planned or repaid"]
