"""Weight pacing: per-endpoint budgets, waiting, header correction, 429/418 blocks (fake clock only)."""

from __future__ import annotations

import logging
import sys
import threading
from collections import defaultdict

import pytest

from airflow_binance_loan.client import endpoints as ep
from airflow_binance_loan.client.ratelimit import WeightPacer, limit_key
from airflow_binance_loan.exceptions import RateLimitError

from ..fakes import API_KEY, BASE, LTV_URL, REPAY_URL, T0, make_client, serve_time

RATELIMIT_LOGGER = "airflow_binance_loan.client.ratelimit"
REPAY_OK = {"transactionId": 1, "amount": "1"}


def now_ms(clock):
    return lambda: clock.time() * 1000.0


def pacer_logs(caplog):
    return [r.getMessage() for r in caplog.records if r.name == RATELIMIT_LOGGER]


def test_waits_for_the_next_window_when_full_and_logs_once(fake_clock, caplog):
    caplog.set_level(logging.INFO, logger=RATELIMIT_LOGGER)
    pacer = WeightPacer(fake_clock)
    key = limit_key(ep.REPAY, BASE, API_KEY)
    fake_clock.advance(45.8)  # 14.2 s before the next minute
    for _ in range(60):
        pacer.acquire(key, 3000, 180000, now_ms(fake_clock))
    assert pacer.used(key, fake_clock.time() * 1000) == 180000
    assert fake_clock.sleeps == []

    reservation = pacer.acquire(key, 3000, 180000, now_ms(fake_clock))

    assert fake_clock.sleeps == [pytest.approx(14.215)]  # to the boundary + 15 ms guard
    assert pacer_logs(caplog) == ["UID weight 180000/180000 on repay; waiting 14.2 s"]
    assert reservation.window == int(T0 // 60) + 1
    assert pacer.used(key, fake_clock.time() * 1000) == 3000


def test_header_count_is_shown_in_the_wait_log(fake_clock, caplog):
    caplog.set_level(logging.INFO, logger=RATELIMIT_LOGGER)
    pacer = WeightPacer(fake_clock)
    key = limit_key(ep.REPAY, BASE, API_KEY)
    fake_clock.advance(45.8)
    first = pacer.acquire(key, 3000, 180000, now_ms(fake_clock))
    pacer.observe(first, 177001, fake_clock.time() * 1000)  # other workers used the rest
    pacer.acquire(key, 3000, 180000, now_ms(fake_clock))
    assert pacer_logs(caplog) == ["UID weight 177001/180000 on repay; waiting 14.2 s"]


def test_logs_once_even_when_it_has_to_wait_twice(fake_clock, caplog):
    caplog.set_level(logging.INFO, logger=RATELIMIT_LOGGER)
    pacer = WeightPacer(fake_clock)
    key = limit_key(ep.LTV_DETAILS, BASE, API_KEY)
    fake_clock.advance(10)
    for _ in range(60):  # the window is full...
        pacer.acquire(key, 200, 12000, now_ms(fake_clock))
    pacer.block(key, 5, 12000, fake_clock.time() * 1000)  # ...and Binance blocked the key for 5 s
    pacer.acquire(key, 200, 12000, now_ms(fake_clock))
    assert len(fake_clock.sleeps) == 2
    assert fake_clock.sleeps[0] == pytest.approx(5.0)
    assert sum(fake_clock.sleeps) == pytest.approx(50.015)
    assert pacer_logs(caplog) == ["IP weight on ltv_details blocked by Binance (429/418); waiting 5.0 s"]


def test_budgets_are_per_endpoint(fake_clock):
    pacer = WeightPacer(fake_clock)
    repay = limit_key(ep.REPAY, BASE, API_KEY)
    borrow = limit_key(ep.BORROW, BASE, API_KEY)
    for _ in range(60):
        pacer.acquire(repay, 3000, 180000, now_ms(fake_clock))
    pacer.acquire(borrow, 3000, 180000, now_ms(fake_clock))
    assert fake_clock.sleeps == []
    assert pacer.used(borrow, fake_clock.time() * 1000) == 3000


def test_limit_keys_ip_per_base_url_uid_per_api_key():
    ltv_a = limit_key(ep.LTV_DETAILS, "https://a.example", "key1")
    assert ltv_a == limit_key(ep.LTV_DETAILS, "https://a.example", "key2")  # same IP budget for all keys
    assert ltv_a != limit_key(ep.LTV_DETAILS, "https://b.example", "key1")
    assert ltv_a != limit_key(ep.MAX_BORROWABLE, "https://a.example", "key1")
    repay_1 = limit_key(ep.REPAY, "https://a.example", "key1")
    assert repay_1 == limit_key(ep.REPAY, "https://b.example", "key1")  # UID budget follows the account
    assert repay_1 != limit_key(ep.REPAY, "https://a.example", "key2")
    assert "key1" not in repr(repay_1) and str(repay_1) == "UID weight on repay"


def test_wait_bound_raises_instead_of_sleeping(fake_clock):
    pacer = WeightPacer(fake_clock, max_wait_seconds=10)
    key = limit_key(ep.LTV_DETAILS, BASE, API_KEY)
    pacer.acquire(key, 12000, 12000, now_ms(fake_clock))
    with pytest.raises(RateLimitError, match=r"IP weight 12000/12000 on ltv_details; the next slot is 60.0 s away, "
                       r"beyond the max wait of 10 s") as info:
        pacer.acquire(key, 200, 12000, now_ms(fake_clock))
    assert info.value.retry_after == pytest.approx(60.015)
    assert info.value.http_status is None
    assert fake_clock.sleeps == []
    # a per-call bound overrides the pacer's
    pacer.acquire(key, 200, 12000, now_ms(fake_clock), max_wait_seconds=61)
    assert fake_clock.sleeps == [pytest.approx(60.015)]


def test_weight_above_the_limit_raises_immediately(fake_clock):
    pacer = WeightPacer(fake_clock)
    key = limit_key(ep.LTV_DETAILS, BASE, API_KEY)
    with pytest.raises(RateLimitError, match="weight 12001 exceeds the limit 12000 per window"):
        pacer.acquire(key, 12001, 12000, now_ms(fake_clock))
    assert fake_clock.sleeps == []


def test_release_gives_weight_back_in_the_same_window_only(fake_clock):
    pacer = WeightPacer(fake_clock)
    key = limit_key(ep.REPAY, BASE, API_KEY)
    reservation = pacer.acquire(key, 3000, 180000, now_ms(fake_clock))
    pacer.release(reservation, fake_clock.time() * 1000)
    assert pacer.used(key, fake_clock.time() * 1000) == 0
    again = pacer.acquire(key, 3000, 180000, now_ms(fake_clock))
    fake_clock.advance(60)
    pacer.acquire(key, 3000, 180000, now_ms(fake_clock))
    pacer.release(again, fake_clock.time() * 1000)  # stale window: ignored
    assert pacer.used(key, fake_clock.time() * 1000) == 3000


def test_many_threads_never_exceed_the_limit_in_a_window(fake_clock):
    pacer = WeightPacer(fake_clock, max_wait_seconds=10_000)
    key = limit_key(ep.LTV_DETAILS, BASE, API_KEY)
    per_window: dict[int, int] = defaultdict(int)
    record_lock = threading.Lock()
    errors: list[BaseException] = []

    def worker():
        try:
            for _ in range(40):
                r = pacer.acquire(key, 300, 3000, now_ms(fake_clock))
                with record_lock:
                    per_window[r.window] += r.weight
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        threads = [threading.Thread(target=worker) for _ in range(12)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        sys.setswitchinterval(old)
    assert not errors
    assert sum(per_window.values()) == 12 * 40 * 300
    assert max(per_window.values()) <= 3000
    assert len(per_window) >= 48


# -- through a BinanceSession -----------------------------------------------------------------


def test_session_paces_the_61st_repay_into_the_next_window(requests_mock, fake_clock, caplog):
    caplog.set_level(logging.INFO, logger=RATELIMIT_LOGGER)
    serve_time(requests_mock, fake_clock)
    repay = requests_mock.post(REPAY_URL, json=REPAY_OK)
    client = make_client(fake_clock)
    fake_clock.advance(30)
    for _ in range(60):
        client.repay(1, "USDT", "1")
    assert fake_clock.sleeps == []
    client.repay(1, "USDT", "1")
    assert repay.call_count == 61
    assert len(fake_clock.sleeps) == 1 and 30 < fake_clock.sleeps[0] < 30.2
    assert pacer_logs(caplog) == [f"UID weight 180000/180000 on repay; waiting {fake_clock.sleeps[0]:.1f} s"]


def test_session_budgets_are_independent_per_api_key(requests_mock, fake_clock):
    serve_time(requests_mock, fake_clock)
    requests_mock.post(REPAY_URL, json=REPAY_OK)
    pacer = WeightPacer(fake_clock)
    first = make_client(fake_clock, pacer=pacer, api_key="KeyOne")
    second = make_client(fake_clock, pacer=pacer, api_key="KeyTwo")
    for _ in range(60):
        first.repay(1, "USDT", "1")
    second.repay(1, "USDT", "1")
    assert fake_clock.sleeps == []


def test_used_weight_header_raises_the_local_count(requests_mock, fake_clock):
    serve_time(requests_mock, fake_clock)
    ltv = requests_mock.get(
        LTV_URL,
        [
            {"json": [], "headers": {"X-SAPI-USED-IP-WEIGHT-1M": "11900"}},
            {"json": [], "headers": {"X-SAPI-USED-IP-WEIGHT-1M": "200"}},
        ],
    )
    client = make_client(fake_clock)
    client.ltv_details()
    key = limit_key(ep.LTV_DETAILS, BASE, "ignored")
    pacer = client.session.pacer
    assert pacer.used(key, client.session.server_time.server_now()) == 11900
    client.ltv_details()  # 11900 + 200 > 12000: must wait for the next window
    assert ltv.call_count == 2
    assert len(fake_clock.sleeps) == 1 and 59.9 < fake_clock.sleeps[0] < 60.1
    # a lower header never lowers the local count
    assert pacer.used(key, client.session.server_time.server_now()) == 200


def test_uid_header_is_read_for_uid_endpoints(requests_mock, fake_clock):
    serve_time(requests_mock, fake_clock)
    requests_mock.post(REPAY_URL, json=REPAY_OK, headers={"X-SAPI-USED-UID-WEIGHT-1M": "150000"})
    client = make_client(fake_clock)
    client.repay(1, "USDT", "1")
    key = limit_key(ep.REPAY, BASE, client.session._api_key)
    assert client.session.pacer.used(key, client.session.server_time.server_now()) == 150000


@pytest.mark.parametrize(
    ("status", "headers", "wait"),
    [(429, {"Retry-After": "7"}, 7.0), (418, {"Retry-After": "120"}, 120.0), (429, {}, 60.0)],
)
def test_429_and_418_block_the_key_then_the_call_is_retried(requests_mock, fake_clock, caplog, status, headers, wait):
    caplog.set_level(logging.INFO)
    serve_time(requests_mock, fake_clock)
    fake_clock.advance(55)  # the block ends after the window boundary
    repay = requests_mock.post(
        REPAY_URL,
        [
            {"status_code": status, "headers": headers, "json": {"code": -1003, "msg": "Too many requests."}},
            {"json": REPAY_OK},
        ],
    )
    client = make_client(fake_clock)
    result = client.repay(1, "USDT", "1")
    assert result.transaction_id == "1"
    assert repay.call_count == 2
    assert fake_clock.sleeps == [pytest.approx(wait)]
    assert f"UID weight on repay blocked by Binance (429/418); waiting {wait:.1f} s" in pacer_logs(caplog)
    assert "rate-limited (Too many requests.); will retry after the wait" in caplog.text


def test_429_wait_beyond_the_bound_raises(requests_mock, fake_clock):
    serve_time(requests_mock, fake_clock)
    repay = requests_mock.post(
        REPAY_URL, status_code=429, headers={"Retry-After": "30"}, json={"code": -1003, "msg": "Too many requests."}
    )
    client = make_client(fake_clock, pacer=WeightPacer(fake_clock, max_wait_seconds=5))
    with pytest.raises(RateLimitError, match=r"blocked by Binance \(429/418\); the next slot is 30.0 s away, "
                       r"beyond the max wait of 5 s") as info:
        client.repay(1, "USDT", "1")
    assert info.value.retry_after == pytest.approx(30.0)
    assert repay.call_count == 1
    assert fake_clock.sleeps == []


def test_repeated_429_gives_up_after_the_retry_budget(requests_mock, fake_clock):
    serve_time(requests_mock, fake_clock)
    ltv = requests_mock.get(LTV_URL, status_code=429, headers={"Retry-After": "1"}, json={"code": -1003, "msg": "x"})
    with pytest.raises(RateLimitError) as info:
        make_client(fake_clock).ltv_details()
    assert info.value.http_status == 429
    assert ltv.call_count == 4  # first try + rate_limit_retries (3)


def test_declared_weight_above_the_limit_fails_before_sending(requests_mock, fake_clock):
    serve_time(requests_mock, fake_clock)
    route = requests_mock.get(f"{BASE}/sapi/v1/some/endpoint", json={})
    client = make_client(fake_clock)
    with pytest.raises(RateLimitError, match="weight 12001 exceeds the limit 12000"):
        client.signed_request("GET", "/sapi/v1/some/endpoint", weight=12001)
    assert route.call_count == 0
    assert fake_clock.sleeps == []


def test_session_with_injected_clock_paces_on_that_clock(requests_mock, fake_clock, monkeypatch):
    from airflow_binance_loan.client.session import BinanceSession
    from airflow_binance_loan.client.signing import HmacSigner

    real_sleeps: list[float] = []
    monkeypatch.setattr("airflow_binance_loan.client.clock.time.sleep", real_sleeps.append)
    serve_time(requests_mock, fake_clock)
    requests_mock.post(REPAY_URL, json=REPAY_OK)
    # a unique key so the process-wide pacer's state cannot leak into other tests
    session = BinanceSession("InjectedClockKey", HmacSigner("s3cret"), clock=fake_clock)
    from airflow_binance_loan.client.loan_api import LoanClient

    client = LoanClient(session)
    for _ in range(61):
        client.repay(1, "USDT", "1")
    assert real_sleeps == []
    assert len(fake_clock.sleeps) == 1
