"""Reconciliation of a repay whose outcome is unknown, against the borrow/repay records."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from airflow_binance_loan.client.reconcile import reconcile
from airflow_binance_loan.exceptions import RequestIntent

from .fakes import RECORDS_URL, make_client, serve_time

OFFSET_MS = 1_500


def intent_at(timestamp_ms: int, amount: str = "10") -> RequestIntent:
    return RequestIntent(
        method="POST", path="/sapi/v1/margin/loan-group/repay",
        params={"groupId": "7", "assetName": "USDT", "amount": amount}, timestamp_ms=timestamp_ms,
        group_id=7, asset="USDT", amount=amount,
    )


def row(tran_id, ts, amount="10", status="CONFIRM", type_="NORMAL_REPAY", asset="USDT"):
    return {"tranId": tran_id, "assetName": asset, "amount": amount, "status": status, "type": type_,
            "timestamp": ts}


@pytest.fixture
def synced(requests_mock, fake_clock):
    serve_time(requests_mock, fake_clock, OFFSET_MS)
    client = make_client(fake_clock)
    client.session.sync_time()
    now = int(client.session.server_time.server_now())
    return client, now


def serve_records(requests_mock, rows):
    return requests_mock.get(RECORDS_URL, json={"total": len(rows), "rows": rows})


def test_executed_when_exactly_one_record_matches(requests_mock, synced):
    client, now = synced
    ts = now - 60_000
    route = serve_records(requests_mock, [
        row(111, ts + 40, amount="9.5"),
        row(222, ts - 60_000),  # long before the request: not it
        row(333, ts + 40, type_="FORCE_REPAY"),  # a liquidation, not our repay
        row(444, ts + 40, asset="USDC"),
        row(555, ts + 40, amount="10.01"),  # more than requested: impossible for our repay
    ])
    verdict = reconcile(client, intent_at(ts))
    assert verdict.outcome == "executed"
    assert verdict.record.tran_id == "111"
    assert "tranId=111 amount=9.5" in verdict.detail
    query = {k: v[0] for k, v in parse_qs(urlsplit(route.last_request.url).query).items()}
    assert (query["type"], query["groupId"], query["asset"]) == ("REPAY", "7", "USDT")
    assert int(query["startTime"]) == ts - 2_000
    assert int(query["endTime"]) == ts + 5_000 + 5_000


def test_not_executed_once_the_window_has_passed(requests_mock, synced):
    client, now = synced
    serve_records(requests_mock, [])
    verdict = reconcile(client, intent_at(now - 60_000))
    assert verdict.outcome == "not_executed"
    assert verdict.record is None


def test_unknown_while_the_record_could_still_appear(requests_mock, synced):
    client, now = synced
    serve_records(requests_mock, [])
    verdict = reconcile(client, intent_at(now - 1_000))
    assert verdict.outcome == "unknown"
    assert "could still appear" in verdict.detail


def test_several_candidates_are_left_to_a_human(requests_mock, synced):
    client, now = synced
    ts = now - 60_000
    serve_records(requests_mock, [row(1, ts + 10), row(2, ts + 20)])
    verdict = reconcile(client, intent_at(ts))
    assert verdict.outcome == "unknown"
    assert "2 candidate records (1, 2)" in verdict.detail
    assert reconcile(client, intent_at(ts), exclude_tran_ids={"1"}).record.tran_id == "2"


def test_intent_without_business_fields_is_unknown(requests_mock, synced):
    client, now = synced
    intent = RequestIntent(method="POST", path="/sapi/v1/x", params={}, timestamp_ms=now)
    assert reconcile(client, intent).outcome == "unknown"
    assert requests_mock.call_count == 1  # only the time sync


def test_failed_record_is_not_an_execution(requests_mock, synced):
    client, now = synced
    ts = now - 60_000
    serve_records(requests_mock, [row(9, ts + 30, status="FAILED")])
    assert reconcile(client, intent_at(ts)).outcome != "executed"


def test_reconcile_on_a_fresh_client_uses_server_time(requests_mock, fake_clock):
    serve_time(requests_mock, fake_clock, offset_ms=-60_000)  # this machine runs 60 s ahead of Binance
    serve_records(requests_mock, [])
    sent_at = int(fake_clock.time() * 1000) - 60_000 - 1_000  # signed (in server time) one second ago
    verdict = reconcile(make_client(fake_clock), intent_at(sent_at))
    assert verdict.outcome == "unknown", verdict.detail
