"""Scenario 2: the month-end DAG triggered with the pool in place. Every (unit, asset) is repaid exactly
once (the sandbox's records), the XComs carry the exact strings, the approval step (when the DAG has
one) is approved through the API by a second person, and the report task fails naming the short-funded
unit 10004."""

from __future__ import annotations

import json
import time
import uuid
from decimal import Decimal
from typing import Any

import pytest
from conftest import MONTH_END_DAG, REPAY_POOL
from stack_api import AirflowApi, Sandbox, StackInfo

SHORT_UNIT = 10004
APPROVAL_DELAY = 5.0  # seconds between the approval request appearing and the approver's answer
THRESHOLD = Decimal("0.01")


def fmt(value: Decimal) -> str:
    """A decimal as the sandbox writes amounts (no exponent, no trailing zeros)."""
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "") else text


@pytest.fixture(scope="module")
def month_end(api: AirflowApi, approver_api: AirflowApi, sandbox: Sandbox, stack: StackInfo,
              connections: dict[str, dict[str, Any]], repay_pool: dict[str, Any]) -> dict[str, Any]:
    """One month-end run, triggered through the API like an operator would, approved by a second person."""
    assert repay_pool["name"] == REPAY_POOL
    # Report files (when the DAG writes them) go to the results folder, through the documented Variable.
    location = {"key": "binance_loan_report_location", "value": f"file://{stack.results_dir}/reports",
                "description": "e2e: settlement report files"}
    if api.request("POST", "/variables", json=location, expect=(201, 409)).status_code == 409:
        api.request("PATCH", "/variables/binance_loan_report_location", json=location)
    api.set_paused(MONTH_END_DAG, False)
    before = sandbox.liabilities()
    seen = {r["tranId"] for r in sandbox.repay_records()}
    run = api.trigger(MONTH_END_DAG, {}, run_id=f"e2e_month_end_{uuid.uuid4().hex[:8]}")
    run_id = run["dag_run_id"]
    approvals: list[dict[str, Any]] = []
    first_seen: dict[str, float] = {}

    def approve_pending() -> None:
        for detail in approver_api.pending_approvals(MONTH_END_DAG, run_id):
            # Answer like a person, seconds after the request appears, not within milliseconds: Airflow
            # 3.3.2 resumes the task on the answer at once, and when that happens before the scheduler
            # has processed the executor's "success" event of the paused attempt, the scheduler fails the
            # resumed task ("finished with state success, but the task instance's state attribute is
            # queued"). Seen in this tier with an answer 100 ms after the pause.
            key = f"{detail['task_instance']['task_id']}/{detail['task_instance']['map_index']}"
            if time.monotonic() - first_seen.setdefault(key, time.monotonic()) < APPROVAL_DELAY:
                continue
            options = detail.get("options") or []
            choice = next((o for o in options if "approve" in o.lower()), None)
            assert choice, f"no approve option in {options}"
            ti = detail["task_instance"]
            answer = approver_api.patch(
                f"/dags/{MONTH_END_DAG}/dagRuns/{run_id}/taskInstances/{ti['task_id']}/{ti['map_index']}/hitlDetails",
                {"chosen_options": [choice], "params_input": {}}, expect=(200, 409))
            approvals.append({"task": ti["task_id"], "subject": detail.get("subject"), "answer": answer})

    finished = api.wait_run(MONTH_END_DAG, run_id, 600, on_poll=approve_pending)
    result = {"run": finished, "before": before, "seen": seen, "approvals": approvals,
              "after": sandbox.liabilities(), "records": sandbox.repay_records()}
    (stack.results_dir / "month_end_run.json").write_text(json.dumps(
        {"run": finished, "approvals": approvals,
         "task_instances": api.task_instances(MONTH_END_DAG, run_id)}, indent=2, default=str))
    return result


def planned_pairs(before: dict[tuple[int, str], dict[str, str]]) -> dict[tuple[int, str], Decimal]:
    """(unit, asset) → outstanding, for every pair owing more than the DAG's default threshold."""
    owed = {k: Decimal(v["principal"]) + Decimal(v["interest"]) for k, v in before.items()}
    return {k: v for k, v in owed.items() if v > THRESHOLD}


def test_every_unit_and_asset_is_repaid_exactly_once(month_end: dict[str, Any]) -> None:
    planned = planned_pairs(month_end["before"])
    assert len(planned) == 5, planned
    new = [r for r in month_end["records"] if r["tranId"] not in month_end["seen"]]
    by_pair: dict[tuple[int, str], list[dict[str, Any]]] = {}
    for record in new:
        by_pair.setdefault((int(record["groupId"]), record["assetName"]), []).append(record)
    assert sorted(by_pair) == sorted(planned), f"repaid pairs {sorted(by_pair)} != planned {sorted(planned)}"
    for pair, records in by_pair.items():
        assert len(records) == 1, f"{pair} repaid {len(records)} times: {records}"
        # Binance repays min(available in the MARGIN wallet, outstanding).
        expected = min(planned[pair], Decimal(month_end["before"][pair]["margin"]))
        assert records[0]["amount"] == fmt(expected), (pair, records[0], expected)
        assert records[0]["status"] == "CONFIRM"


