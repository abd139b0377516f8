"""Faults that answer HTTP 200 but mislead: distinct ids, FAILED records, garbage bodies, missing ids."""

from __future__ import annotations

import json

import pytest
import requests

from binance_loan_sandbox.app import REPLY_ID_START
from binance_loan_sandbox.faults import FaultPlan, FaultRule

pytestmark = pytest.mark.integration

REPAY = "/sapi/v1/margin/loan-group/repay"
BORROW = "/sapi/v1/margin/loan-group/borrow"
RECORDS = "/sapi/v1/margin/loan-group/borrow-repay"
FIRST_TRAN_ID = 12317283617


def repay(raw, amount: str = "25") -> requests.Response:
    return raw.call("POST", REPAY, {"groupId": 10001, "assetName": "USDT", "amount": amount}, in_body=True)


def test_distinct_tran_ids_answer_an_id_the_record_does_not_carry(sandbox, raw):
    sandbox.set_faults([{"endpoint": "*", "action": "distinct_tran_ids"}])
    answer = repay(raw).json()
    [record] = sandbox.state.records_of(10001)
    assert record.tran_id == FIRST_TRAN_ID
    assert answer["transactionId"] != record.tran_id and answer["transactionId"] >= REPLY_ID_START
    assert answer["amount"] == 25 and answer["repayFrom"] == "MARGIN"
    [row] = raw.call("GET", RECORDS, {"type": "REPAY"}).json()["rows"]
    assert row["tranId"] == FIRST_TRAN_ID
    second = repay(raw, "1").json()["transactionId"]
    assert second not in (answer["transactionId"], FIRST_TRAN_ID + 1)
    borrowed = raw.call("POST", BORROW, {"groupId": 10001, "assetName": "USDC", "amount": "5"}, in_body=True).json()
    assert borrowed["transactionId"] >= REPLY_ID_START and borrowed["status"] == "success"
    assert sandbox.faults.to_json()[0]["seen"] == 3  # the borrow-repay read is not a money endpoint


def test_record_failed_answers_200_moves_nothing_and_lists_a_failed_record(sandbox, raw):
    sandbox.set_faults([{"endpoint": "repay", "action": "record_failed", "nth": [1]}])
    before = sandbox.state.liability(10001, "USDT")
    balance = sandbox.state.balance(10001, "USDT")
    response = repay(raw, "25")
    assert response.status_code == 200
    answer = response.json()
    assert answer["amount"] == 25 and answer["repayFrom"] == "MARGIN"
    assert sandbox.state.liability(10001, "USDT") == before and sandbox.state.balance(10001, "USDT") == balance
    [row] = raw.call("GET", RECORDS, {"type": "REPAY"}).json()["rows"]
    assert row["tranId"] == answer["transactionId"] and row["status"] == "FAILED"
    assert row["amount"] == 25 and row["principal"] == 0 and row["interest"] == 0
    # How the provider's client reads this FAILED row: tests/integration/test_client_faults.py.
    assert repay(raw, "25").status_code == 200  # nth [1] only: the next one goes through
    assert sandbox.state.liability(10001, "USDT").outstanding == before.outstanding - 25


def test_record_failed_with_distinct_ids_and_records_lag(sandbox, raw):
    sandbox.set_faults([{"endpoint": "repay", "action": "record_failed"},
                        {"endpoint": "repay", "action": "distinct_tran_ids"},
                        {"endpoint": "repay", "action": "records_lag", "ms": 60_000}])
    answer = repay(raw).json()
    [record] = sandbox.state.records_of(10001)
    assert record.status == "FAILED" and record.tran_id != answer["transactionId"]
    assert record.visible_at == record.timestamp + 60_000
    assert raw.call("GET", RECORDS, {"type": "REPAY"}).json()["rows"] == []


def test_commit_then_garbage_commits_and_answers_200_html(sandbox, raw):
    sandbox.set_faults([{"endpoint": "repay", "action": "commit_then_garbage"}])
    before = sandbox.state.liability(10001, "USDT").outstanding
    response = repay(raw)
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("text/html")
    with pytest.raises(json.JSONDecodeError):
        json.loads(response.content)
    assert sandbox.state.liability(10001, "USDT").outstanding == before - 25
    assert len(sandbox.state.records_of(10001)) == 1


def test_commit_then_no_id_commits_and_answers_200_json_without_transaction_id(sandbox, raw):
    sandbox.set_faults([{"endpoint": "repay", "action": "commit_then_no_id"}])
    before = sandbox.state.liability(10001, "USDT").outstanding
    response = repay(raw)
    assert response.status_code == 200
    assert response.json() == {"amount": 25, "repayFrom": "MARGIN"}
    assert sandbox.state.liability(10001, "USDT").outstanding == before - 25
    [record] = sandbox.state.records_of(10001)
    assert record.amount == 25 and record.status == "CONFIRM"
    failing = raw.call("POST", REPAY, {"groupId": 10001, "assetName": "USDC", "amount": "1", "repayFrom": "SPOT"},
                       in_body=True)
    assert failing.status_code == 200 and failing.json() == {}  # -27015 replaced, like every commit_then_*


def test_new_rule_fields_are_validated_and_echoed(sandbox):
    plan = FaultPlan()
    for bad in ({"action": "late_commit", "answer": "timeout"},
                {"action": "late_commit", "answer": 1007},
                {"action": "commit_then_1007", "answer": "drop"},
                {"action": "late_commit", "endpoint": "ltv_details"},
                {"action": "record_failed", "endpoint": "server_time"},
                {"action": "pending_after_repay", "endpoint": "borrow"},
                {"action": "distinct_tran_ids", "endpoint": "close_risk_unit"},
                {"action": "commit_then_no_id", "endpoint": "ltv_details"},
                {"action": "pending_after_repay", "ms": -1}):
        with pytest.raises(ValueError):
            plan.set([bad])
    assert FaultRule.from_json({"action": "late_commit", "endpoint": "borrow"}).answer == "1007"
    assert FaultRule.from_json({"action": "commit_then_garbage", "endpoint": "ltv_details"}).answer is None

    admin = f"{sandbox.url}/sandbox/faults"
    rules = [{"endpoint": "repay", "action": "late_commit", "ms": 300_000, "answer": "drop", "nth": [2]},
             {"endpoint": "repay", "action": "late_commit", "ms": 1000},
             {"endpoint": "repay", "action": "pending_after_repay", "ms": 5000},
             {"endpoint": "*", "action": "distinct_tran_ids"},
             {"endpoint": "borrow", "action": "record_failed"},
             {"endpoint": "*", "action": "commit_then_garbage", "probability": 0.5, "seed": 1},
             {"endpoint": "repay", "action": "commit_then_no_id"}]
    echoed = requests.post(admin, json={"rules": rules}, timeout=5).json()["rules"]
    assert echoed[0] == {"endpoint": "repay", "action": "late_commit", "answer": "drop", "nth": [2], "ms": 300_000,
                         "seen": 0, "fired": 0}
    assert echoed[1]["answer"] == "1007"
    assert echoed[5]["probability"] == 0.5  # a JSON fraction (parsed as Decimal by the admin API) is accepted
    assert [r["action"] for r in echoed] == [r["action"] for r in rules]
    bad = requests.post(admin, json=[{"action": "late_commit", "answer": "slow"}], timeout=5)
    assert bad.status_code == 400 and bad.json()["code"] == -1130
    assert len(requests.get(admin, timeout=5).json()["rules"]) == len(rules)  # nothing replaced
