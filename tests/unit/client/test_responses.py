"""Error answers → exception class, with code, msg, HTTP status and endpoint in the message."""

from __future__ import annotations

import json

import pytest

from airflow_binance_loan.client.intent import RequestIntent
from airflow_binance_loan.client.redaction import body_excerpt, redact
from airflow_binance_loan.client.responses import error_from_response, parse_success
from airflow_binance_loan.exceptions import (
    AuthenticationError,
    BinanceAPIError,
    BinanceLoanError,
    ExecutionUnknownError,
    InsufficientBalanceError,
    InvalidRequestError,
    InvalidSignatureError,
    LiquidationInProgressError,
    LoanBusinessError,
    NoLiabilityError,
    PendingTransactionError,
    RateLimitError,
    ServerError,
    TimestampError,
    UnexpectedResponseError,
)

from ..fakes import LTV_URL, REPAY_URL, make_client, serve_time

EP = "POST /sapi/v1/margin/loan-group/repay"
INTENT = RequestIntent(
    method="POST",
    path="/sapi/v1/margin/loan-group/repay",
    params={"groupId": "123456", "assetName": "USDT", "amount": "100.5"},
    timestamp_ms=1_700_000_039_900,
    group_id=123456,
    asset="USDT",
    amount="100.5",
)


def body(code: int, msg: str = "boom") -> bytes:
    return json.dumps({"code": code, "msg": msg}).encode()


@pytest.mark.parametrize(
    ("status", "code", "cls"),
    [
        (400, -2014, AuthenticationError),
        (401, -2015, AuthenticationError),
        (401, -1002, AuthenticationError),
        (400, -1022, InvalidSignatureError),
        (400, -1021, TimestampError),
        (400, -1100, InvalidRequestError),
        (400, -1102, InvalidRequestError),
        (400, -1131, InvalidRequestError),
        (400, -1199, InvalidRequestError),
        (400, -27011, NoLiabilityError),
        (400, -27014, InsufficientBalanceError),
        (400, -27015, InsufficientBalanceError),
        (400, -1024, LiquidationInProgressError),
        (400, -27024, LiquidationInProgressError),
        (400, -1025, PendingTransactionError),
        (400, -27025, PendingTransactionError),
        (400, -27000, LoanBusinessError),
        (400, -27009, LoanBusinessError),
        (400, -27999, LoanBusinessError),
        (400, -3007, LoanBusinessError),
    ],
)
def test_code_mapping(status, code, cls):
    error = error_from_response(status, body(code, "Binance says no."), endpoint=EP, intent=INTENT)
    assert type(error) is cls
    assert (error.code, error.msg, error.http_status, error.endpoint) == (code, "Binance says no.", status, EP)
    assert str(error) == f"{EP}: HTTP {status}, code {code}: Binance says no."
    assert isinstance(error, BinanceLoanError)


def test_specific_loan_errors_are_loan_business_errors():
    for code in (-27011, -27015, -27024, -27025, -1024, -1025):
        assert isinstance(error_from_response(400, body(code), endpoint=EP), LoanBusinessError)
    assert isinstance(error_from_response(400, body(-1022), endpoint=EP), AuthenticationError)


@pytest.mark.parametrize(
    ("status", "code", "retry_after", "expected"),
    [
        (429, -1003, "7", 7.0),
        (418, -1003, "120", 120.0),
        (429, None, "2.5", 2.5),
        (400, -1003, None, None),
        (429, -1003, "soon", None),
        (429, -1003, "-3", None),
    ],
)
def test_rate_limit_mapping(status, code, retry_after, expected):
    raw = body(code, "Too many requests.") if code else b""
    error = error_from_response(status, raw, endpoint=EP, retry_after=retry_after, intent=INTENT)
    assert type(error) is RateLimitError
    assert error.retry_after == expected
    assert error.http_status == status


