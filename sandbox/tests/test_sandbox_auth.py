"""Keys, signatures, percent-encoding, timestamps and parameter errors, as Binance answers them."""

from __future__ import annotations

import pytest

from binance_loan_sandbox.binance_facts import MSG_TIMESTAMP_AHEAD, MSG_TIMESTAMP_OLD

pytestmark = pytest.mark.integration

REPAY = "/sapi/v1/margin/loan-group/repay"
LTV = "/sapi/v1/margin/loan-group/ltv-details"
RECORDS = "/sapi/v1/margin/loan-group/borrow-repay"
REPAY_PARAMS = {"groupId": 10001, "assetName": "USDT", "amount": "1"}


def error(response):
    body = response.json()
    return response.status_code, body["code"], body["msg"]


def test_unknown_missing_and_malformed_api_key(raw):
    assert error(raw.call("GET", LTV, api_key="A" * 64))[:2] == (401, -2015)
    assert error(raw.call("GET", LTV, api_key=""))[:2] == (401, -2015)
    assert error(raw.call("GET", LTV, api_key="bad key!"))[:2] == (401, -2014)


def test_wrong_caller_for_endpoint(raw):
    assert error(raw.call("POST", REPAY, REPAY_PARAMS, "parent")) == (
        401, -2015, "Invalid API-key, IP, or permissions for action.")
    assert error(raw.call("POST", REPAY, REPAY_PARAMS, "collateral_a"))[:2] == (401, -2015)
    assert error(raw.call("GET", "/sapi/v1/margin/loan-groups/activated", {}, "credit_hmac"))[:2] == (401, -2015)
    other_unit = raw.call("POST", REPAY, {**REPAY_PARAMS, "groupId": 10002})
    assert error(other_unit) == (400, -27010, "Credit account not found in risk unit with GroupID 10002.")
    assert error(raw.call("POST", REPAY, {**REPAY_PARAMS, "groupId": 99999}))[:2] == (400, -27001)


def test_missing_trading_permission_is_minus_2015(raw, sandbox):
    sandbox.state.account("credit_hmac").api.permissions["enableSpotAndMarginTrading"] = False
    assert error(raw.call("POST", REPAY, REPAY_PARAMS))[:2] == (401, -2015)
    assert raw.call("GET", LTV).status_code == 200


def test_bad_signature(raw, sandbox):
    assert error(raw.call("GET", LTV, signature="0" * 64)) == (400, -1022, "Signature for this request is not valid.")
    assert error(raw.call("GET", LTV, None, "credit_hmac", api_key=raw.creds["credit_short"]["apiKey"]))[1] == -1022


def test_signature_placement_rules(raw, sandbox):
    ts = sandbox.now_ms() - 10
    query = f"groupId=10001&timestamp={ts}"
    sig = raw.sign("credit_hmac", query)
    key = {"X-MBX-APIKEY": raw.creds["credit_hmac"]["apiKey"]}
    not_last = raw.http.get(f"{sandbox.url}{LTV}?signature={sig}&{query}", headers=key)
    assert error(not_last)[1] == -1022
    twice = raw.http.get(f"{sandbox.url}{LTV}?{query}&signature={sig}&signature={sig}", headers=key)
    assert error(twice)[1] == -1101
    missing = raw.http.get(f"{sandbox.url}{LTV}?{query}", headers=key)
    assert error(missing) == (400, -1102,
                              "Mandatory parameter 'signature' was not sent, was empty/null, or malformed.")


def test_unencoded_reserved_characters_are_rejected_even_when_signed(raw, sandbox):
    ts = sandbox.now_ms() - 10
    query = f"groupId=10001&note=a@b,c&timestamp={ts}"  # '@' and ',' must be %40 / %2C
    assert error(raw.call("GET", LTV, query=query))[1] == -1022
    encoded = f"groupId=10001&note=a%40b%2Cc&timestamp={ts}"
    assert raw.call("GET", LTV, query=encoded).status_code == 200


