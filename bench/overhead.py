"""Per-call overhead: the project's client vs a hand-signed plain ``requests.Session`` loop.

Both make the same signed call (GET /sapi/v1/account/apiRestrictions, weight 1) against the same
sandbox over loopback, interleaved in rounds so machine noise hits both alike.
Usage: python bench/overhead.py [CALLS_PER_ROUND] [ROUNDS]   (defaults 200 and 5)
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import statistics
import sys
import time

import requests
from binance_loan_sandbox import SandboxServer, demo_credentials, load_state

from airflow_binance_loan.client import connect
from airflow_binance_loan.client.ratelimit import WeightPacer

logging.disable(logging.WARNING)


def baseline_loop(url: str, api_key: str, secret: str, calls: int) -> float:
    session = requests.Session()
    start = time.perf_counter()
    for _ in range(calls):
        query = f"recvWindow=5000&timestamp={int(time.time() * 1000) - 100}"
        signature = hmac.new(secret.encode(), query.encode(), hashlib.sha256).hexdigest()
        response = session.get(f"{url}/sapi/v1/account/apiRestrictions?{query}&signature={signature}",
                               headers={"X-MBX-APIKEY": api_key}, timeout=(5, 15))
        response.raise_for_status()
        response.json()
    return (time.perf_counter() - start) / calls


def client_loop(client: object, calls: int) -> float:
    start = time.perf_counter()
    for _ in range(calls):
        client.api_restrictions()  # type: ignore[attr-defined]
    return (time.perf_counter() - start) / calls


def main() -> None:
    calls = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    creds = demo_credentials()["credit_hmac"]
    with SandboxServer(load_state("demo")) as server:
        client = connect(creds["apiKey"], creds["secret"], base_url=server.url, pacer=WeightPacer())
        client.api_restrictions()  # warm-up: time sync + connection
        baseline_loop(server.url, creds["apiKey"], creds["secret"], 20)
        ours, theirs = [], []
        for _ in range(rounds):
            theirs.append(baseline_loop(server.url, creds["apiKey"], creds["secret"], calls))
            ours.append(client_loop(client, calls))
    base, mine = statistics.median(theirs), statistics.median(ours)
    print(f"{os.cpu_count()} cores, {rounds} rounds x {calls} calls, median per call")
    print(f"hand-signed requests.Session : {base * 1000:.3f} ms")
    print(f"airflow_binance_loan client  : {mine * 1000:.3f} ms")
    print(f"ratio client/baseline        : {mine / base:.3f} (target <= 1.15)")


if __name__ == "__main__":
    main()
