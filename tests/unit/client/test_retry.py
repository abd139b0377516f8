"""Retries: reads retry transient failures with bounded jittered backoff; repay is never resent blindly."""

from __future__ import annotations

import random

import pytest
import requests

from airflow_binance_loan.client.retry import RetryPolicy
from airflow_binance_loan.exceptions import (
    ExecutionUnknownError,
    InvalidSignatureError,
    NetworkError,
    PendingTransactionError,
    ServerError,
)

from ..fakes import LTV_URL, REPAY_URL, dropped_error, make_client, refused_error, serve_time

REPAY_OK = {"transactionId": 12317283617, "amount": "100.5"}


def api_error(status: int, code: int, msg: str = "err") -> dict:
    return {"status_code": status, "json": {"code": code, "msg": msg}}


def ceilings(n: int, base: float = 0.5, cap: float = 8.0) -> list[float]:
    return [min(cap, base * 2 ** i) for i in range(n)]


def assert_equal_jitter(sleeps: list[float]) -> None:
    for delay, ceiling in zip(sleeps, ceilings(len(sleeps)), strict=True):
        assert ceiling / 2 <= delay <= ceiling


# -- reads -------------------------------------------------------------------------------------


def test_get_retries_every_transient_failure_with_backoff(requests_mock, fake_clock, caplog):
    serve_time(requests_mock, fake_clock)
    ltv = requests_mock.get(
        LTV_URL,
        [
            {"exc": refused_error()},
            {"exc": requests.exceptions.ReadTimeout("read timed out")},
            {"status_code": 503, "text": "unavailable"},
            {"json": [{"groupId": 7}]},
        ],
    )
    details = make_client(fake_clock).ltv_details()
    assert [d.group_id for d in details] == [7]
    assert ltv.call_count == 4
    assert len(fake_clock.sleeps) == 3
    assert_equal_jitter(fake_clock.sleeps)
    assert "GET /sapi/v1/margin/loan-group/ltv-details failed" in caplog.text
    assert "retry 3 in" in caplog.text


@pytest.mark.parametrize(
    "failure",
    [
        {"exc": requests.exceptions.ConnectTimeout("connect timed out")},
        {"exc": dropped_error()},
        {"exc": requests.exceptions.ChunkedEncodingError("incomplete read")},
        api_error(400, -1000),
        api_error(400, -1001),
        api_error(400, -1004),
        api_error(400, -1008),
        api_error(502, -1006),
        api_error(504, -1007),
    ],
)
def test_get_retries_transient_then_succeeds(requests_mock, fake_clock, failure):
    serve_time(requests_mock, fake_clock)
    ltv = requests_mock.get(LTV_URL, [failure, {"json": []}])
    assert make_client(fake_clock).ltv_details() == []
    assert ltv.call_count == 2
    assert len(fake_clock.sleeps) == 1 and 0.25 <= fake_clock.sleeps[0] <= 0.5


def test_get_attempts_are_bounded(requests_mock, fake_clock):
    serve_time(requests_mock, fake_clock)
    ltv = requests_mock.get(LTV_URL, exc=requests.exceptions.ReadTimeout("read timed out"))
    client = make_client(fake_clock, retry_policy=RetryPolicy(read_attempts=6, rng=random.Random(3)))
    with pytest.raises(NetworkError, match="read timeout after sending") as info:
        client.ltv_details()
    assert info.value.sent is True
    assert ltv.call_count == 6
    assert len(fake_clock.sleeps) == 5
    assert_equal_jitter(fake_clock.sleeps)
    assert fake_clock.sleeps[-1] >= 4.0  # 5th retry ceiling is the 8 s cap


def test_get_does_not_retry_client_errors(requests_mock, fake_clock):
    serve_time(requests_mock, fake_clock)
    ltv = requests_mock.get(LTV_URL, **api_error(400, -1102, "Mandatory parameter 'groupId' was not sent"))
    with pytest.raises(Exception, match="code -1102"):
        make_client(fake_clock).ltv_details()
    assert ltv.call_count == 1
    assert fake_clock.sleeps == []


def test_backoff_is_exponential_capped_and_jittered():
    policy = RetryPolicy(backoff_base_seconds=1.0, backoff_cap_seconds=5.0, rng=random.Random(11))
    for retry, ceiling in enumerate([1.0, 2.0, 4.0, 5.0, 5.0, 5.0], start=1):
        samples = [policy.backoff(retry) for _ in range(200)]
        assert all(ceiling / 2 <= s <= ceiling for s in samples)
        assert max(samples) - min(samples) > ceiling / 4  # really jittered
    assert RetryPolicy(rng=random.Random(1)).backoff(1) != RetryPolicy(rng=random.Random(2)).backoff(1)


# -- repay (money-moving) ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "unsent",
    [{"exc": refused_error()}, {"exc": requests.exceptions.ConnectTimeout("connect timed out")}],
    ids=["refused", "connect-timeout"],
)
def test_repay_never_sent_is_resent(requests_mock, fake_clock, unsent):
    serve_time(requests_mock, fake_clock)
    repay = requests_mock.post(REPAY_URL, [unsent, {"json": REPAY_OK}])
    result = make_client(fake_clock).repay(123456, "USDT", "100.5")
    assert result.transaction_id == "12317283617"
    assert repay.call_count == 2
    assert len(fake_clock.sleeps) == 1