def test_sandbox_liabilities_after_the_run(month_end: dict[str, Any]) -> None:
    for pair, owed in planned_pairs(month_end["before"]).items():
        row = month_end["after"][pair]
        left = Decimal(row["principal"]) + Decimal(row["interest"])
        if pair[0] == SHORT_UNIT:
            assert left == owed - Decimal(month_end["before"][pair]["margin"]) and left > 0, (pair, row)
        else:
            assert left == 0, (pair, row)


def test_repay_tasks_ran_in_the_pool_once_each_with_exact_xcoms(api: AirflowApi, month_end: dict[str, Any]) -> None:
    run_id = month_end["run"]["dag_run_id"]
    repays = api.task_instances(MONTH_END_DAG, run_id, "repay")
    assert len(repays) == len(planned_pairs(month_end["before"])), repays
    records = {str(r["tranId"]): r for r in month_end["records"]}
    for ti in repays:
        assert ti["state"] == "success" and ti["try_number"] == 1, ti
        assert ti["pool"] == REPAY_POOL, ti
        result = api.xcom(MONTH_END_DAG, run_id, "repay", map_index=ti["map_index"])
        tx = api.xcom(MONTH_END_DAG, run_id, "repay", "transaction_id", ti["map_index"])
        repaid = api.xcom(MONTH_END_DAG, run_id, "repay", "repaid_amount", ti["map_index"])
        assert isinstance(tx, str) and isinstance(repaid, str), (tx, repaid)
        record = records.get(tx)
        assert record is not None, f"transaction {tx} of repay[{ti['map_index']}] is not in the sandbox's records"
        assert (int(record["groupId"]), record["assetName"]) == (result["group_id"], result["asset"]), (record, result)
        assert repaid == record["amount"] == result["repaid_amount"], (repaid, record, result)
        assert result["transaction_id"] == tx and result["status"] == "repaid", result


def test_report_fails_the_run_naming_the_short_funded_unit(api: AirflowApi, month_end: dict[str, Any]) -> None:
    run = month_end["run"]
    assert run["state"] == "failed", run
    (report,) = api.task_instances(MONTH_END_DAG, run["dag_run_id"], "report")
    assert report["state"] == "failed", report
    log = api.task_log(MONTH_END_DAG, run["dag_run_id"], "report", report["try_number"])
    verdicts = [line for line in log.splitlines() if "Settlement incomplete:" in line]
    assert verdicts, f"the report task's log has no 'Settlement incomplete' verdict:\n{log[-3000:]}"
    assert f"risk unit {SHORT_UNIT} USDT still owes" in verdicts[0], verdicts
    assert not any(f"risk unit {unit} " in verdicts[0] for unit in (10001, 10002, 10003)), verdicts
    # Nothing else failed: every other task of the run succeeded.
    others = [t for t in api.task_instances(MONTH_END_DAG, run["dag_run_id"]) if t["task_id"] != "report"]
    assert all(t["state"] == "success" for t in others), [(t["task_id"], t["map_index"], t["state"]) for t in others]


def test_approval_when_the_dag_asks_for_one(api: AirflowApi, month_end: dict[str, Any]) -> None:
    """When the DAG has a four-eyes step, it was answered by the second person through the API."""
    tasks = api.get(f"/dags/{MONTH_END_DAG}/tasks")["tasks"]
    hitl = [t["task_id"] for t in tasks if any(w in (t.get("operator_name") or "") for w in ("HITL", "Approval"))]
    if not hitl:
        assert not month_end["approvals"]
        pytest.skip("this version of the month-end DAG has no approval step")
    assert month_end["approvals"], f"the DAG has approval task(s) {hitl} but nothing asked the approver"
    run_id = month_end["run"]["dag_run_id"]
    for task_id in hitl:
        (ti,) = api.task_instances(MONTH_END_DAG, run_id, task_id)
        assert ti["state"] == "success", ti
    (report,) = api.task_instances(MONTH_END_DAG, run_id, "report")
    log = api.task_log(MONTH_END_DAG, run_id, "report", report["try_number"])
    assert "approved by approver" in log, log[-3000:]
    for approval in month_end["approvals"]:
        answer = approval["answer"]
        assert answer["responded_by"]["name"] == "approver", approval


def test_celery_workers_both_ran_tasks(stack: StackInfo, month_end: dict[str, Any]) -> None:
    """CeleryExecutor variant: the work was spread over both worker processes (their own logs say so)."""
    if stack.executor != "celery":
        pytest.skip("LocalExecutor run")
    for worker in ("worker1", "worker2"):
        log = (stack.run_dir / "logs" / f"{worker}.log").read_text(errors="replace")
        received = log.count("execute_workload[")
        assert received > 0, f"{worker} ran no task"
