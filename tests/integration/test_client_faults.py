"""Fault modes through the provider's client, where the client's reaction is the point.

Moved from the sandbox's own tests when the sandbox became its own distribution (it must not import
the provider): what the sandbox executes and answers for each fault is tested there
(``sandbox/tests/test_sandbox_faults.py``, ``test_sandbox_answer_faults.py``); here, what the client
makes of it: ExecutionUnknownError and reconciliation, read timeouts, RateLimitError, pending
errors, late records, -1021 resync.
"""

from __future__ import annotations

import time

import pytest

from airflow_binance_loan.client import reconcile
from airflow_binance_loan.exceptions import (
    ExecutionUnknownError,
    PendingTransactionError,
    RateLimitError,
    TimestampError,
)

pytestmark = pytest.mark.integration


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


def test_reject_429_is_a_rate_limit_error_and_not_applied(client_for, sandbox):
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


def test_record_failed_is_read_as_a_failed_not_confirmed_record(sandbox, client_for):
    sandbox.set_faults([{"endpoint": "repay", "action": "record_failed", "nth": [1]}])
    client = client_for("credit_hmac")
    client.session.sync_time()
    answer = client.repay(10001, "USDT", "25")  # HTTP 200 with a transactionId: nothing tells it apart
    [parsed] = client.borrow_repay_records("REPAY")
    assert parsed.tran_id == answer.transaction_id
    assert parsed.status == "FAILED" and not parsed.confirmed
