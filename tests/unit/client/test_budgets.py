"""The pacer over an injected budget store: sharing, header correction, blocks, store selection (fake clock)."""

from __future__ import annotations

import logging
import os
import signal
import tempfile
import threading
import time

import pytest

from airflow_binance_loan.client import connect
from airflow_binance_loan.client import endpoints as ep
from airflow_binance_loan.client.budgets import (
    HOST,
    PROCESS,
    BudgetSpec,
    FailoverStore,
    FileBudgetStore,
    MemoryBudgetStore,
    default_host_directory,
    open_budget_store,
    parse_budget_spec,
    process_store,
    spec,
)
from airflow_binance_loan.client.budgets.forksafe import ForkSafeLock
from airflow_binance_loan.client.ratelimit import WeightPacer, limit_key
from airflow_binance_loan.client.session import BinanceSession
from airflow_binance_loan.client.signing import HmacSigner
from airflow_binance_loan.exceptions import ConfigurationError
from airflow_binance_loan.hooks.connection_config import ConnectionConfig, config_from_connection

from ..fakes import API_KEY, BASE, LTV_URL, make_client, serve_time

RATELIMIT_LOGGER = "airflow_binance_loan.client.ratelimit"


def now_ms(clock):
    return lambda: clock.time() * 1000.0


class RecordingStore:
    """A duck-typed test double: any object with the five methods is a store."""

    def __init__(self) -> None:
        self.inner = MemoryBudgetStore()
        self.calls: list[str] = []

    def reserve(self, key, window, weight, limit, now_ms, settle_until_ms=0.0):
        self.calls.append("reserve")
        return self.inner.reserve(key, window, weight, limit, now_ms, settle_until_ms)

    def release(self, key, window, weight):
        self.calls.append("release")
        self.inner.release(key, window, weight)

    def observe(self, key, window, server_used):
        self.calls.append("observe")
        self.inner.observe(key, window, server_used)

    def block(self, key, until_ms):
        self.calls.append("block")
        self.inner.block(key, until_ms)

    def used(self, key, window):
        return self.inner.used(key, window)


class BrokenStore(RecordingStore):
    """Reserves fine, then fails on everything that happens after a request was sent."""

    def release(self, *args):
        raise OSError("disk gone")

    observe = block = release


# -- pacers sharing one store ------------------------------------------------------------------------


def test_two_pacers_on_one_store_share_the_budget(fake_clock):
    store = MemoryBudgetStore()
    first, second = WeightPacer(fake_clock, store=store), WeightPacer(fake_clock, store=store)
    key = limit_key(ep.LTV_DETAILS, BASE, API_KEY)
    fake_clock.advance(10)
    for _ in range(30):
        first.acquire(key, 200, 12000, now_ms(fake_clock))
        second.acquire(key, 200, 12000, now_ms(fake_clock))
    assert fake_clock.sleeps == []
    second.acquire(key, 200, 12000, now_ms(fake_clock))
    assert fake_clock.sleeps == [pytest.approx(50.015)]


def test_threads_on_a_file_store_never_exceed_the_limit(fake_clock, tmp_path):
    pacer = WeightPacer(fake_clock, store=FileBudgetStore(tmp_path), max_wait_seconds=10_000)
    key = limit_key(ep.LTV_DETAILS, BASE, API_KEY)
    per_window: dict[int, int] = {}
    lock = threading.Lock()

    def worker():
        for _ in range(20):
            r = pacer.acquire(key, 300, 3000, now_ms(fake_clock))
            with lock:
                per_window[r.window] = per_window.get(r.window, 0) + r.weight

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(per_window.values()) == 6 * 20 * 300
    assert max(per_window.values()) <= 3000


def test_a_header_seen_by_one_pacer_makes_the_other_wait(fake_clock):
    store = MemoryBudgetStore()
    first, second = WeightPacer(fake_clock, store=store), WeightPacer(fake_clock, store=store)
    key = limit_key(ep.LTV_DETAILS, BASE, API_KEY)
    reservation = first.acquire(key, 200, 12000, now_ms(fake_clock))
    first.observe(reservation, 11900, fake_clock.time() * 1000)
    second.acquire(key, 200, 12000, now_ms(fake_clock))
    assert fake_clock.sleeps == [pytest.approx(60.015)]


def test_a_block_recorded_by_one_pacer_holds_the_other_to_the_millisecond(fake_clock, caplog):
    caplog.set_level(logging.INFO, logger=RATELIMIT_LOGGER)
    store = MemoryBudgetStore()
    first, second = WeightPacer(fake_clock, store=store), WeightPacer(fake_clock, store=store)
    key = limit_key(ep.REPAY, BASE, API_KEY)
    first.block(key, 0.257, 180000, fake_clock.time() * 1000)
    second.acquire(key, 3000, 180000, now_ms(fake_clock))
    assert fake_clock.sleeps == [pytest.approx(0.257, abs=1e-6)]
    assert "UID weight on repay blocked by Binance (429/418); waiting 0.3 s" in caplog.messages


