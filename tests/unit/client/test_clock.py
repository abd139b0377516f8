"""Server-time offset, refresh, safety margin, and -1021 recovery."""

from __future__ import annotations

import pytest

from airflow_binance_loan.client.clock import ServerTime, SystemClock
from airflow_binance_loan.exceptions import BinanceAPIError, TimestampError

from ..fakes import REPAY_URL, T0, TIME_URL, make_client, serve_time

REPAY_OK = {"transactionId": 1, "amount": "10"}
TS_1021 = {
    "status_code": 400,
    "json": {"code": -1021, "msg": "Timestamp for this request is outside of the recvWindow."},
}


def fetch_after(clock, rtt: float, server_ms: int):
    def fetch() -> int:
        clock.advance(rtt)
        return server_ms

    return fetch


def timestamp_of(request) -> int:
    fields = dict(p.split("=", 1) for p in request.body.decode().split("&"))
    return int(fields["timestamp"])


def test_offset_is_measured_at_the_round_trip_midpoint(fake_clock):
    st = ServerTime(fake_clock)
    assert st.offset_ms == 0.0
    # request leaves at T0, answer arrives 300 ms later; server says T0 + 2 s
    st.sync(fetch_after(fake_clock, 0.3, int(T0 * 1000) + 2_000))
    assert st.offset_ms == pytest.approx(2_000 - 150)
    assert st.uncertainty_ms == pytest.approx(150)
    assert st.server_now() == pytest.approx(fake_clock.time() * 1000 + 1_850)


def test_negative_offset(fake_clock):
    st = ServerTime(fake_clock)
    st.sync(fetch_after(fake_clock, 0.0, int(T0 * 1000) - 7_000))
    assert st.offset_ms == pytest.approx(-7_000)
    assert st.uncertainty_ms == 0


def test_timestamp_stays_in_the_past_by_the_safety_margin(fake_clock):
    st = ServerTime(fake_clock, safety_ms=250)
    st.sync(fetch_after(fake_clock, 0.0, int(T0 * 1000) + 1_234))
    fake_clock.advance(0.0005)  # sub-millisecond: truncation must never round into the future
    ts = st.timestamp_ms()
    assert isinstance(ts, int)
    assert ts == int(st.server_now() - 250)
    assert st.server_now() - 251 < ts <= st.server_now() - 250


def test_refresh_period_and_invalidate(fake_clock):
    st = ServerTime(fake_clock, refresh_seconds=300)
    assert st.needs_sync()
    st.sync(fetch_after(fake_clock, 0.0, int(T0 * 1000)))
    assert not st.needs_sync()
    fake_clock.advance(299.9)
    assert not st.needs_sync()
    fake_clock.advance(0.1)
    assert st.needs_sync()
    st.sync(fetch_after(fake_clock, 0.0, int(T0 * 1000)))
    assert not st.needs_sync()
    st.invalidate()
    assert st.needs_sync()


def test_session_syncs_once_then_again_after_the_refresh_period(requests_mock, fake_clock):
    time_route = serve_time(requests_mock, fake_clock, offset_ms=1_000)
    requests_mock.get("https://api.binance.com/sapi/v1/margin/loan-group/ltv-details", json=[])
    client = make_client(fake_clock)
    client.ltv_details()
    client.ltv_details()
    assert time_route.call_count == 1
    fake_clock.advance(301)
    client.ltv_details()
    assert time_route.call_count == 2


def test_minus_1021_resyncs_once_and_resends(requests_mock, fake_clock, caplog):
    offsets = iter([0, 3_000])  # Binance's clock jumped 3 s between the two syncs

    def answer(request, context):
        return {"serverTime": int(fake_clock.time() * 1000) + next(offsets)}

    time_route = requests_mock.get(TIME_URL, json=answer)
    repay = requests_mock.post(REPAY_URL, [TS_1021, {"json": REPAY_OK}])
    client = make_client(fake_clock)

    result = client.repay(123456, "USDT", "10")

    assert result.transaction_id == "1"
    assert time_route.call_count == 2
    assert repay.call_count == 2
    first, second = (timestamp_of(r) for r in repay.request_history)
    assert first == int(T0 * 1000) - 100
    assert second == int(fake_clock.time() * 1000) + 3_000 - 100
    assert "-1021 timestamp rejected; resyncing server time" in caplog.text


def test_second_minus_1021_raises_timestamp_error(requests_mock, fake_clock):
    time_route = serve_time(requests_mock, fake_clock)
    repay = requests_mock.post(REPAY_URL, [TS_1021, TS_1021, {"json": REPAY_OK}])
    client = make_client(fake_clock)

    with pytest.raises(TimestampError) as info:
        client.repay(123456, "USDT", "10")

    assert info.value.code == -1021
    assert "HTTP 400, code -1021: Timestamp for this request is outside of the recvWindow." in str(info.value)
    assert repay.call_count == 2
    assert time_route.call_count == 2


def test_bad_server_time_answer(requests_mock, fake_clock):
    requests_mock.get(TIME_URL, json={"serverTime": "soon"})
    with pytest.raises(BinanceAPIError, match="unexpected server time answer"):
        make_client(fake_clock).ltv_details()


def test_system_clock_does_not_sleep_for_non_positive_durations():
    clock = SystemClock()
    start = clock.monotonic()
    clock.sleep(0)
    clock.sleep(-5)
    assert clock.monotonic() - start < 1
    assert abs(clock.time() * 1000 - ServerTime(clock).server_now()) < 1000

