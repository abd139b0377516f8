"""RiskUnitRepayOperator around the workflow: deferral and resume in another process, XCom, fail-fast."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from airflow.sdk.exceptions import AirflowFailException, TaskDeferred
from binance_loan_sandbox import SandboxServer

from airflow_binance_loan.client.ratelimit import WeightPacer
from airflow_binance_loan.operators import RiskUnitRepayOperator
from airflow_binance_loan.repayment import MemoryJournalStore
from airflow_binance_loan.triggers import RepayEvidenceTrigger

pytestmark = pytest.mark.integration

CONN = "binance_credit_operator_test"


class RecordingTI:
    dag_id, run_id, task_id, map_index = "d", "manual__1", "repay", -1

    def __init__(self, try_number: int = 1) -> None:
        self.try_number = try_number
        self.pushed: dict[str, Any] = {}

    def xcom_push(self, key: str, value: Any) -> None:
        self.pushed[key] = value


@pytest.fixture
def connection(monkeypatch: pytest.MonkeyPatch, virtual_sandbox: SandboxServer, demo_creds: dict[str, Any]) -> None:
    creds = demo_creds["credit_hmac"]
    conn = {"conn_type": "binance_credit", "host": virtual_sandbox.url, "login": creds["apiKey"],
            "password": creds["secret"], "extra": {"key_type": creds["keyType"]}}
    monkeypatch.setenv(f"AIRFLOW_CONN_{CONN.upper()}", json.dumps(conn))


@pytest.fixture
def store() -> MemoryJournalStore:
    return MemoryJournalStore()


def operator(store: MemoryJournalStore, clock: Any, **kwargs: Any) -> RiskUnitRepayOperator:
    options: dict[str, Any] = {"task_id": "repay", "group_id": 10001, "asset": "USDT", "amount": "250.5",
                               "binance_credit_conn_id": CONN, "journal_store": store, "clock": clock,
                               "pacer": WeightPacer(clock, window_seconds=60)}
    options.update(kwargs)
    return RiskUnitRepayOperator(**options)


def test_deferred_wait_resumes_in_a_new_process_from_the_event_alone(connection, store, virtual_sandbox,
                                                                     virtual_clock):
    virtual_sandbox.set_faults([{"endpoint": "repay", "action": "records_lag", "ms": 60_000}])
    with pytest.raises(TaskDeferred) as deferred:
        operator(store, virtual_clock, deferrable=True).execute({"ti": RecordingTI()})  # type: ignore[arg-type]
    trigger = deferred.value.trigger
    assert isinstance(trigger, RepayEvidenceTrigger) and deferred.value.method_name == "execute_complete"
    _path, kwargs = trigger.serialize()
    assert json.loads(json.dumps(kwargs)) == kwargs  # plain values only
    assert trigger.waiting["mode"] == "confirm"

    virtual_clock.advance(61)  # the triggerer waited; the record is visible now
    ti = RecordingTI()
    fresh = operator(store, virtual_clock, deferrable=True)  # a new worker process: nothing carried over
    result = fresh.execute_complete({"ti": ti}, event={"status": "decided", "waiting": trigger.waiting})  # type: ignore[arg-type]
    [record] = [r for r in virtual_sandbox.state.records_of(10001) if r.type == "NORMAL_REPAY"]
    assert result["status"] == "repaid" and result["transaction_id"] == str(record.tran_id)
    assert ti.pushed == {"transaction_id": str(record.tran_id), "repaid_amount": "250.5"}
    assert virtual_sandbox.endpoint_counts["repay"] == 1


def test_resume_before_the_evidence_is_in_defers_again(connection, store, virtual_sandbox, virtual_clock):
    virtual_sandbox.set_faults([{"endpoint": "repay", "action": "commit_then_503", "nth": [1]},
                                {"endpoint": "repay", "action": "records_lag", "ms": 300_000}])
    with pytest.raises(TaskDeferred) as first:
        operator(store, virtual_clock, deferrable=True).execute({"ti": RecordingTI()})  # type: ignore[arg-type]
    assert first.value.trigger.waiting["mode"] == "reconcile"
    with pytest.raises(TaskDeferred) as again:
        operator(store, virtual_clock, deferrable=True).execute_complete(  # type: ignore[arg-type]
            {"ti": RecordingTI()}, event={"status": "decided", "waiting": first.value.trigger.waiting})
    assert "liability fell" in again.value.trigger.waiting["detail"]
    assert virtual_sandbox.endpoint_counts["repay"] == 1


def test_insufficient_balance_fails_at_once_with_the_reason(connection, store, virtual_sandbox, virtual_clock):
    virtual_sandbox.state.set_balance(10001, "USDT", "0", "MARGIN")
    with pytest.raises(AirflowFailException, match=r"Insufficient balance: Binance refused to repay 250\.5 USDT"):
        operator(store, virtual_clock).execute({"ti": RecordingTI()})  # type: ignore[arg-type]
    assert virtual_sandbox.endpoint_counts["repay"] == 1


def test_unknown_unit_fails_at_once(connection, store, virtual_sandbox, virtual_clock):
    with pytest.raises(AirflowFailException, match="risk unit 10002 is not visible to this connection"):
        operator(store, virtual_clock, group_id=10002).execute({"ti": RecordingTI()})  # type: ignore[arg-type]
    assert "repay" not in virtual_sandbox.endpoint_counts


def test_dry_run_writes_no_journal_and_sends_nothing(connection, store, virtual_sandbox, virtual_clock):
    ti = RecordingTI()
    result = operator(store, virtual_clock, simulate=True, amount="outstanding").execute({"ti": ti})  # type: ignore[arg-type]
    assert (result["status"], result["requested_amount"]) == ("dry_run", "1000208.25")
    assert ti.pushed == {"transaction_id": None, "repaid_amount": "0"}
    assert store.data == {} and "repay" not in virtual_sandbox.endpoint_counts
    assert Decimal(result["requested_amount"]) == virtual_sandbox.state.liability(10001, "USDT").outstanding


@pytest.mark.parametrize(("rendered", "simulated"), [("True", True), ("false", False), (" yes ", True), ("0", False)])
def test_simulate_is_a_templated_flag(connection, store, virtual_sandbox, virtual_clock, rendered, simulated):
    result = operator(store, virtual_clock, simulate=rendered).execute({"ti": RecordingTI()})  # type: ignore[arg-type]
    assert (result["status"] == "dry_run") is simulated
    assert len(virtual_sandbox.state.snapshot()["records"]) == (0 if simulated else 1)


def test_a_simulate_flag_that_is_neither_yes_nor_no_fails_before_sending(connection, store, virtual_sandbox,
                                                                          virtual_clock):
    ti = RecordingTI()
    with pytest.raises(AirflowFailException, match=r"invalid simulate='maybe': must be true or false"):
        operator(store, virtual_clock, simulate="maybe").execute({"ti": ti})  # type: ignore[arg-type]
    assert "invalid simulate='maybe'" in ti.pushed["failure"]
    assert virtual_sandbox.endpoint_counts.get("repay", 0) == 0