def test_repay_never_sent_gives_up_after_the_unsent_budget(requests_mock, fake_clock):
    serve_time(requests_mock, fake_clock)
    repay = requests_mock.post(REPAY_URL, exc=refused_error())
    with pytest.raises(NetworkError, match="could not connect") as info:
        make_client(fake_clock).repay(123456, "USDT", "100.5")
    assert info.value.sent is False
    assert not isinstance(info.value, ExecutionUnknownError)
    assert repay.call_count == 3


@pytest.mark.parametrize(
    ("failure", "message"),
    [
        ({"exc": requests.exceptions.ReadTimeout("read timed out")}, "read timeout after sending"),
        ({"exc": dropped_error()}, "connection lost after sending"),
        ({"exc": requests.exceptions.ConnectionError("connection broken")}, "connection lost after sending"),
        ({"status_code": 500, "text": ""}, "HTTP 500"),
        ({"status_code": 502, "text": "<html>502 Bad Gateway</html>"}, "HTTP 502"),
        ({"status_code": 503, "text": "busy"}, "HTTP 503"),
        ({"status_code": 504, "text": ""}, "HTTP 504"),
        (api_error(400, -1006, "An unexpected response was received from the message bus."), "code -1006"),
        (api_error(400, -1007, "Timeout waiting for response from backend server."), "code -1007"),
    ],
)
def test_repay_with_unknown_outcome_is_not_resent(requests_mock, fake_clock, failure, message):
    serve_time(requests_mock, fake_clock)
    repay = requests_mock.post(REPAY_URL, [failure, {"json": REPAY_OK}])
    with pytest.raises(ExecutionUnknownError) as info:
        make_client(fake_clock).repay(123456, "USDT", "100.5")
    assert repay.call_count == 1
    assert fake_clock.sleeps == []
    error = info.value
    assert (error.intent.group_id, error.intent.asset, error.intent.amount) == (123456, "USDT", "100.5")
    assert error.intent.timestamp_ms == int(fake_clock.time() * 1000) - 100
    text = str(error)
    assert message in text
    assert "may have executed" in text
    assert "POST /sapi/v1/margin/loan-group/repay" in text


def test_repay_429_waits_and_resends(requests_mock, fake_clock):
    serve_time(requests_mock, fake_clock)
    fake_clock.advance(59)
    repay = requests_mock.post(
        REPAY_URL,
        [
            {"status_code": 429, "headers": {"Retry-After": "3"}, "json": {"code": -1003, "msg": "Too many."}},
            {"json": REPAY_OK},
        ],
    )
    assert make_client(fake_clock).repay(123456, "USDT", "100.5").amount == 100.5
    assert repay.call_count == 2
    assert fake_clock.sleeps == [pytest.approx(3.0)]


@pytest.mark.parametrize(
    ("code", "cls"), [(-1022, InvalidSignatureError), (-1025, PendingTransactionError)]
)
def test_repay_rejections_are_not_retried(requests_mock, fake_clock, code, cls):
    serve_time(requests_mock, fake_clock)
    repay = requests_mock.post(REPAY_URL, [api_error(400, code), {"json": REPAY_OK}])
    with pytest.raises(cls):
        make_client(fake_clock).repay(123456, "USDT", "100.5")
    assert repay.call_count == 1
    assert fake_clock.sleeps == []


def test_on_send_sees_each_attempt_and_can_veto(requests_mock, fake_clock):
    serve_time(requests_mock, fake_clock)
    repay = requests_mock.post(REPAY_URL, [{"exc": refused_error()}, {"json": REPAY_OK}])
    seen = []
    make_client(fake_clock).repay(123456, "USDT", "100.5", on_send=seen.append)
    assert repay.call_count == 2
    assert [i.params for i in seen] == [{"groupId": "123456", "assetName": "USDT", "amount": "100.5"}] * 2
    assert seen[0].timestamp_ms < seen[1].timestamp_ms  # each attempt is re-signed with a fresh timestamp

    def veto(intent):
        raise RuntimeError("could not persist the intent")

    client = make_client(fake_clock)
    with pytest.raises(RuntimeError, match="could not persist"):
        client.repay(123456, "USDT", "100.5", on_send=veto)
    assert repay.call_count == 2  # nothing sent
    from airflow_binance_loan.client import endpoints as ep
    from airflow_binance_loan.client.ratelimit import limit_key

    key = limit_key(ep.REPAY, client.session.base_url, client.session._api_key)
    assert client.session.pacer.used(key, client.session.server_time.server_now()) == 0


def test_get_5xx_exhausted_is_server_error_not_execution_unknown(requests_mock, fake_clock):
    serve_time(requests_mock, fake_clock)
    requests_mock.get(LTV_URL, status_code=502, text="bad gateway")
    with pytest.raises(ServerError) as info:
        make_client(fake_clock).ltv_details()
    assert not isinstance(info.value, ExecutionUnknownError)