@pytest.mark.parametrize(
    ("status", "code"), [(500, None), (502, None), (503, -1000), (504, None), (400, -1006), (400, -1007), (503, -1007)]
)
def test_outcome_unknown_on_a_money_moving_call(status, code):
    raw = body(code, "Timeout waiting for response from backend server.") if code else b"Bad gateway"
    error = error_from_response(status, raw, endpoint=EP, intent=INTENT)
    assert type(error) is ExecutionUnknownError
    assert isinstance(error, ServerError)
    assert error.intent is INTENT
    text = str(error)
    assert f"HTTP {status}" in text
    assert "may have executed" in text and "UNKNOWN" in text
    assert "groupId=123456, assetName=USDT, amount=100.5" in text
    assert "signed at timestamp 1700000039900" in text


@pytest.mark.parametrize(("status", "code"), [(500, None), (503, None), (400, -1001), (400, -1006), (400, -1008)])
def test_server_error_on_a_read(status, code):
    error = error_from_response(status, body(code) if code else b"", endpoint="GET /x")
    assert type(error) is ServerError


def test_unknown_4xx_without_code():
    assert type(error_from_response(404, b"", endpoint=EP)) is InvalidRequestError
    assert type(error_from_response(403, b"<html>WAF</html>", endpoint=EP)) is AuthenticationError
    assert "empty error body" in str(error_from_response(404, b"", endpoint=EP))


def test_html_502_gives_status_and_truncated_body():
    html = "<html><head><title>502 Bad Gateway</title></head><body>" + "x" * 2000 + "</body></html>"
    error = error_from_response(502, html.encode(), endpoint="GET /sapi/v1/margin/loan-group/ltv-details")
    assert type(error) is ServerError
    text = str(error)
    assert text.startswith("GET /sapi/v1/margin/loan-group/ltv-details: HTTP 502: non-JSON error body: <html>")
    assert "502 Bad Gateway" in text
    assert text.endswith("…")
    assert len(text) < 450
    assert error.code is None


def test_repay_5xx_through_the_session_is_execution_unknown(requests_mock, fake_clock):
    serve_time(requests_mock, fake_clock)
    repay = requests_mock.post(REPAY_URL, status_code=503, text="Service Unavailable")
    client = make_client(fake_clock)
    with pytest.raises(ExecutionUnknownError) as info:
        client.repay("123456", "USDT", "100.50")
    intent = info.value.intent
    assert (intent.group_id, intent.asset, intent.amount) == (123456, "USDT", "100.5")
    assert intent.params == {"groupId": "123456", "assetName": "USDT", "amount": "100.5"}
    assert intent.timestamp_ms == int(fake_clock.time() * 1000) - 100
    assert intent.recv_window_ms == 5000
    assert repay.call_count == 1
    assert "may have executed" in str(info.value)


def test_get_5xx_is_retried_then_raised_as_server_error(requests_mock, fake_clock):
    serve_time(requests_mock, fake_clock)
    ltv = requests_mock.get(LTV_URL, status_code=500, json={"code": -1000, "msg": "An unknown error occurred."})
    with pytest.raises(ServerError) as info:
        make_client(fake_clock).ltv_details()
    assert type(info.value) is ServerError
    assert ltv.call_count == 4
    assert str(info.value) == (
        "GET /sapi/v1/margin/loan-group/ltv-details: HTTP 500, code -1000: An unknown error occurred."
    )


def test_non_json_success_body(requests_mock, fake_clock):
    serve_time(requests_mock, fake_clock)
    requests_mock.get(LTV_URL, text="<html>maintenance</html>")
    with pytest.raises(UnexpectedResponseError, match=r"HTTP 200: response is not JSON: <html>maintenance"):
        make_client(fake_clock).ltv_details()


def test_parse_success_empty_body_is_none():
    assert parse_success(200, b"  ", endpoint=EP) is None


def test_redact_and_body_excerpt():
    assert redact("GET /x?a=1&signature=abcDEF%2B%3D&b=2") == "GET /x?a=1&signature=***&b=2"
    assert redact('"url": "/x?Signature=abc"') == '"url": "/x?Signature=***"'
    excerpt = body_excerpt(b"line1\n\n  line2 signature=deadbeef " + b"y" * 500, limit=40)
    assert excerpt.startswith("line1 line2 signature=***")
    assert excerpt.endswith("…")
    assert "deadbeef" not in excerpt


def test_api_error_without_status_or_endpoint():
    assert str(BinanceAPIError("x")) == "no HTTP status: x"
