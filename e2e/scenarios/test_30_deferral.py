"""Scenario 3: deferral in the real triggerer. With the repay records visible only 20 s late, the repay
task goes to ``deferred``, its trigger runs in the triggerer process, and the task resumes and succeeds
on its first try; a triggerer restarted mid-deferral still completes it."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from conftest import MANUAL_DAG
from stack_api import AirflowApi, Sandbox, start_component, stop_component, wait_until

RECORDS_LAG = {"endpoint": "repay", "action": "records_lag", "ms": 20000}


@pytest.fixture(autouse=True)
def records_lag(sandbox: Sandbox, connections: dict[str, dict[str, Any]], api: AirflowApi) -> Iterator[None]:
    """Repay records become visible 20 s after the repay (the fault from the issue), cleared afterwards."""
    api.set_paused(MANUAL_DAG, False)
    sandbox.set_faults([RECORDS_LAG])
    yield
    sandbox.clear_faults()


def trigger_real_repay(api: AirflowApi, amount: str) -> str:
    conf = {"group_id": 10002, "amount": amount, "dry_run": False, "binance_credit_conn_id": "binance_credit_10002"}
    run: dict[str, Any] = api.trigger(MANUAL_DAG, conf, run_id=f"e2e_deferral_{uuid.uuid4().hex[:8]}")
    return str(run["dag_run_id"])


def wait_deferred(api: AirflowApi, run_id: str) -> dict[str, Any]:
    def deferred() -> dict[str, Any] | None:
        tis = api.task_instances(MANUAL_DAG, run_id, "repay")
        if tis and tis[0]["state"] in ("success", "failed", "up_for_retry"):
            raise AssertionError(f"repay finished without deferring: {tis[0]}")
        return tis[0] if tis and tis[0]["state"] == "deferred" else None

    ti = wait_until(deferred, 120, f"repay of {run_id} to be deferred")
    assert ti["try_number"] == 1, ti
    return ti


def assert_completed_once(api: AirflowApi, sandbox: Sandbox, run_id: str, amount: str, seen: set[int]) -> None:
    run = api.wait_run(MANUAL_DAG, run_id, 240)
    (ti,) = api.task_instances(MANUAL_DAG, run_id, "repay")
    assert run["state"] == "success", (run, ti)
    assert ti["state"] == "success" and ti["try_number"] == 1, ti
    new = [r for r in sandbox.repay_records() if r["tranId"] not in seen]
    assert [(r["groupId"], r["assetName"], r["amount"], r["status"]) for r in new] == [(10002, "USDT", amount,
                                                                                        "CONFIRM")], new
    result = api.xcom(MANUAL_DAG, run_id, "repay", map_index=ti["map_index"])
    assert result["transaction_id"] == str(new[0]["tranId"]), result
    assert result["repaid_amount"] == amount and result["status"] == "repaid", result
    assert result["record_status"] == "CONFIRM", result


def test_repay_defers_in_the_triggerer_and_succeeds_on_first_try(api: AirflowApi, sandbox: Sandbox) -> None:
    seen = {r["tranId"] for r in sandbox.repay_records()}
    run_id = trigger_real_repay(api, "1000")
    ti = wait_deferred(api, run_id)
    # The trigger is picked up by the triggerer process (not run in-line as dag.test() does).
    wait_until(lambda: api.task_instance(MANUAL_DAG, run_id, "repay").get("triggerer_job"), 60,
               "a triggerer to pick up the repay's trigger")
    assert ti["trigger"] is not None and "RepayEvidenceTrigger" in ti["trigger"]["classpath"], ti["trigger"]
    assert_completed_once(api, sandbox, run_id, "1000", seen)


def test_triggerer_restarted_mid_deferral_still_completes(api: AirflowApi, sandbox: Sandbox) -> None:
    seen = {r["tranId"] for r in sandbox.repay_records()}
    run_id = trigger_real_repay(api, "1500")
    wait_deferred(api, run_id)
    wait_until(lambda: api.task_instance(MANUAL_DAG, run_id, "repay").get("triggerer_job"), 60,
               "a triggerer to pick up the repay's trigger")
    # Take the triggerer away while the record is still invisible; the task must stay deferred.
    stop_component("triggerer")
    time.sleep(5)
    ti = api.task_instance(MANUAL_DAG, run_id, "repay")
    assert ti["state"] == "deferred", ti
    start_component("triggerer")
    assert_completed_once(api, sandbox, run_id, "1500", seen)

