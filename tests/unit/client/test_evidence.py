"""The evidence rules of reconciliation (records, transaction ids, liability drop, horizon), on canned answers."""

from __future__ import annotations

from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest

from airflow_binance_loan.client.evidence import (
    OtherRequest,
    Others,
    SentRepay,
    Snapshot,
    examine,
    reconcile,
)
from airflow_binance_loan.client.intent import RequestIntent
from airflow_binance_loan.exceptions import InvalidParameterError

from ..fakes import LTV_URL, RECORDS_URL, make_client, serve_time

OFFSET_MS = 1_500
HORIZON = 600_000


def intent_at(timestamp_ms: int, amount: str = "10") -> RequestIntent:
    return RequestIntent(
        method="POST", path="/sapi/v1/margin/loan-group/repay",
        params={"groupId": "7", "assetName": "USDT", "amount": amount}, timestamp_ms=timestamp_ms,
        group_id=7, asset="USDT", amount=amount,
    )


def row(tran_id, ts, amount="10", status="CONFIRM", type_="NORMAL_REPAY", asset="USDT"):
    return {"tranId": tran_id, "assetName": asset, "amount": amount, "status": status, "type": type_,
            "timestamp": ts}


def ltv(outstanding: str) -> list[dict]:
    return [{"groupId": 7, "ltv": "0.5", "liabilities": [{"assetName": "USDT", "principal": outstanding,
                                                          "interest": "0"}]}]


@pytest.fixture
def synced(requests_mock, fake_clock):
    serve_time(requests_mock, fake_clock, OFFSET_MS)
    client = make_client(fake_clock)
    client.session.sync_time()
    now = int(client.session.server_time.server_now())
    return client, now


def serve_records(requests_mock, rows):
    return requests_mock.get(RECORDS_URL, json={"total": len(rows), "rows": rows})


def query_of(route) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(route.last_request.url).query).items()}


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
    assert "tranId=111 amount=9.5" in verdict.detail and "unique record for this request" in verdict.detail
    query = query_of(route)
    assert (query["type"], query["groupId"], query["asset"]) == ("REPAY", "7", "USDT")
    assert int(query["startTime"]) == ts - 2_000
    assert "endTime" not in query  # Binance's own "now": a record from a moment ago is never cut off


def test_a_late_record_is_still_ours(requests_mock, synced):
    """Binance may commit minutes after the request: no upper bound from recvWindow."""
    client, now = synced
    ts = now - 5 * 60_000
    serve_records(requests_mock, [row(1, ts + 4 * 60_000)])
    assert reconcile(client, intent_at(ts)).record.tran_id == "1"


def test_no_record_soon_after_the_request_proves_nothing(requests_mock, synced):
    client, now = synced
    serve_records(requests_mock, [])
    verdict = reconcile(client, intent_at(now - 30_000))  # far past recvWindow + margins, within the horizon
    assert verdict.outcome == "unknown" and not verdict.ambiguous
    assert "absence proves nothing" in verdict.detail


def test_not_executed_only_past_the_horizon(requests_mock, synced):
    client, now = synced
    serve_records(requests_mock, [])
    assert reconcile(client, intent_at(now - HORIZON + 1_000)).outcome == "unknown"
    verdict = reconcile(client, intent_at(now - HORIZON - 1_000))
    assert verdict.outcome == "not_executed" and verdict.record is None


def test_an_unexplained_liability_drop_blocks_the_proof_of_non_execution(requests_mock, synced):
    client, now = synced
    ts = now - 2 * HORIZON
    serve_records(requests_mock, [row(9, ts + 10, amount="3")])  # someone else's, and claimed
    requests_mock.get(LTV_URL, json=ltv("87"))  # 100 → 87: 3 explained by tranId 9, 10 unexplained
    before = Snapshot(Decimal(100), ts - 500)
    others = Others(claimed_ids=frozenset({"9"}))
    verdict = reconcile(client, intent_at(ts), before=before, others=others)
    assert verdict.outcome == "unknown"
    assert "fell from 100 to 87, 10 more than the visible records explain" in verdict.detail


def test_interest_accrual_is_never_mistaken_for_a_repay(requests_mock, synced):
    client, now = synced
    ts = now - 2 * HORIZON
    serve_records(requests_mock, [])
    requests_mock.get(LTV_URL, json=ltv("100.0042"))  # interest raised the liability
    verdict = reconcile(client, intent_at(ts), before=Snapshot(Decimal(100), ts - 500))
    assert verdict.outcome == "not_executed"
    assert "no unexplained liability drop" in verdict.detail


