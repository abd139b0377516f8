"""Pacing benchmark: a month-end-shaped load against the sandbox with a compressed weight window.

K credit accounts each call ltv-details (200 IP) + repay (3000 UID) + a records check (10 IP),
run with 1, 4 and 16 workers sharing one process-wide pacer. Prints the weight floor (the
physical limit: the largest sum(weight)/limit x window over all limit keys), the achieved wall
time, their ratio, the 429 count and the requests sent; then the same workload without pacing.

Usage: python bench/pacing.py [K] [WINDOW_SECONDS]   (defaults 180 and 2)
"""

from __future__ import annotations

import copy
import json
import logging
import os
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from importlib import resources
from typing import Any

from binance_loan_sandbox import SandboxServer, SandboxState

from airflow_binance_loan.client import LoanClient, RetryPolicy, connect
from airflow_binance_loan.client import endpoints as ep
from airflow_binance_loan.client.ratelimit import LimitKey, Reservation, WeightPacer
from airflow_binance_loan.client.transport import RawResponse, Transport
from airflow_binance_loan.exceptions import RateLimitError

logging.disable(logging.WARNING)


class CountingTransport(Transport):
    """Counts what really went over the wire, by HTTP status."""

    statuses: Counter[int] = Counter()
    lock = threading.Lock()

    def send(self, *args: Any, **kwargs: Any) -> RawResponse:
        raw = super().send(*args, **kwargs)
        with self.lock:
            self.statuses[raw.status] += 1
        return raw


class NoPacer(WeightPacer):
    """The naive client: never waits, ignores headers and 429 blocks."""

    def acquire(self, key: LimitKey, weight: int, limit: int, now_ms: Any, **_: Any) -> Reservation:
        return Reservation(key, 0, weight)

    def observe(self, *args: Any, **kwargs: Any) -> None:
        return None

    def block(self, *args: Any, **kwargs: Any) -> None:
        return None


def bench_state(k: int) -> SandboxState:
    demo = json.loads(resources.files("binance_loan_sandbox").joinpath("states/demo.json").read_text())
    template = demo["riskUnits"][0]
    units = []
    for i in range(k):
        unit = copy.deepcopy(template)
        unit["groupId"] = 50000 + i
        unit["collateral"] = []
        credit = unit["credit"]
        credit.update(name=f"bench_{i}", uid=2000000000000 + i, email=f"bench{i}@example.com",
                      apiKey=f"benchkey{i:056d}", keyType="hmac", key=f"benchsecret{i:053d}")
        units.append(unit)
    demo["riskUnits"] = units
    demo["otherAccounts"] = []
    return SandboxState.from_json(demo)


def workload(client: LoanClient, group_id: int) -> None:
    client.ltv_details()
    client.repay(group_id, "USDT", "1")
    client.borrow_repay_records("REPAY", group_id=group_id, asset="USDT")


def floor_seconds(k: int, window: float) -> float:
    per_key = [
        k * ep.LTV_DETAILS.weight / ep.LTV_DETAILS.limit,
        k * ep.BORROW_REPAY_RECORDS.weight / ep.BORROW_REPAY_RECORDS.limit,
        k * ep.SERVER_TIME.weight / ep.SERVER_TIME.limit,
        ep.REPAY.weight / ep.REPAY.limit,  # one repay per credit account (UID key)
    ]
    return max(per_key) * window


def run(k: int, window: float, concurrency: int, paced: bool) -> dict[str, Any]:
    server = SandboxServer(bench_state(k), window_seconds=window)
    server.start()
    CountingTransport.statuses = Counter()
    pacer: WeightPacer = WeightPacer(window_seconds=window, max_wait_seconds=60) if paced else NoPacer()
    policy = RetryPolicy(rate_limit_retries=5 if paced else 0)
    clients = [
        (connect(f"benchkey{i:056d}", f"benchsecret{i:053d}", base_url=server.url, pacer=pacer,
                 window_seconds=window, retry_policy=policy, transport=CountingTransport()), 50000 + i)
        for i in range(k)
    ]
    # Start on a fresh window boundary so runs are comparable.
    time.sleep(window - (time.time() % window) + 0.02)
    failures = 0
    start = time.monotonic()
    with ThreadPoolExecutor(concurrency) as pool:
        for future in [pool.submit(workload, c, g) for c, g in clients]:
            try:
                future.result()
            except RateLimitError:
                failures += 1
    wall = time.monotonic() - start
    server.stop()
    statuses = CountingTransport.statuses
    return {"wall": wall, "429": statuses[429], "sent": sum(statuses.values()), "failed": failures}


def main() -> None:
    k = int(sys.argv[1]) if len(sys.argv) > 1 else 180
    window = float(sys.argv[2]) if len(sys.argv) > 2 else 2.0
    floor = floor_seconds(k, window)
    print(f"K={k} credit accounts, window={window:g} s, {os.cpu_count()} cores; weight floor {floor:.2f} s")
    print(f"{'mode':<8} {'conc':>4} {'floor s':>8} {'wall s':>7} {'ratio':>6} {'429s':>5} {'sent':>5} {'failed':>6}")
    worst = 0.0
    for paced in (True, False):
        for concurrency in (1, 4, 16):
            r = run(k, window, concurrency, paced)
            ratio = r["wall"] / floor
            if paced:
                worst = max(worst, ratio)
            print(f"{'paced' if paced else 'naive':<8} {concurrency:>4} {floor:>8.2f} {r['wall']:>7.2f} {ratio:>6.2f} "
                  f"{r['429']:>5} {r['sent']:>5} {r['failed']:>6}")
    print(f"worst paced ratio {worst:.2f} (target <= 1.10 with zero 429s)")


if __name__ == "__main__":
    main()
