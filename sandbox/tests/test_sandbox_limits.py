"""Weight headers, per-endpoint IP/UID budgets, fixed windows and 429 with Retry-After."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.integration

REPAY = "/sapi/v1/margin/loan-group/repay"
LTV = "/sapi/v1/margin/loan-group/ltv-details"
RECORDS = "/sapi/v1/margin/loan-group/borrow-repay"
LIMIT_MSG = ("Too much request weight used; current limit is 12000 request weight per 1 MINUTE. "
             "Please use WebSocket Streams for live updates to avoid polling the API.")


def align_to_window_start(server, margin_ms: int = 20) -> None:
    """Skew the sandbox clock so that 'now' sits just after a window boundary (no rollover mid-test)."""
    window_ms = int(server.window_seconds * 1000)
    now = server.now_ms()
    server.set_clock_skew((now // window_ms + 1) * window_ms + margin_ms - (now - server.app.clock.skew_ms))


def test_weight_headers_are_per_endpoint_and_per_ip_or_uid(raw, sandbox):
    align_to_window_start(sandbox)
    assert raw.call("GET", LTV).headers["X-SAPI-USED-IP-WEIGHT-1M"] == "200"
    assert raw.call("GET", LTV).headers["X-SAPI-USED-IP-WEIGHT-1M"] == "400"
    assert raw.call("GET", RECORDS, {"type": "REPAY"}).headers["X-SAPI-USED-IP-WEIGHT-1M"] == "10"
    repay = {"groupId": 10001, "assetName": "USDT", "amount": "1"}
    first = raw.call("POST", REPAY, repay)
    assert first.headers["X-SAPI-USED-UID-WEIGHT-1M"] == "3000"
    assert "X-SAPI-USED-IP-WEIGHT-1M" not in first.headers
    assert raw.call("POST", REPAY, repay).headers["X-SAPI-USED-UID-WEIGHT-1M"] == "6000"
    other_uid = raw.call("POST", REPAY, {**repay, "groupId": 10004}, "credit_short")
    assert other_uid.headers["X-SAPI-USED-UID-WEIGHT-1M"] == "3000"
    assert raw.call("GET", LTV, None, "parent").headers["X-SAPI-USED-IP-WEIGHT-1M"] == "600"  # same IP
    # Even a refused request counts (Binance weighs requests on arrival).
    assert raw.call("GET", LTV, signature="0" * 64).headers["X-SAPI-USED-IP-WEIGHT-1M"] == "800"


def test_61st_ltv_call_is_429_not_executed_and_adds_no_weight(raw_for, sandbox_factory):
    server = sandbox_factory(window_seconds=600)
    raw = raw_for(server)
    align_to_window_start(server)
    for n in range(1, 61):
        assert raw.call("GET", LTV).headers["X-SAPI-USED-IP-WEIGHT-1M"] == str(200 * n)
    reached = server.endpoint_counts["ltv_details"]
    for _ in range(2):
        refused = raw.call("GET", LTV)
        assert refused.status_code == 429
        assert refused.json() == {"code": -1003, "msg": LIMIT_MSG.replace("1 MINUTE", "600 SECONDS")}
        assert refused.headers["X-SAPI-USED-IP-WEIGHT-1M"] == "12000"
        assert 590 <= int(refused.headers["Retry-After"]) <= 600
    assert server.endpoint_counts["ltv_details"] == reached + 2
    # Other endpoints have their own budget.
    assert raw.call("GET", RECORDS, {"type": "REPAY"}).status_code == 200
    # The next window starts from zero.
    server.set_clock_skew(server.app.clock.skew_ms + 600_000)
    assert raw.call("GET", LTV).headers["X-SAPI-USED-IP-WEIGHT-1M"] == "200"


def test_repay_is_refused_after_60_per_uid_window_and_not_applied(raw_for, sandbox_factory):
    server = sandbox_factory(window_seconds=600)
    raw = raw_for(server)
    align_to_window_start(server)
    params = {"groupId": 10001, "assetName": "USDT", "amount": "0.01"}
    for _ in range(60):
        assert raw.call("POST", REPAY, params).status_code == 200
    refused = raw.call("POST", REPAY, params)
    assert refused.status_code == 429 and refused.headers["X-SAPI-USED-UID-WEIGHT-1M"] == "180000"
    assert "180000 request weight" in refused.json()["msg"]
    assert len(server.state.records_of(10001)) == 60


def test_retry_after_rounds_up_to_the_window_end(raw_for, sandbox_factory):
    server = sandbox_factory(window_seconds=60)
    raw = raw_for(server)
    align_to_window_start(server, margin_ms=58_500)  # 1.5 s before the window ends
    for _ in range(60):
        raw.call("GET", LTV)
    refused = raw.call("GET", LTV)
    if refused.status_code == 429:  # on a very slow machine the window may have rolled over
        assert refused.headers["Retry-After"] in ("1", "2")
        assert refused.json()["msg"] == LIMIT_MSG


def test_server_time_counts_in_the_shared_api_budget(sandbox, raw):
    for n in range(1, 4):
        response = raw.http.get(f"{sandbox.url}/api/v3/time", timeout=5)
        assert response.headers["X-MBX-USED-WEIGHT-1M"] == str(n)
