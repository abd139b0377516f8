"""Each fault mode, through the project's client where the client's reaction is the point."""

from __future__ import annotations

import time
from decimal import Decimal

import pytest
import requests
from binance_loan_sandbox import SandboxServer, load_state
from binance_loan_sandbox.faults import FaultPlan

from airflow_binance_loan.client import reconcile
from airflow_binance_loan.exceptions import (
    ExecutionUnknownError,
    PendingTransactionError,
    RateLimitError,
    TimestampError,
)

pytestmark = pytest.mark.integration

LTV = "/sapi/v1/margin/loan-group/ltv-details"


def repay_once(client_for, sandbox, **options):
    client = client_for("credit_hmac", **options)
    client.session.sync_time()
    before = sandbox.state.liability(10001, "USDT").outstanding
    return client, before


@pytest.mark.parametrize(("action", "status"), [("commit_then_drop", None), ("commit_then_503", 503),
                                                ("commit_then_1007", 500)])
def test_commit_then_fail_applies_the_repay_but_the_client_cannot_know(client_for, sandbox, action, status):
    client, before = repay_once(client_for, sandbox)
    sandbox.set_faults([{"endpoint": "repay", "action": action, "nth": [1]}])
    with pytest.raises(ExecutionUnknownError) as info:
        client.repay(10001, "USDT", "25")
    assert info.value.http_status == status
    if action == "commit_then_1007":
        assert info.value.code == -1007
    assert sandbox.state.liability(10001, "USDT").outstanding == before - 25
    assert sandbox.endpoint_counts["repay"] == 1  # never resent
    outcome = reconcile(client, info.value.intent)
    assert outcome.outcome == "executed" and outcome.record is not None and outcome.record.amount == 25


def test_commit_then_delay_trips_the_client_read_timeout(client_for, sandbox):
    client, before = repay_once(client_for, sandbox, read_timeout=0.2)
    sandbox.set_faults([{"endpoint": "repay", "action": "commit_then_delay", "ms": 500}])
    started = time.monotonic()
    with pytest.raises(ExecutionUnknownError):
        client.repay(10001, "USDT", "3")
    assert time.monotonic() - started < 0.45
    assert sandbox.state.liability(10001, "USDT").outstanding == before - 3


def test_drop_before_commit_changes_nothing(client_for, sandbox):
    client, before = repay_once(client_for, sandbox)
    sandbox.set_faults([{"endpoint": "repay", "action": "drop_before_commit"}])
    with pytest.raises(ExecutionUnknownError):
        client.repay(10001, "USDT", "25")
    assert sandbox.state.liability(10001, "USDT").outstanding == before
    assert sandbox.state.records_of(10001) == []


def test_reject_429_is_not_applied_and_carries_retry_after(client_for, sandbox, raw):
    sandbox.set_faults([{"endpoint": "repay", "action": "reject_429", "seconds": 7, "times": 1}])
    response = raw.call("POST", "/sapi/v1/margin/loan-group/repay",
                        {"groupId": 10001, "assetName": "USDT", "amount": "1"})
    assert response.status_code == 429 and response.headers["Retry-After"] == "7"
    assert response.json()["code"] == -1003
    assert sandbox.state.records_of(10001) == []
    sandbox.set_faults([{"endpoint": "repay", "action": "reject_429", "seconds": 1}])
    client, before = repay_once(client_for, sandbox, max_weight_wait_seconds=0.0)
    with pytest.raises(RateLimitError):
        client.repay(10001, "USDT", "1")
    assert sandbox.state.liability(10001, "USDT").outstanding == before


@pytest.mark.parametrize("code", [-1025, -27025])
def test_pending_is_not_applied(client_for, sandbox, code):
    client, before = repay_once(client_for, sandbox)
    sandbox.set_faults([{"endpoint": "repay", "action": "pending", "code": code, "nth": [1]}])
    with pytest.raises(PendingTransactionError) as info:
        client.repay(10001, "USDT", "1")
    assert info.value.code == code
    assert sandbox.state.liability(10001, "USDT").outstanding == before
    assert client.repay(10001, "USDT", "1").amount == 1  # the second attempt goes through


def test_records_lag(client_for, sandbox):
    client, _ = repay_once(client_for, sandbox)
    sandbox.set_faults([{"endpoint": "repay", "action": "records_lag", "ms": 300}])
    result = client.repay(10001, "USDT", "2")
    assert client.borrow_repay_records("REPAY") == []
    time.sleep(0.35)
    [record] = client.borrow_repay_records("REPAY")
    assert record.tran_id == result.transaction_id


