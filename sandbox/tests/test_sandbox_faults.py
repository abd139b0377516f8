"""Each fault mode as it shows on the wire: what is executed, what is answered, and the rule machinery.

How the provider's client reacts to these faults is tested on the provider side
(``tests/integration/test_client_faults.py``).
"""

from __future__ import annotations

import time
from decimal import Decimal

import pytest
import requests

from binance_loan_sandbox import SandboxServer, load_state
from binance_loan_sandbox.faults import FaultPlan

pytestmark = pytest.mark.integration

LTV = "/sapi/v1/margin/loan-group/ltv-details"
REPAY = "/sapi/v1/margin/loan-group/repay"
RECORDS = "/sapi/v1/margin/loan-group/borrow-repay"


def repay(raw, amount: str) -> requests.Response:
    return raw.call("POST", REPAY, {"groupId": 10001, "assetName": "USDT", "amount": amount})


def outstanding(sandbox) -> Decimal:
    return sandbox.state.liability(10001, "USDT").outstanding


@pytest.mark.parametrize(("action", "status", "body"), [
    ("commit_then_503", 503, None),
    ("commit_then_1007", 500, {"code": -1007, "msg": "Timeout waiting for response from backend server. "
                                                     "Send status unknown; execution status unknown."}),
])
def test_commit_then_fail_applies_the_repay_and_answers_outcome_unknown(sandbox, raw, action, status, body):
    before = outstanding(sandbox)
    sandbox.set_faults([{"endpoint": "repay", "action": action, "nth": [1]}])
    response = repay(raw, "25")
    assert response.status_code == status
    if body is None:
        assert response.headers["Content-Type"].startswith("text/html")
    else:
        assert response.json() == body
    assert outstanding(sandbox) == before - 25
    [row] = raw.call("GET", RECORDS, {"type": "REPAY"}).json()["rows"]  # the evidence a client reconciles with
    assert row["amount"] == 25 and row["status"] == "CONFIRM"
    assert sandbox.endpoint_counts["repay"] == 1


def test_commit_then_drop_applies_the_repay_and_answers_nothing(sandbox, raw):
    before = outstanding(sandbox)
    sandbox.set_faults([{"endpoint": "repay", "action": "commit_then_drop", "nth": [1]}])
    with pytest.raises(requests.ConnectionError):
        repay(raw, "25")
    assert outstanding(sandbox) == before - 25
    assert repay(raw, "1").status_code == 200  # nth [1] only


def test_commit_then_delay_applies_then_answers_late(sandbox, raw):
    before = outstanding(sandbox)
    sandbox.set_faults([{"endpoint": "repay", "action": "commit_then_delay", "ms": 300}])
    started = time.monotonic()
    response = repay(raw, "3")
    assert time.monotonic() - started >= 0.3
    assert response.status_code == 200 and response.json()["amount"] == 3
    assert outstanding(sandbox) == before - 3


def test_drop_before_commit_changes_nothing(sandbox, raw):
    before = outstanding(sandbox)
    sandbox.set_faults([{"endpoint": "repay", "action": "drop_before_commit"}])
    with pytest.raises(requests.ConnectionError):
        repay(raw, "25")
    assert outstanding(sandbox) == before
    assert sandbox.state.records_of(10001) == []


@pytest.mark.parametrize(("code", "msg"), [(-1025, "Has pending transactions."),
                                           (-27025, "Please try again until the previous transaction is completed.")])
def test_pending_is_not_applied(sandbox, raw, code, msg):
    before = outstanding(sandbox)
    sandbox.set_faults([{"endpoint": "repay", "action": "pending", "code": code, "nth": [1]}])
    refused = repay(raw, "1")
    assert refused.status_code == 400 and refused.json() == {"code": code, "msg": msg}
    assert outstanding(sandbox) == before
    assert repay(raw, "1").json()["amount"] == 1  # the second attempt goes through


def test_records_lag(sandbox, raw):
    sandbox.set_faults([{"endpoint": "repay", "action": "records_lag", "ms": 300}])
    tran_id = repay(raw, "2").json()["transactionId"]
    assert raw.call("GET", RECORDS, {"type": "REPAY"}).json()["rows"] == []
    time.sleep(0.35)
    [row] = raw.call("GET", RECORDS, {"type": "REPAY"}).json()["rows"]
    assert row["tranId"] == tran_id


def test_clock_skew_is_refused_with_1021_until_the_timestamp_follows(sandbox, raw):
    assert raw.call("GET", LTV).status_code == 200
    sandbox.set_clock_skew(20_000)
    stale = raw.call("GET", LTV, timestamp=sandbox.now_ms() - 20_050)
    assert stale.json() == {"code": -1021, "msg": "Timestamp for this request is outside of the recvWindow."}
    server_time = raw.http.get(f"{sandbox.url}/api/v3/time", timeout=5).json()["serverTime"]
    assert abs(server_time - sandbox.now_ms()) < 2_000  # what a client resyncs from
    assert raw.call("GET", LTV, timestamp=server_time - 50).status_code == 200


def test_reject_429_is_not_applied_and_carries_retry_after(sandbox, raw):
    sandbox.set_faults([{"endpoint": "repay", "action": "reject_429", "seconds": 7, "times": 1}])
    response = raw.call("POST", "/sapi/v1/margin/loan-group/repay",
                        {"groupId": 10001, "assetName": "USDT", "amount": "1"})
    assert response.status_code == 429 and response.headers["Retry-After"] == "7"
    assert response.json()["code"] == -1003
    assert sandbox.state.records_of(10001) == []
    # How the provider's client reacts (RateLimitError, nothing repaid): tests/integration/test_client_faults.py.


def test_latency_and_the_second_window_check(sandbox, raw):
    sandbox.set_faults([{"endpoint": "ltv_details", "action": "latency", "ms": 250}])
    started = time.monotonic()
    assert raw.call("GET", LTV).status_code == 200
    assert time.monotonic() - started >= 0.25
    late = raw.call("GET", LTV, recv_window=100)  # queued past recvWindow inside the "exchange"
    assert late.json() == {"code": -1021, "msg": "Timestamp for this request is outside of the recvWindow."}


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