def test_several_candidates_are_left_to_a_human(requests_mock, synced):
    client, now = synced
    ts = now - 60_000
    serve_records(requests_mock, [row(1, ts + 10), row(2, ts + 20)])
    verdict = reconcile(client, intent_at(ts))
    assert verdict.outcome == "unknown" and verdict.ambiguous
    assert "2 candidate records (tranId=1, tranId=2)" in verdict.detail
    assert reconcile(client, intent_at(ts), others=Others(frozenset({"1"}))).record.tran_id == "2"


def test_a_record_another_open_request_could_own_is_never_adopted(requests_mock, synced):
    client, now = synced
    ts = now - 60_000
    serve_records(requests_mock, [row(1, ts + 10)])
    unknown_other = Others(unclaimed=(OtherRequest(ts - 500, Decimal(10), executed=False),))
    verdict = reconcile(client, intent_at(ts), others=unknown_other)
    assert verdict.outcome == "unknown" and verdict.ambiguous
    answered_other = Others(unclaimed=(OtherRequest(ts - 500, Decimal(10), executed=True),))
    verdict = reconcile(client, intent_at(ts), others=answered_other)
    assert verdict.outcome == "unknown" and not verdict.ambiguous  # wait for it to claim its record
    assert "has not claimed its record yet" in verdict.detail


def test_confirmation_prefers_the_transaction_id_then_the_unique_record(requests_mock, synced):
    client, now = synced
    ts = now - 10_000
    serve_records(requests_mock, [row(50, ts + 5, amount="7"), row(51, ts + 6, amount="10")])
    by_id = examine(client, SentRepay(7, "USDT", Decimal(10), ts, transaction_id="50", answered_amount=Decimal(7)))
    assert (by_id.outcome, by_id.record.tran_id, by_id.rule) == ("executed", "50", "transaction id")
    other_id = examine(client, SentRepay(7, "USDT", Decimal(10), ts, transaction_id="999",
                                         answered_amount=Decimal(10)))
    assert (other_id.outcome, other_id.record.tran_id) == ("executed", "51")
    assert other_id.rule.startswith("unique record for this request")


def test_confirmation_never_concludes_non_execution_from_absence(requests_mock, synced):
    client, now = synced
    serve_records(requests_mock, [])
    verdict = examine(client, SentRepay(7, "USDT", Decimal(10), now - 2 * HORIZON, transaction_id="5"),
                      horizon_ms=HORIZON)
    assert verdict.outcome == "unknown" and "not visible yet" in verdict.detail


def test_failed_record_proves_non_execution(requests_mock, synced):
    client, now = synced
    ts = now - 60_000
    serve_records(requests_mock, [row(9, ts + 30, status="FAILED")])
    verdict = examine(client, SentRepay(7, "USDT", Decimal(10), ts, transaction_id="9"))
    assert verdict.outcome == "not_executed" and verdict.record.status == "FAILED"


def test_read_errors_are_unknown_not_failures(requests_mock, synced):
    client, now = synced
    requests_mock.get(RECORDS_URL, status_code=503, text="<html>503</html>")
    verdict = reconcile(client, intent_at(now - 2 * HORIZON))
    assert verdict.outcome == "unknown" and "could not read the evidence" in verdict.detail


def test_intent_without_business_fields_is_refused(requests_mock, synced):
    client, now = synced
    intent = RequestIntent(method="POST", path="/sapi/v1/x", params={}, timestamp_ms=now)
    with pytest.raises(InvalidParameterError, match="needs group_id, asset and amount"):
        reconcile(client, intent)
    assert requests_mock.call_count == 1  # only the time sync


def test_reconcile_on_a_fresh_client_uses_server_time(requests_mock, fake_clock):
    serve_time(requests_mock, fake_clock, offset_ms=-HORIZON - 60_000)  # this machine runs ahead of Binance
    serve_records(requests_mock, [])
    sent_at = int(fake_clock.time() * 1000) - HORIZON - 60_000 - 1_000  # signed (in server time) one second ago
    verdict = reconcile(make_client(fake_clock), intent_at(sent_at))
    assert verdict.outcome == "unknown", verdict.detail
