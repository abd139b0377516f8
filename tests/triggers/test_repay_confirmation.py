"""RepayConfirmationTrigger: serialization round trip and the events its poller fires."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from airflow_binance_loan.triggers.repay_confirmation import RepayConfirmationTrigger

BASE = "http://127.0.0.1:9"
SECRET = "trigger-test-secret-0123456789abcdef"
RECORDS = f"{BASE}/sapi/v1/margin/loan-group/borrow-repay"


@pytest.fixture(autouse=True)
def connection(monkeypatch: pytest.MonkeyPatch) -> None:
    conn = {"conn_type": "binance_credit", "host": BASE, "login": "trigger-key", "password": SECRET}
    monkeypatch.setenv("AIRFLOW_CONN_BINANCE_CREDIT_TRIGGER", json.dumps(conn))


def make_trigger(**overrides: Any) -> RepayConfirmationTrigger:
    kwargs: dict[str, Any] = {
        "binance_credit_conn_id": "binance_credit_trigger",
        "group_id": 1001,
        "asset": "USDT",
        "transaction_id": "123456789012345",
        "since_ms": 1_700_000_000_000,
        "poll_interval": 0.01,
        "timeout": 5.0,
    }
    kwargs.update(overrides)
    return RepayConfirmationTrigger(**kwargs)


def collect(trigger: RepayConfirmationTrigger) -> list[dict[str, Any]]:
    async def run() -> list[dict[str, Any]]:
        return [event.payload async for event in trigger.run()]

    return asyncio.run(run())


def test_serialize_round_trip_rebuilds_an_equal_trigger() -> None:
    trigger = make_trigger()
    path, kwargs = trigger.serialize()
    assert path == "airflow_binance_loan.triggers.repay_confirmation.RepayConfirmationTrigger"
    rebuilt = RepayConfirmationTrigger(**kwargs)
    assert rebuilt.serialize() == (path, kwargs)
    assert kwargs["transaction_id"] == "123456789012345"
    assert all(not isinstance(v, float) or k in ("poll_interval", "timeout") for k, v in kwargs.items())


def test_fires_confirmed_with_exact_strings_once_the_record_appears(requests_mock: Any) -> None:
    requests_mock.get(f"{BASE}/api/v3/time", json={"serverTime": 1_700_000_100_000})
    empty = {"json": {"total": 0, "rows": []}}
    row = {
        "tranId": 123456789012345, "assetName": "USDT", "amount": 1500.12345678, "principal": 1500,
        "interest": 0.12345678, "status": "CONFIRM", "type": "NORMAL_REPAY", "timestamp": 1_700_000_050_000,
    }
    requests_mock.get(RECORDS, [empty, empty, {"text": json.dumps({"total": 1, "rows": [row]})}])
    events = collect(make_trigger())
    assert len(events) == 1
    assert events[0]["status"] == "confirmed"
    assert events[0]["record"] == {
        "transaction_id": "123456789012345", "status": "CONFIRM", "amount": "1500.12345678",
        "principal": "1500", "interest": "0.12345678", "timestamp": 1_700_000_050_000,
    }
    assert requests_mock.call_count >= 4  # time + three polls


def test_fires_timeout_when_the_record_never_appears(requests_mock: Any) -> None:
    requests_mock.get(f"{BASE}/api/v3/time", json={"serverTime": 1_700_000_100_000})
    requests_mock.get(RECORDS, json={"total": 0, "rows": []})
    events = collect(make_trigger(timeout=0.05))
    assert events == [{"status": "timeout", "transaction_id": "123456789012345"}]


def test_fires_error_without_secrets_when_binance_rejects_the_key(requests_mock: Any) -> None:
    requests_mock.get(f"{BASE}/api/v3/time", json={"serverTime": 1_700_000_100_000})
    rejected = {"code": -2015, "msg": "Invalid API-key, IP, or permissions for action."}
    requests_mock.get(RECORDS, status_code=401, json=rejected)
    events = collect(make_trigger())
    assert len(events) == 1 and events[0]["status"] == "error"
    assert "-2015" in events[0]["message"]
    assert SECRET not in json.dumps(events)