def test_raw_non_ascii_bytes_are_rejected_but_encoded_utf8_is_fine(raw, raw_socket, sandbox):
    ts = sandbox.now_ms() - 10
    payload = f"groupId=10001&assetName=１USDT&timestamp={ts}".encode()
    sig = raw.sign("credit_hmac", payload)
    request = (b"GET " + LTV.encode() + b"?" + payload + b"&signature=" + sig.encode() + b" HTTP/1.1\r\n"
               b"Host: x\r\nX-MBX-APIKEY: " + raw.creds["credit_hmac"]["apiKey"].encode() + b"\r\n\r\n")
    reply = raw_socket(sandbox, request)
    assert reply.status == 400 and reply.json()["code"] == -1022
    encoded = f"groupId=10001&assetName=%EF%BC%91USDT&amount=1&timestamp={ts}"
    assert error(raw.call("POST", REPAY, query=encoded))[:2] == (400, -1130)  # signature fine, asset invalid


def test_timestamp_window(raw, sandbox):
    now = sandbox.now_ms()
    assert error(raw.call("GET", LTV, timestamp=now - 6_000)) == (400, -1021, MSG_TIMESTAMP_OLD)
    assert raw.call("GET", LTV, timestamp=now - 6_000, recv_window=10_000).status_code == 200
    assert error(raw.call("GET", LTV, timestamp=now + 1_500)) == (400, -1021, MSG_TIMESTAMP_AHEAD)
    assert raw.call("GET", LTV, timestamp=now + 500).status_code == 200
    assert error(raw.call("GET", LTV, recv_window=60_001)) == (400, -1131, "recvWindow must be less than 60000")
    assert raw.call("GET", LTV, recv_window=60_000).status_code == 200
    ts_missing = raw.call("GET", LTV, query="groupId=10001")
    assert error(ts_missing)[:2] == (400, -1102)


def test_parameter_errors(raw):
    no_group = raw.call("POST", REPAY, {"assetName": "USDT", "amount": "1"})
    assert error(no_group) == (400, -1102,
                               "Mandatory parameter 'groupId' was not sent, was empty/null, or malformed.")
    assert error(raw.call("POST", REPAY, {**REPAY_PARAMS, "groupId": "12a"}))[1] == -1102
    assert error(raw.call("POST", REPAY, {**REPAY_PARAMS, "repayFrom": "CASH"}))[:2] == (400, -1130)
    assert error(raw.call("POST", REPAY, {**REPAY_PARAMS, "assetName": "BTC"}))[:2] == (400, -1130)
    assert error(raw.call("GET", RECORDS, {"type": "LOAN"}))[:2] == (400, -1130)
    assert error(raw.call("GET", RECORDS, {}))[:2] == (400, -1102)
    assert error(raw.call("GET", RECORDS, {"type": "REPAY", "startTime": "yesterday"}))[:2] == (400, -1100)
    assert error(raw.call("GET", RECORDS, {"type": "REPAY", "size": 101}))[:2] == (400, -1130)
    duplicate = raw.call("POST", REPAY, [*REPAY_PARAMS.items(), ("amount", "2")])
    assert error(duplicate) == (400, -1101, "Duplicate values for a parameter detected.")


@pytest.mark.parametrize("amount", ["0.123456789", "1e5", "-1", ".5", "1,5", "0x10"])
def test_amount_precision_and_form(raw, amount):
    assert error(raw.call("POST", REPAY, {**REPAY_PARAMS, "amount": amount})) == (
        400, -27016, "Illegal asset quantity precision for asset USDT.")


def test_date_range_rules(raw, sandbox):
    now = sandbox.now_ms()
    day = 86_400_000
    ok = raw.call("GET", RECORDS, {"type": "REPAY", "startTime": now - 7 * day, "endTime": now})
    assert ok.status_code == 200
    too_long = raw.call("GET", RECORDS, {"type": "REPAY", "startTime": now - 8 * day, "endTime": now})
    assert error(too_long) == (400, -3011, "Your input date is invalid.")
    with_asset = raw.call("GET", RECORDS, {"type": "REPAY", "asset": "USDT", "startTime": now - 30 * day,
                                           "endTime": now})
    assert with_asset.status_code == 200
    interest = "/sapi/v1/margin/loan-group/interest-history"
    assert raw.call("GET", interest, {"startTime": now - 100 * day, "endTime": now}).status_code == 200
    assert error(raw.call("GET", interest, {"startTime": now - 101 * day, "endTime": now}))[1] == -3011
