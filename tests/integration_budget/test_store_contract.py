"""One contract, three stores: memory, files (machine-wide) and Redis (cluster-wide, a real redis-server).

The same rules (base.apply_*) run in Python for memory and files and in Lua for Redis; these
tests pin them down for all three, then check what is particular to each store.
"""

from __future__ import annotations

import logging
import os
import socket
import stat
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from airflow_binance_loan.client.budgets import (
    BudgetStore,
    BudgetStoreUnavailable,
    FailoverStore,
    FileBudgetStore,
    MemoryBudgetStore,
    RedisBudgetStore,
)
from airflow_binance_loan.client.budgets.file_store import RECORD
from airflow_binance_loan.exceptions import ConfigurationError

KEY = "60000ms|IP|ltv_details|ip:https://api.binance.com"
OTHER = "60000ms|UID|repay|key:0123456789abcdef"
W = 28_333_334  # a window index (60 s windows around 2023-11)
NOW = W * 60_000.0 + 1_000.0


@pytest.fixture(params=["memory", "file", "redis"])
def store_pair(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[BudgetStore, BudgetStore]]:
    """Two handles on one budget: for files and Redis, two independent store objects (as two processes)."""
    if request.param == "memory":
        store = MemoryBudgetStore()
        yield store, store
    elif request.param == "file":
        yield FileBudgetStore(tmp_path / "budgets"), FileBudgetStore(tmp_path / "budgets")
    else:
        url = request.getfixturevalue("redis_url")
        first, second = RedisBudgetStore(url), RedisBudgetStore(url)
        yield first, second
        first.close()
        second.close()


@pytest.fixture
def store(store_pair: tuple[BudgetStore, BudgetStore]) -> BudgetStore:
    return store_pair[0]


def test_reserves_until_the_limit_then_refuses(store):
    for n in range(1, 61):
        slot = store.reserve(KEY, W, 200, 12000, NOW)
        assert slot.granted and slot.window == W and slot.used == 200 * n
    refused = store.reserve(KEY, W, 200, 12000, NOW)
    assert not refused.granted and refused.used == 12000 and refused.window == W
    assert store.used(KEY, W) == 12000
    assert store.used(KEY, W + 1) == 0


def test_a_new_window_starts_empty_and_keys_are_independent(store):
    store.reserve(KEY, W, 12000, 12000, NOW)
    assert store.reserve(OTHER, W, 3000, 180000, NOW).granted
    slot = store.reserve(KEY, W + 1, 200, 12000, NOW + 60_000)
    assert slot.granted and slot.window == W + 1 and slot.used == 200


def test_a_caller_one_window_behind_counts_in_the_newer_window(store):
    store.reserve(KEY, W + 1, 11900, 12000, NOW + 60_000)
    # another process's estimate of server time is a few ms late: it must not reset the window
    slot = store.reserve(KEY, W, 200, 12000, NOW + 59_995)
    assert not slot.granted and slot.window == W + 1 and slot.used == 11900
    assert store.reserve(KEY, W, 100, 12000, NOW + 59_995).window == W + 1
    assert store.used(KEY, W + 1) == 12000


def test_a_record_from_a_clock_that_jumped_ahead_is_reset(store):
    store.reserve(KEY, W + 100, 12000, 12000, NOW + 6_000_000)
    slot = store.reserve(KEY, W, 200, 12000, NOW)
    assert slot.granted and slot.window == W and slot.used == 200


def test_first_into_a_new_window_waits_to_settle_only_after_a_full_one(store):
    boundary = (W + 1) * 60_000.0
    store.reserve(KEY, W, 11900, 12000, NOW)
    early = store.reserve(KEY, W + 1, 200, 12000, boundary + 1, settle_until_ms=boundary + 15)
    assert not early.granted and early.window == W and early.used == 11900  # nothing reset
    assert store.used(KEY, W) == 11900
    settled = store.reserve(KEY, W + 1, 200, 12000, boundary + 15, settle_until_ms=boundary + 15)
    assert settled.granted and settled.window == W + 1 and settled.used == 200
    store.reserve(OTHER, W, 3000, 180000, NOW)  # room left in the old window: no wait
    assert store.reserve(OTHER, W + 1, 3000, 180000, boundary + 1, settle_until_ms=boundary + 15).granted


def test_release_gives_back_in_the_same_window_only_and_never_below_zero(store):
    store.reserve(KEY, W, 400, 12000, NOW)
    store.release(KEY, W, 200)
    assert store.used(KEY, W) == 200
    store.release(KEY, W, 1000)
    assert store.used(KEY, W) == 0
    store.reserve(KEY, W + 1, 200, 12000, NOW + 60_000)
    store.release(KEY, W, 200)  # a stale window: ignored
    assert store.used(KEY, W + 1) == 200


def test_observe_raises_the_count_and_never_lowers_it(store):
    store.reserve(KEY, W, 200, 12000, NOW)
    store.observe(KEY, W, 11_400)
    assert store.used(KEY, W) == 11_400
    store.observe(KEY, W, 600)
    assert store.used(KEY, W) == 11_400
    store.observe(KEY, W - 1, 12_000)  # a header about an older window: ignored
    assert store.used(KEY, W) == 11_400
    store.observe(KEY, W + 1, 800)  # a newer window is adopted with the server's count
    assert store.used(KEY, W + 1) == 800