def test_window_lengths_do_not_share_counts(fake_clock):
    store = MemoryBudgetStore()
    minute, sandbox = WeightPacer(fake_clock, store=store), WeightPacer(fake_clock, store=store, window_seconds=2)
    key = limit_key(ep.LTV_DETAILS, BASE, API_KEY)
    minute.acquire(key, 12000, 12000, now_ms(fake_clock))
    sandbox.acquire(key, 12000, 12000, now_ms(fake_clock))
    assert fake_clock.sleeps == []
    assert minute.store_key(key) != sandbox.store_key(key)
    assert API_KEY not in minute.store_key(limit_key(ep.REPAY, BASE, API_KEY))


def test_a_pacer_one_window_behind_does_not_reset_the_shared_window(fake_clock):
    store = MemoryBudgetStore()
    key = limit_key(ep.LTV_DETAILS, BASE, API_KEY)
    ahead = WeightPacer(fake_clock, store=store)
    fake_clock.advance(60)  # the next window
    ahead.acquire(key, 12000, 12000, now_ms(fake_clock))
    behind = WeightPacer(fake_clock, store=store)
    late = lambda: fake_clock.time() * 1000 - 3  # noqa: E731 - this process's server time is 3 ms late
    behind.acquire(key, 200, 12000, late)
    assert fake_clock.sleeps == [pytest.approx(60.018)]  # waited for the window after the shared one


def test_first_into_a_window_after_a_full_one_waits_for_the_guard(fake_clock):
    store = MemoryBudgetStore()
    key = limit_key(ep.LTV_DETAILS, BASE, API_KEY)
    WeightPacer(fake_clock, store=store).acquire(key, 12000, 12000, now_ms(fake_clock))
    fake_clock.advance(60.001)  # 1 ms into the next window by this process's estimate of server time
    newcomer = WeightPacer(fake_clock, store=store)
    newcomer.acquire(key, 200, 12000, now_ms(fake_clock), extra_guard_ms=2)
    # the server may still be in the full window: wait until boundary + 15 ms guard + 2 ms uncertainty
    assert fake_clock.sleeps == [pytest.approx(0.016)]
    newcomer.acquire(key, 200, 12000, now_ms(fake_clock))
    assert len(fake_clock.sleeps) == 1


def test_first_into_a_window_after_a_roomy_one_goes_at_once(fake_clock):
    store = MemoryBudgetStore()
    key = limit_key(ep.LTV_DETAILS, BASE, API_KEY)
    WeightPacer(fake_clock, store=store).acquire(key, 11800, 12000, now_ms(fake_clock))
    fake_clock.advance(60.001)
    WeightPacer(fake_clock, store=store).acquire(key, 200, 12000, now_ms(fake_clock))
    assert fake_clock.sleeps == []


def test_store_failures_after_sending_never_raise(fake_clock, caplog):
    caplog.set_level(logging.WARNING, logger=RATELIMIT_LOGGER)
    pacer = WeightPacer(fake_clock, store=BrokenStore())
    key = limit_key(ep.REPAY, BASE, API_KEY)
    reservation = pacer.acquire(key, 3000, 180000, now_ms(fake_clock))
    pacer.observe(reservation, 6000, fake_clock.time() * 1000)
    pacer.block(key, 1.0, 180000, fake_clock.time() * 1000)
    pacer.release(reservation, fake_clock.time() * 1000)
    assert len(caplog.records) == 3 and all("disk gone" in r.getMessage() for r in caplog.records)


# -- choosing the store in a session -----------------------------------------------------------------


def test_a_duck_typed_store_is_used_through_the_session(requests_mock, fake_clock):
    serve_time(requests_mock, fake_clock)
    requests_mock.get(LTV_URL, json=[], headers={"X-SAPI-USED-IP-WEIGHT-1M": "400"})
    store = RecordingStore()
    session = connect(API_KEY, "s3cret", BASE, clock=fake_clock, budget_store=store).session
    from airflow_binance_loan.client.loan_api import LoanClient

    LoanClient(session).ltv_details()
    assert session.pacer.store is store
    assert store.calls == ["reserve", "reserve", "observe"]  # server time, then ltv-details and its header