def test_latency_and_the_second_window_check(client_for, sandbox, raw):
    sandbox.set_faults([{"endpoint": "ltv_details", "action": "latency", "ms": 250}])
    started = time.monotonic()
    assert raw.call("GET", LTV).status_code == 200
    assert time.monotonic() - started >= 0.25
    late = raw.call("GET", LTV, recv_window=100)  # queued past recvWindow inside the "exchange"
    assert late.json() == {"code": -1021, "msg": "Timestamp for this request is outside of the recvWindow."}


def test_clock_skew_makes_the_client_resync_and_resend(client_for, sandbox):
    client = client_for("credit_rsa")
    assert client.ltv_details()[0].group_id == 10002
    sandbox.set_clock_skew(20_000)
    assert client.ltv_details()[0].group_id == 10002
    assert sandbox.endpoint_counts["ltv_details"] == 3  # refused with -1021, resynced, resent
    assert sandbox.endpoint_counts["server_time"] == 2
    unsynced = client_for("credit_rsa")
    unsynced.session.server_time.sync(lambda: sandbox.now_ms() - 30_000)  # believes the server is 30 s behind
    unsynced.session.server_time.needs_sync = lambda: False  # type: ignore[method-assign]
    unsynced.session.sync_time = lambda: None  # type: ignore[method-assign]
    with pytest.raises(TimestampError) as info:
        unsynced.ltv_details()
    assert info.value.code == -1021


def test_trigger_rules_nth_every_probability_times():
    plan = FaultPlan()
    plan.set([{"endpoint": "repay", "action": "pending", "nth": [1, 3]}])
    assert [plan.decide("repay").before_commit is not None for _ in range(4)] == [True, False, True, False]
    plan.set([{"endpoint": "*", "action": "error", "every": 2, "times": 2}])
    assert [plan.decide("borrow").before_commit is not None for _ in range(6)] == [False, True, False, True,
                                                                                   False, False]
    sequences = []
    for _ in range(2):
        plan.set([{"endpoint": "repay", "action": "commit_then_drop", "probability": 0.5, "seed": 7}])
        sequences.append([plan.decide("repay").after_commit is not None for _ in range(20)])
    assert sequences[0] == sequences[1] and 0 < sum(sequences[0]) < 20
    assert plan.decide("ltv_details").after_commit is None
    for bad in ({"action": "explode"}, {"action": "latency", "endpoint": "nope"},
                {"action": "pending", "nth": [0]}, {"action": "latency", "nth": [1], "every": 2},
                {"action": "latency", "colour": "red"}):
        with pytest.raises(ValueError):
            plan.set([bad])


def test_admin_endpoints(sandbox, raw):
    admin = f"{sandbox.url}/sandbox"
    rules = [{"endpoint": "repay", "action": "pending", "code": -27025}]
    assert requests.post(f"{admin}/faults", json=rules, timeout=5).json()["rules"][0]["code"] == -27025
    assert requests.get(f"{admin}/faults", timeout=5).json()["rules"][0]["action"] == "pending"
    refused = raw.call("POST", "/sapi/v1/margin/loan-group/repay", {"groupId": 10001, "assetName": "USDT",
                                                                   "amount": "1"})
    assert refused.json()["code"] == -27025
    assert requests.delete(f"{admin}/faults", timeout=5).json() == {"rules": []}
    bad = requests.post(f"{admin}/faults", json=[{"action": "nope"}], timeout=5)
    assert bad.status_code == 400 and bad.json()["code"] == -1130

    skew = requests.post(f"{admin}/clock", json={"skew_ms": 6000}, timeout=5).json()
    assert skew["skewMs"] == 6000
    assert raw.call("GET", LTV, timestamp=int(time.time() * 1000)).json()["code"] == -1021
    assert requests.post(f"{admin}/clock", json={"skew_ms": 0}, timeout=5).status_code == 200

    assert requests.post(f"{admin}/advance", json={"hours": 2}, timeout=5).json()["interestRows"] == 10
    requests.post(f"{admin}/balance", json={"groupId": 10004, "asset": "USDT", "amount": "123.45"}, timeout=5)
    dump = requests.get(f"{admin}/state", timeout=5).json()
    unit = next(u for u in dump["state"]["riskUnits"] if u["groupId"] == 10004)
    assert unit["credit"]["wallets"]["MARGIN"]["USDT"] == "123.45"
    assert unit["credit"]["key"] == "***"
    assert len(dump["state"]["interestHistory"]) == 10
    counters = requests.get(f"{admin}/requests", timeout=5).json()
    assert counters["byEndpoint"]["repay"] == 1 and counters["total"] == sandbox.request_count


def test_admin_endpoints_do_not_exist_without_admin():
    with SandboxServer(load_state("demo")) as server:
        response = requests.get(f"{server.url}/sandbox/state", timeout=5)
        assert response.status_code == 404 and response.json()["code"] == -1099
        with pytest.raises(ValueError):
            server.advance_hours(0)
        assert server.state.liability(10001, "USDT").interest == Decimal("208.25")
