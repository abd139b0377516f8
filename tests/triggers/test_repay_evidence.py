"""RepayEvidenceTrigger: serialization round trip, and the events its poller fires."""

from __future__ import annotations

import asyncio
import json
import time
from decimal import Decimal
from typing import Any

import pytest

from airflow_binance_loan.client.evidence import OtherRequest, Others, SentRepay, Snapshot
from airflow_binance_loan.triggers.repay_evidence import RepayEvidenceTrigger

BASE = "http://127.0.0.1:9"
SECRET = "trigger-test-secret-0123456789abcdef"
RECORDS = f"{BASE}/sapi/v1/margin/loan-group/borrow-repay"
NOW_MS = 1_700_000_100_000
SENT = SentRepay(1001, "USDT", Decimal("1500.12345678"), NOW_MS - 60_000, transaction_id="123456789012345",
                 answered_amount=Decimal("1500.12345678"), before=Snapshot(Decimal("99999.5"), NOW_MS - 61_000))


@pytest.fixture(autouse=True)
def connection(monkeypatch: pytest.MonkeyPatch) -> None:
    conn = {"conn_type": "binance_credit", "host": BASE, "login": "trigger-key", "password": SECRET}
    monkeypatch.setenv("AIRFLOW_CONN_BINANCE_CREDIT_TRIGGER", json.dumps(conn))


def make_trigger(deadline: float | None = None, **overrides: Any) -> RepayEvidenceTrigger:
    kwargs: dict[str, Any] = {
        "binance_credit_conn_id": "binance_credit_trigger",
        "sent": SENT.to_json(),
        "others": Others(frozenset({"42"}), (OtherRequest(NOW_MS - 5, Decimal(3), True),)).to_json(),
        "waiting": {"attempt": 1, "mode": "confirm", "deadline": deadline or time.time() + 30, "detail": ""},
        "horizon_ms": 600_000,
        "poll_interval": 0.01,
    }
    kwargs.update(overrides)
    return RepayEvidenceTrigger(**kwargs)


def collect(trigger: RepayEvidenceTrigger) -> list[dict[str, Any]]:
    async def run() -> list[dict[str, Any]]:
        return [event.payload async for event in trigger.run()]

    return asyncio.run(run())


def test_plain_values_round_trip_exactly() -> None:
    assert SentRepay.from_json(json.loads(json.dumps(SENT.to_json()))) == SENT
    others = Others(frozenset({"1", "2"}), (OtherRequest(5, Decimal("0.00000001"), False),))
    assert Others.from_json(json.loads(json.dumps(others.to_json()))) == others
    assert SENT.to_json()["amount"] == "1500.12345678"  # a string: serde would turn a Decimal into a float


def test_serialize_round_trip_rebuilds_an_equal_trigger() -> None:
    trigger = make_trigger()
    path, kwargs = trigger.serialize()
    assert path == "airflow_binance_loan.triggers.repay_evidence.RepayEvidenceTrigger"
    assert RepayEvidenceTrigger(**kwargs).serialize() == (path, kwargs)
    assert json.loads(json.dumps(kwargs)) == kwargs


def test_fires_decided_with_the_waiting_step_once_the_record_appears(requests_mock: Any) -> None:
    requests_mock.get(f"{BASE}/api/v3/time", json={"serverTime": NOW_MS})
    empty = {"json": {"total": 0, "rows": []}}
    row = {"tranId": 123456789012345, "assetName": "USDT", "amount": 1500.12345678, "status": "CONFIRM",
           "type": "NORMAL_REPAY", "timestamp": NOW_MS - 59_000}
    requests_mock.get(RECORDS, [empty, empty, {"text": json.dumps({"total": 1, "rows": [row]})}])
    trigger = make_trigger()
    events = collect(trigger)
    assert len(events) == 1
    assert events[0]["status"] == "decided"
    assert events[0]["waiting"] == trigger.waiting  # everything execute_complete needs rides in the event
    assert "tranId=123456789012345" in events[0]["detail"]


def test_fires_deadline_when_the_evidence_stays_unknown(requests_mock: Any) -> None:
    requests_mock.get(f"{BASE}/api/v3/time", json={"serverTime": NOW_MS})
    requests_mock.get(RECORDS, json={"total": 0, "rows": []})
    events = collect(make_trigger(deadline=time.time() + 0.05))
    assert [e["status"] for e in events] == ["deadline"]
    assert "not visible yet" in events[0]["detail"]


def test_a_rejected_key_is_reported_without_secrets(requests_mock: Any) -> None:
    requests_mock.get(f"{BASE}/api/v3/time", json={"serverTime": NOW_MS})
    rejected = {"code": -2015, "msg": "Invalid API-key, IP, or permissions for action."}
    requests_mock.get(RECORDS, status_code=401, json=rejected)
    events = collect(make_trigger(deadline=time.time() + 0.05))
    assert len(events) == 1 and events[0]["status"] == "deadline"
    assert "-2015" in events[0]["detail"]
    assert SECRET not in json.dumps(events)


def test_a_missing_connection_fires_error() -> None:
    events = collect(make_trigger(binance_credit_conn_id="no_such_connection"))
    assert [e["status"] for e in events] == ["error"]
    assert "no_such_connection" in events[0]["detail"]
