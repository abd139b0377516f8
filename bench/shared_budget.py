"""Shared weight budgets across worker processes: 429s at the wire, wall time against the weight floor.

The month-end workload (each of K credit accounts: ltv-details 200 IP + repay 3000 UID + one
records read 10 IP) is split over W separate OS processes that start together on a window
boundary, with the sandbox's window compressed (same ratios as Binance's 60 s). Clients talk
to the sandbox through a counting proxy, which counts the 429s that cross the wire. For each
weight_budget store (process, host, redis) and W = 1, 2, 4, 8 it prints: the 429s at the
proxy, the wall time, the weight floor (largest Σweight/limit × window over all limit keys,
from the requests that crossed the wire), their ratio, failures, and how many accounts the
sandbox's records show repaid exactly once.

Usage: python bench/shared_budget.py [--accounts 120 360] [--window-seconds 2] [--workers 1 2 4 8]
                                     [--stores process host redis] [--redis-url redis://...]
                                     [--start boundary|any]
Without --redis-url a throw-away redis-server is started (skipped with a note if none is installed).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

from binance_loan_sandbox import SandboxServer
from budget_harness import Job, RedisServer, build_state, repaid_exactly_once, run_workers, weight_floor
from counting_proxy import CountingProxy

HEADER = (f"{'K':>4} {'W':>2} {'store':<8} {'429s':>5} {'wall s':>7} {'floor s':>7} {'ratio':>6} "
          f"{'failed':>6} {'once':>9}  floor set by")


def run_once(k: int, w: int, budget: str, window: float, align: bool = True) -> dict[str, object]:
    server = SandboxServer(build_state(k), window_seconds=window)
    server.start()
    proxy = CountingProxy(("127.0.0.1", server.port))
    url = proxy.start()
    try:
        jobs = [Job(base_url=url, window_seconds=window, budget=budget, accounts=list(range(n, k, w)))
                for n in range(w)]
        start, results = run_workers(jobs, align_to=window if align else 0.001)
        wall = max(r.end for r in results) - start
        exchanges = proxy.snapshot()
        floor, floor_key = weight_floor(exchanges, window)
        return {
            "429": sum(1 for e in exchanges if e.status == 429),
            "wall": wall,
            "floor": floor,
            "floor_key": floor_key,
            "failed": sum(len(r.failures) for r in results),
            "failures": [f for r in results for f in r.failures],
            "once": repaid_exactly_once(server.state, k),
        }
    finally:
        proxy.stop()
        server.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--accounts", type=int, nargs="+", default=[120], help="K values (default 120)")
    parser.add_argument("--window-seconds", type=float, default=2.0, help="sandbox and client window (default 2)")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4, 8], help="W values (default 1 2 4 8)")
    parser.add_argument("--stores", nargs="+", default=["process", "host", "redis"],
                        choices=["process", "host", "redis"])
    parser.add_argument("--redis-url", help="use this Redis (its database is FLUSHED before each run)")
    parser.add_argument("--start", choices=["boundary", "any"], default="boundary",
                        help="release the workers on a window boundary (default, comparable runs) or at any instant")
    args = parser.parse_args()

    redis_server: RedisServer | None = None
    redis_url = args.redis_url
    stores = list(args.stores)
    if "redis" in stores and not redis_url:
        redis_server = RedisServer()
        if redis_server.available:
            redis_url = redis_server.start()
        else:
            print("note: redis-server not installed; skipping the redis store "
                  "(scripts/install_test_deps.sh installs it)")
            stores.remove("redis")
    flush = None
    if redis_url:
        import redis

        flush = redis.Redis.from_url(redis_url)

    print(f"shared weight budgets: window {args.window_seconds:g} s, start on {args.start}, {os.cpu_count()} cores, "
          f"load average before {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(HEADER)
    worst: dict[str, tuple[int, float]] = {}
    all_ok = True
    with tempfile.TemporaryDirectory(prefix="budget-bench-") as tmp:
        try:
            run_number = 0
            for k in args.accounts:
                for store in stores:
                    for w in args.workers:
                        run_number += 1
                        if store == "host":
                            budget = f"host:{Path(tmp) / f'run{run_number}'}"
                        elif store == "redis":
                            assert flush is not None and redis_url
                            flush.flushdb()
                            budget = redis_url
                        else:
                            budget = "process"
                        r = run_once(k, w, budget, args.window_seconds, args.start == "boundary")
                        ratio = float(r["wall"]) / float(r["floor"])  # type: ignore[arg-type]
                        print(f"{k:>4} {w:>2} {store:<8} {r['429']:>5} {r['wall']:>7.2f} {r['floor']:>7.2f} "
                              f"{ratio:>6.2f} {r['failed']:>6} {r['once']:>4}/{k:<4}  {r['floor_key']}", flush=True)
                        for failure in r["failures"][:3]:  # type: ignore[index]
                            print(f"      failure: {failure}")
                        if store != "process":
                            n429, worst_ratio = worst.get(store, (0, 0.0))
                            worst[store] = (n429 + int(r["429"]), max(worst_ratio, ratio))  # type: ignore[call-overload]
                            all_ok = all_ok and r["429"] == 0 and ratio <= 1.05 and r["failed"] == 0 \
                                and r["once"] == k
                        time.sleep(0.2)
        finally:
            if redis_server is not None:
                redis_server.stop()
    print(f"load average after {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    for store, (n429, worst_ratio) in worst.items():
        print(f"{store}: {n429} 429s in all, worst wall/floor {worst_ratio:.2f} (goal: 0 and <= 1.05)")
    print("goal met" if all_ok else "GOAL NOT MET")
    return 0 if all_ok else 1


if __name__ == "__main__":
    sys.exit(main())
