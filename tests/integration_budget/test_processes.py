"""Real OS processes against the sandbox share one budget; the verdict comes from the wire (counting proxy).

Workers are separate interpreters (bench/budget_harness.py) released together on a window
boundary; the sandbox enforces Binance's limits and answers 429 when a window is exceeded,
and the proxy between them counts every status that crosses the wire.
"""

from __future__ import annotations

import math
import time
from pathlib import Path

import pytest
from budget_harness import Job, api_key, run_workers, secret

from airflow_binance_loan.client import RetryPolicy, connect
from airflow_binance_loan.client import endpoints as ep
from airflow_binance_loan.client.budgets import FileBudgetStore, MemoryBudgetStore
from airflow_binance_loan.client.ratelimit import WeightPacer, limit_key

LTV_PATH = ep.LTV_DETAILS.path
WINDOW = 1.0
HEADER_WINDOW = 2.0  # 61 calls must fit in one window even on a busy machine


def budget_for(kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return f"host:{tmp_path / 'budgets'}" if kind == "host" else request.getfixturevalue("redis_url")


@pytest.mark.parametrize("kind", ["host", "redis"])
def test_processes_share_one_budget_and_never_exceed_it(kind, request, tmp_path, proxied_sandbox):
    server, proxy = proxied_sandbox(6, window_seconds=WINDOW)
    budget = budget_for(kind, request, tmp_path)
    # 3 processes x 2 accounts x 15 ltv-details (200 IP each) = 18000 weight: 1.5 windows of 12000
    jobs = [Job(base_url=proxy.url, window_seconds=WINDOW, budget=budget, accounts=[n, n + 3],
                actions=["ltv"] * 15) for n in range(3)]

    start, results = run_workers(jobs, align_to=WINDOW)

    assert [r.failures for r in results] == [[], [], []]
    ltv = [e for e in proxy.snapshot() if e.path == LTV_PATH]
    assert [e.status for e in ltv].count(429) == 0, "the sandbox refused weight: the budget was exceeded"
    assert len(ltv) == 90 and {e.status for e in ltv} == {200}
    assert server.endpoint_counts["ltv_details"] == 90  # the sandbox saw exactly those, nothing resent
    # the budget was binding: the last third had to wait for the next window
    windows = {math.floor(e.at / WINDOW) for e in ltv}
    assert len(windows) >= 2
    assert max(r.end for r in results) - start >= WINDOW * 0.9


@pytest.mark.parametrize("kind", ["host", "redis"])
def test_a_429_seen_by_one_process_blocks_the_others_until_retry_after(kind, request, tmp_path, proxied_sandbox):
    server, proxy = proxied_sandbox(2, window_seconds=60.0)
    server.set_faults([{"endpoint": "ltv_details", "action": "reject_429", "nth": [1], "seconds": 1}])
    budget = budget_for(kind, request, tmp_path)
    # the worker's first ltv-details gets 429 (Retry-After 1); with no wait allowed it gives up at once
    [result] = run_workers([Job(base_url=proxy.url, window_seconds=60.0, budget=budget, accounts=[0],
                                actions=["ltv"], max_weight_wait=0.0)], align_to=0.05)[1]
    assert len(result.failures) == 1 and "blocked by Binance (429/418)" in result.failures[0]
    [refused] = [e for e in proxy.snapshot() if e.status == 429]

    # another process (here: this one, a different account) on the same store waits out the block
    client = connect(api_key(1), secret(1), base_url=proxy.url, budget_store=budget,
                     retry_policy=RetryPolicy(rate_limit_retries=0))
    client.ltv_details()

    answered = [e for e in proxy.snapshot() if e.path == LTV_PATH and e.status == 200]
    assert len(answered) == 1 and proxy.statuses()[429] == 1
    assert answered[0].at - refused.at >= 0.95  # not before Retry-After


def test_the_servers_header_corrects_the_shared_count(tmp_path, proxied_sandbox):
    """Weight spent behind our back (another machine on the same IP) reaches every sharer via the header.

    The rule itself is store-independent (observe); the store contract covers it for Redis too.
    """
    _server, proxy = proxied_sandbox(3, window_seconds=HEADER_WINDOW)
    first_store, second_store = FileBudgetStore(tmp_path), FileBudgetStore(tmp_path)  # as two processes
    elsewhere = connect(api_key(0), secret(0), base_url=proxy.url, window_seconds=HEADER_WINDOW,
                        budget_store=MemoryBudgetStore())  # another machine behind the same IP
    sharer = connect(api_key(1), secret(1), base_url=proxy.url, window_seconds=HEADER_WINDOW, budget_store=first_store)
    late = connect(api_key(2), secret(2), base_url=proxy.url, window_seconds=HEADER_WINDOW, budget_store=second_store)
    for client in (elsewhere, sharer, late):
        client.session.sync_time()
    time.sleep(HEADER_WINDOW - time.time() % HEADER_WINDOW + 0.02)  # a fresh window

    for _ in range(55):
        elsewhere.ltv_details()  # 11000 weight our stores never saw
    sharer.ltv_details()  # its answer says 11200: the shared count is raised to that
    key = limit_key(ep.LTV_DETAILS, proxy.url, "")
    pacer = WeightPacer(store=second_store, window_seconds=HEADER_WINDOW)
    assert pacer.used(key, late.session.server_time.server_now()) == 11200
    for _ in range(5):  # 4 fit (12000); the 5th waits for the next window instead of a 429
        late.ltv_details()

    assert proxy.statuses()[429] == 0
    ltv = [e for e in proxy.snapshot() if e.path == LTV_PATH]
    assert len(ltv) == 61
    assert math.floor(ltv[-1].at / HEADER_WINDOW) == math.floor(ltv[-2].at / HEADER_WINDOW) + 1
