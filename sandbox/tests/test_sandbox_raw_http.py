"""Plain ``requests`` with hand-made HMAC signatures: the sandbox does not depend on the client's signing code."""

from __future__ import annotations

import json
import re
from decimal import Decimal

import pytest

pytestmark = pytest.mark.integration

REPAY = "/sapi/v1/margin/loan-group/repay"
LTV = "/sapi/v1/margin/loan-group/ltv-details"
RECORDS = "/sapi/v1/margin/loan-group/borrow-repay"


def test_server_time_is_unsigned(raw, sandbox):
    response = raw.http.get(f"{sandbox.url}/api/v3/time", timeout=5)
    assert response.status_code == 200
    assert abs(response.json()["serverTime"] - sandbox.now_ms()) < 2_000
    assert response.headers["X-MBX-USED-WEIGHT-1M"] == "1"


def test_repay_in_query_string_then_ltv_and_records(raw, sandbox):
    response = raw.call("POST", REPAY, {"groupId": 10001, "assetName": "USDT", "amount": "1000.5"})
    assert response.status_code == 200, response.text
    assert re.fullmatch(r'\{"transactionId":\d{11,},"amount":1000\.5,"repayFrom":"MARGIN"\}', response.text)
    tran_id = response.json()["transactionId"]

    details = raw.call("GET", LTV, {"groupId": 10001}).json()
    assert details[0]["liabilities"][0] == {"assetName": "USDT", "principal": "999207.75", "interest": "0"}
    assert isinstance(details[0]["ltv"], str)

    records = raw.call("GET", RECORDS, {"type": "REPAY", "asset": "USDT"})
    body = json.loads(records.text, parse_float=Decimal)
    assert body["total"] == 1
    row = body["rows"][0]
    assert row["tranId"] == tran_id and isinstance(row["tranId"], int)
    assert (row["amount"], row["principal"], row["interest"]) == (Decimal("1000.5"), Decimal("792.25"),
                                                                  Decimal("208.25"))
    assert (row["status"], row["type"]) == ("CONFIRM", "NORMAL_REPAY")


def test_repay_in_form_body(raw, sandbox):
    response = raw.call("POST", REPAY, {"groupId": 10002, "assetName": "USDT", "amount": "7"}, "credit_hmac",
                        in_body=True)
    assert response.json()["code"] == -27010  # credit_hmac's unit is 10001, not 10002
    response = raw.call("POST", REPAY, {"groupId": 10001, "assetName": "USDT", "amount": "7"}, in_body=True)
    assert response.status_code == 200 and response.json()["amount"] == 7


def test_query_value_wins_over_body_and_payload_is_query_then_body(raw, sandbox):
    ts = sandbox.now_ms() - 10
    query = f"groupId=10001&assetName=USDT&amount=1&timestamp={ts}"
    body = "amount=5"
    response = raw.call("POST", REPAY, query=query, body=body)
    assert response.status_code == 200, response.text
    assert response.json()["amount"] == 1


def test_signature_in_query_while_params_in_body(raw, sandbox):
    ts = sandbox.now_ms() - 10
    body = f"groupId=10001&assetName=USDT&amount=2&timestamp={ts}"
    signature = raw.sign("credit_hmac", body)
    url = f"{sandbox.url}{REPAY}?signature={signature}"
    response = raw.http.post(url, data=body, headers={
        "X-MBX-APIKEY": raw.creds["credit_hmac"]["apiKey"], "Content-Type": "application/x-www-form-urlencoded"})
    assert response.status_code == 200, response.text
    assert response.json()["amount"] == 2


def test_smallest_amount_is_exact_on_the_wire(raw, sandbox):
    response = raw.call("POST", REPAY, {"groupId": 10001, "assetName": "USDC", "amount": "0.00000001"})
    assert '"amount":0.00000001' in response.text
    assert sandbox.state.liability(10001, "USDC").interest == Decimal("29.99999999")


def test_uppercase_hmac_signature_is_accepted(raw, sandbox):
    query = f"groupId=10001&timestamp={sandbox.now_ms() - 10}"
    response = raw.call("GET", LTV, query=query, signature=raw.sign("credit_hmac", query).upper())
    assert response.status_code == 200 and response.json()[0]["groupId"] == 10001
