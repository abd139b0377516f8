"""Scenario 5: the manual DAG with good conf (dry run and a real repay, judged by the sandbox's records),
and with bad conf refused by the API before any run is created (params validation)."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

import pytest
from conftest import MANUAL_DAG
from stack_api import AirflowApi, Sandbox


@pytest.fixture(scope="module", autouse=True)
def _ready(connections: dict[str, dict[str, Any]], api: AirflowApi) -> None:
    """The credit-account connections exist and the manual DAG is switched on (it has no schedule)."""
    api.set_paused(MANUAL_DAG, False)


def run_manual(api: AirflowApi, conf: dict[str, Any], timeout: float = 180) -> dict[str, Any]:
    run = api.trigger(MANUAL_DAG, conf, run_id=f"e2e_manual_{uuid.uuid4().hex[:8]}")
    return api.wait_run(MANUAL_DAG, run["dag_run_id"], timeout)


def repay_ti(api: AirflowApi, run_id: str) -> dict[str, Any]:
    (ti,) = api.task_instances(MANUAL_DAG, run_id, "repay")
    return ti


def outstanding(sandbox: Sandbox, group_id: int, asset: str) -> Decimal:
    row = sandbox.liabilities()[(group_id, asset)]
    return Decimal(row["principal"]) + Decimal(row["interest"])


def test_dry_run_with_good_conf_sends_nothing(api: AirflowApi, sandbox: Sandbox) -> None:
    records_before = sandbox.repay_records()
    owed = outstanding(sandbox, 10001, "USDT")
    run = run_manual(api, {"group_id": 10001, "asset": "USDT", "amount": "outstanding",
                           "binance_credit_conn_id": "binance_credit_10001"})
    assert run["state"] == "success", run
    ti = repay_ti(api, run["dag_run_id"])
    assert ti["state"] == "success" and ti["try_number"] == 1, ti
    result = api.xcom(MANUAL_DAG, run["dag_run_id"], "repay", map_index=ti["map_index"])
    assert result["status"] == "dry_run", result
    assert result["transaction_id"] is None and result["repaid_amount"] == "0", result
    assert Decimal(result["requested_amount"]) == owed and isinstance(result["requested_amount"], str), result
    assert sandbox.repay_records() == records_before, "a dry run moved money"


def test_real_repay_with_good_conf(api: AirflowApi, sandbox: Sandbox) -> None:
    seen = {r["tranId"] for r in sandbox.repay_records()}
    owed = outstanding(sandbox, 10001, "USDC")
    run = run_manual(api, {"group_id": 10001, "asset": "USDC", "amount": "30.5", "dry_run": False,
                           "binance_credit_conn_id": "binance_credit_10001"})
    assert run["state"] == "success", run
    ti = repay_ti(api, run["dag_run_id"])
    assert ti["state"] == "success" and ti["try_number"] == 1, ti
    new = [r for r in sandbox.repay_records() if r["tranId"] not in seen]
    assert len(new) == 1, f"expected exactly one repay record, got {new}"
    record = new[0]
    assert (record["groupId"], record["assetName"], record["amount"], record["status"]) == (10001, "USDC", "30.5",
                                                                                            "CONFIRM")
    # XComs are exact strings: Binance's transaction id and the repaid amount.
    assert api.xcom(MANUAL_DAG, run["dag_run_id"], "repay", "transaction_id", ti["map_index"]) == str(record["tranId"])
    assert api.xcom(MANUAL_DAG, run["dag_run_id"], "repay", "repaid_amount", ti["map_index"]) == "30.5"
    assert outstanding(sandbox, 10001, "USDC") == owed - Decimal("30.5")


def test_default_connection_follows_the_group_id_convention(api: AirflowApi) -> None:
    """Only the risk unit given: the connection is ``binance_credit_<groupId>`` (issue 11, point 2)."""
    run = run_manual(api, {"group_id": 10003, "asset": "USDC"})
    ti = repay_ti(api, run["dag_run_id"])
    assert run["state"] == "success", (run, ti)
    result = api.xcom(MANUAL_DAG, run["dag_run_id"], "repay", map_index=ti["map_index"])
    assert result["status"] == "dry_run" and result["group_id"] == 10003, result


@pytest.mark.parametrize(("conf", "field"), [
    ({"group_id": 10002, "amount": "1e3", "dry_run": False, "binance_credit_conn_id": "binance_credit_10002"},
     "amount"),
    ({"group_id": 10002, "amount": "-5", "dry_run": False}, "amount"),
    ({"group_id": 10002, "amount": "1.123456789", "dry_run": False}, "amount"),
    ({"group_id": -1, "amount": "100"}, "group_id"),
    ({"group_id": 10002, "asset": "BTC"}, "asset"),
    ({"amount": "100"}, "group_id"),
])
def test_bad_conf_is_refused_before_any_run_exists(api: AirflowApi, conf: dict[str, Any], field: str) -> None:
    runs_before = {r["dag_run_id"] for r in api.dag_runs(MANUAL_DAG)}
    run_id = f"e2e_bad_{uuid.uuid4().hex[:8]}"
    answer = api.request("POST", f"/dags/{MANUAL_DAG}/dagRuns", expect=None,
                         json={"conf": conf, "logical_date": None, "dag_run_id": run_id})
    assert answer.status_code == 400, f"HTTP {answer.status_code}: {answer.text}"
    detail = str(answer.json().get("detail"))
    assert field in detail, detail
    assert api.request("GET", f"/dags/{MANUAL_DAG}/dagRuns/{run_id}", expect=(404,)).status_code == 404
    assert {r["dag_run_id"] for r in api.dag_runs(MANUAL_DAG)} == runs_before