def test_block_keeps_sub_second_precision_and_only_ever_extends(store):
    until = NOW + 1_234.567
    store.block(KEY, until)
    slot = store.reserve(KEY, W, 200, 12000, NOW)
    assert not slot.granted and slot.blocked_until_ms == pytest.approx(until, abs=0.001)
    assert slot.used == 0
    store.block(KEY, NOW + 500.0)  # a shorter block never shortens a longer one
    assert not store.reserve(KEY, W, 200, 12000, until - 0.01).granted
    assert store.reserve(KEY, W, 200, 12000, until).granted


def test_two_handles_see_one_budget(store_pair):
    first, second = store_pair
    for _ in range(59):
        assert first.reserve(KEY, W, 200, 12000, NOW).granted
    assert second.reserve(KEY, W, 200, 12000, NOW).granted
    assert not first.reserve(KEY, W, 200, 12000, NOW).granted
    second.block(OTHER, NOW + 750.5)
    assert first.reserve(OTHER, W, 3000, 180000, NOW).blocked_until_ms == pytest.approx(NOW + 750.5)


# -- files -------------------------------------------------------------------------------------------


def test_file_names_are_hashes_and_hold_one_small_record(tmp_path):
    store = FileBudgetStore(tmp_path)
    store.reserve(OTHER, W, 3000, 180000, NOW)
    [path] = list(tmp_path.iterdir())
    assert path == store.path_of(OTHER)
    assert "repay" not in path.name and "0123456789abcdef" not in path.name
    assert path.stat().st_size == RECORD.size
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_a_corrupt_file_counts_as_an_empty_budget(tmp_path):
    store = FileBudgetStore(tmp_path)
    store.path_of(KEY).write_bytes(b"garbage that is not a budget record")
    assert store.used(KEY, W) == 0
    assert store.reserve(KEY, W, 200, 12000, NOW).used == 200


def test_idle_files_are_pruned_at_start_unless_blocked(tmp_path):
    store = FileBudgetStore(tmp_path)
    store.reserve(KEY, W, 200, 12000, NOW)
    store.block(OTHER, (time.time() + 3600) * 1000.0)  # a long ban still in force
    old = time.time() - 2 * 86400
    for key in (KEY, OTHER):
        os.utime(store.path_of(key), (old, old))
    FileBudgetStore(tmp_path)
    assert not store.path_of(KEY).exists()
    assert store.path_of(OTHER).exists()


def test_a_directory_removed_by_a_temp_cleaner_is_made_again(tmp_path):
    store = FileBudgetStore(tmp_path / "budgets")
    store.reserve(KEY, W, 200, 12000, NOW)
    for path in (tmp_path / "budgets").iterdir():
        path.unlink()
    (tmp_path / "budgets").rmdir()
    assert store.reserve(KEY, W, 200, 12000, NOW).used == 200


def test_refuses_a_symlink_or_a_directory_others_can_write(tmp_path):
    real = tmp_path / "real"
    real.mkdir()
    (tmp_path / "link").symlink_to(real)
    with pytest.raises(ConfigurationError, match="is not a directory"):
        FileBudgetStore(tmp_path / "link")
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o777)
    with pytest.raises(ConfigurationError, match="writable by other users"):
        FileBudgetStore(shared, private=True)
    FileBudgetStore(shared)  # an explicitly chosen directory may be group-shared


def test_an_unusable_directory_is_a_configuration_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(ConfigurationError, match="weight budget directory"):
        FileBudgetStore(blocker / "budgets")


# -- Redis -------------------------------------------------------------------------------------------


def test_redis_keys_are_prefixed_and_expire(redis_url):
    import redis

    store = RedisBudgetStore(redis_url)
    store.reserve(KEY, W, 200, 12000, NOW)
    client = redis.Redis.from_url(redis_url)
    name = "binance_loan:budget:" + KEY
    assert client.hgetall(name)[b"u"] == b"200"
    assert 0 < client.pttl(name) <= 3_600_000
    now_ms = time.time() * 1000.0
    store.block(KEY, now_ms + 2 * 3_600_000)  # a 418 ban longer than the idle TTL keeps the key
    assert client.pttl(name) > 2 * 3_600_000
    client.close()
    store.close()


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_an_unreachable_redis_raises_unavailable_without_the_password():
    store = RedisBudgetStore(f"redis://:hunter2@127.0.0.1:{_closed_port()}/0", label="redis://:***@x/0",
                             timeout=0.2)
    with pytest.raises(BudgetStoreUnavailable) as info:
        store.reserve(KEY, W, 200, 12000, NOW)
    assert "hunter2" not in str(info.value) and "redis://:***@x/0" in str(info.value)


def test_failover_paces_locally_while_redis_is_down_and_returns(redis_url, caplog):
    caplog.set_level(logging.INFO, logger="airflow_binance_loan.client.ratelimit")
    clock = [0.0]
    down = RedisBudgetStore(f"redis://127.0.0.1:{_closed_port()}/0", timeout=0.2)
    fallback = MemoryBudgetStore()
    store = FailoverStore(down, fallback, retry_seconds=5, monotonic=lambda: clock[0])
    assert store.reserve(KEY, W, 200, 12000, NOW).granted
    assert store.reserve(KEY, W, 200, 12000, NOW).used == 400
    assert store.degraded and fallback.used(KEY, W) == 400
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "pacing with this process's own budgets" in warnings[0].getMessage()
    store.primary = RedisBudgetStore(redis_url)  # Redis is back
    clock[0] = 6.0
    assert store.reserve(KEY, W, 200, 12000, NOW).used == 200  # counted in Redis again
    assert not store.degraded