def test_session_default_is_this_process_and_text_specs_open_once(tmp_path):
    default = BinanceSession(API_KEY, HmacSigner("s3cret"))
    assert default.pacer.store is process_store()
    one = connect(API_KEY, "s3cret", budget_store=f"host:{tmp_path}").session
    two = connect(API_KEY, "s3cret", budget_store=f"host:{tmp_path}").session
    assert isinstance(one.pacer.store, FileBudgetStore) and one.pacer.store is two.pacer.store
    assert one.pacer.store.directory == tmp_path
    explicit = WeightPacer()
    assert connect(API_KEY, "s3cret", pacer=explicit, budget_store="process").session.pacer is explicit


def test_session_window_is_passed_to_its_pacer(fake_clock):
    session = make_client(fake_clock).session
    assert session.pacer.window_ms == 60000
    sandbox = connect(API_KEY, "s3cret", window_seconds=2, budget_store="process").session
    assert sandbox.pacer.window_ms == 2000


def test_default_host_store_is_private_to_the_user(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    monkeypatch.setattr(spec, "_opened", {})
    store = open_budget_store("host")
    assert isinstance(store, FileBudgetStore)
    assert store.directory == default_host_directory() == tmp_path / f"binance_loan_budgets-{os.getuid()}"
    assert oct(store.directory.stat().st_mode & 0o777) == "0o700"


def test_a_redis_spec_opens_a_failover_store(monkeypatch):
    pytest.importorskip("redis")
    monkeypatch.setattr(spec, "_opened", {})
    store = open_budget_store("redis://:pw@127.0.0.1:1/0")
    assert isinstance(store, FailoverStore) and store.fallback is process_store()
    assert "pw" not in repr(store)


# -- parsing the setting -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, HOST),
        ("", HOST),
        ("process", PROCESS),
        (" Host ", HOST),
        ("host:/var/lib/airflow/budgets/", BudgetSpec("host", "/var/lib/airflow/budgets")),
        ("redis://redis.internal:6379/2", BudgetSpec("redis", "redis://redis.internal:6379/2")),
        ("rediss://user:pw@redis.internal/0", BudgetSpec("redis", "rediss://user:pw@redis.internal/0")),
    ],
)
def test_valid_settings(value, expected):
    assert parse_budget_spec(value) == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("machine", "weight_budget='machine' must be 'process', 'host', 'host:/absolute/dir' or a redis://"),
        ("host:relative/dir", "must name an absolute directory"),
        ("redis://:pw@/0", "weight_budget='redis://:***@/0' has no host"),
        ("redis://r:70000/0", "has an invalid port"),
        ("redis://r:6379/x", "has an invalid database number"),
        ("memcached://m:11211", "must be 'process'"),
        (3, "weight_budget=3 must be"),
    ],
)
def test_invalid_settings_name_the_field_and_the_value(value, message):
    with pytest.raises(ConfigurationError, match="weight_budget") as info:
        parse_budget_spec(value)
    assert message in str(info.value)
    assert "pw" not in str(info.value).replace("***", "")


def test_a_redis_password_never_shows():
    parsed = parse_budget_spec("redis://app:S3cretPw@redis.internal:6379/0")
    assert str(parsed) == "redis://app:***@redis.internal:6379/0"
    assert "S3cretPw" not in repr(parsed)
    in_query = parse_budget_spec("redis://redis.internal:6379/0?password=S3cretPw&socket_timeout=2")
    assert str(in_query) == "redis://redis.internal:6379/0?password=***&socket_timeout=2"


def conn(extra):
    return config_from_connection(conn_id="binance_credit_1", login="key", password="secret", host=None, port=None,
                                  extra=extra)


def test_connection_extra_weight_budget():
    assert conn({}).weight_budget == HOST == ConnectionConfig("k", "s").weight_budget
    assert conn({"weight_budget": "process"}).weight_budget == PROCESS
    config = conn({"weight_budget": "redis://:S3cretPw@redis:6379/0"})
    assert config.weight_budget.kind == "redis" and "S3cretPw" not in repr(config)
    with pytest.raises(ConfigurationError, match=r"connection 'binance_credit_1': extra weight_budget='nope' must be"):
        conn({"weight_budget": "nope"})


# -- fork safety -------------------------------------------------------------------------------------


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_lock_held_by_another_thread_at_fork_is_free_in_the_child():
    lock = ForkSafeLock()
    held, release = threading.Event(), threading.Event()

    def hold():
        with lock:
            held.set()
            release.wait(5)

    thread = threading.Thread(target=hold)
    thread.start()
    held.wait(5)
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        with lock:
            os._exit(0)
    try:
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                assert os.waitstatus_to_exitcode(status) == 0
                break
            time.sleep(0.01)
        else:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            pytest.fail("the child deadlocked on a lock held at fork time")
    finally:
        release.set()
        thread.join()
