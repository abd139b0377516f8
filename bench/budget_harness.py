"""Shared-budget harness: K credit accounts in a sandbox, W worker OS processes that start together.

Used by ``bench/shared_budget.py`` and by ``tests/integration_budget``. A worker is this file run
as a script (``python bench/budget_harness.py``): it reads its job (JSON) on stdin, builds one
client per account with the requested ``weight_budget`` store, prints ``ready``, waits for
``go <epoch>``, sleeps until that instant, runs its accounts one after the other and prints
one JSON line with its results. Every worker is a separate interpreter, as Airflow tasks are.
"""

from __future__ import annotations

import copy
import json
import logging
import math
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from importlib import resources
from typing import Any

from binance_loan_sandbox import SandboxState

from airflow_binance_loan.client import endpoints as ep

GROUP_BASE = 50000
ACTIONS = ("ltv", "repay", "records")


def api_key(i: int) -> str:
    """Account ``i``'s (fake) API key."""
    return f"budgetkey{i:055d}"


def secret(i: int) -> str:
    """Account ``i``'s (fake) HMAC secret."""
    return f"budgetsecret{i:052d}"


def build_state(k: int) -> SandboxState:
    """A sandbox state with ``k`` credit accounts (one risk unit each, USDT owed and funded)."""
    demo = json.loads(resources.files("binance_loan_sandbox").joinpath("states/demo.json").read_text())
    template = demo["riskUnits"][0]
    units = []
    for i in range(k):
        unit = copy.deepcopy(template)
        unit["groupId"] = GROUP_BASE + i
        unit["collateral"] = []
        unit["credit"].update(name=f"budget_{i}", uid=3000000000000 + i, email=f"budget{i}@example.com",
                              apiKey=api_key(i), keyType="hmac", key=secret(i))
        units.append(unit)
    demo.update(riskUnits=units, otherAccounts=[], records=[], interestHistory=[])
    return SandboxState.from_json(demo)


@dataclass
class Job:
    """What one worker process does."""

    base_url: str
    window_seconds: float
    budget: str  # the weight_budget setting: process, host:/dir, redis://...
    accounts: list[int]
    actions: Sequence[str] = ACTIONS
    max_weight_wait: float = 60.0
    rate_limit_retries: int = 3
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class WorkerResult:
    """One worker's report."""

    done: int
    failures: list[str]
    end: float


def run_account(client: Any, i: int, actions: Iterable[str]) -> None:
    """The month-end shape for one credit account."""
    for action in actions:
        if action == "ltv":
            client.ltv_details()
        elif action == "repay":
            client.repay(GROUP_BASE + i, "USDT", "1")
        elif action == "records":
            client.borrow_repay_records("REPAY", group_id=GROUP_BASE + i, asset="USDT")
        else:
            raise ValueError(f"unknown action {action!r}")


def worker_main() -> int:
    """Entry point of a worker process (see the module docstring)."""
    from airflow_binance_loan.client import RetryPolicy, connect

    logging.disable(logging.WARNING)
    job = Job(**json.loads(sys.stdin.readline()))
    policy = RetryPolicy(rate_limit_retries=job.rate_limit_retries)
    clients = [
        (i, connect(api_key(i), secret(i), base_url=job.base_url, window_seconds=job.window_seconds,
                    budget_store=job.budget, max_weight_wait_seconds=job.max_weight_wait, retry_policy=policy))
        for i in job.accounts
    ]
    print("ready", flush=True)
    command, _, at = sys.stdin.readline().partition(" ")
    if command != "go":
        return 2
    time.sleep(max(0.0, float(at) - time.time()))
    done, failures = 0, []
    for i, client in clients:
        try:
            run_account(client, i, job.actions)
            done += 1
        except Exception as exc:
            failures.append(f"account {i}: {type(exc).__name__}: {exc}")
    print(json.dumps(asdict(WorkerResult(done, failures, time.time()))), flush=True)
    return 0


def run_workers(jobs: Sequence[Job], *, align_to: float, timeout: float = 300.0) -> tuple[float, list[WorkerResult]]:
    """Start one OS process per job, release them together on a window boundary, collect results.

    Returns the common start time (epoch seconds) and the results in job order.
    """
    procs = [
        subprocess.Popen([sys.executable, __file__], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        for _ in jobs
    ]
    try:
        for proc, job in zip(procs, jobs, strict=True):
            assert proc.stdin is not None
            proc.stdin.write(json.dumps(asdict(job)) + "\n")
            proc.stdin.flush()
        for proc in procs:
            assert proc.stdout is not None
            line = proc.stdout.readline().strip()
            if line != "ready":
                raise RuntimeError(f"worker did not get ready: {line!r}")
        start = math.ceil((time.time() + 0.2) / align_to) * align_to + 0.02
        for proc in procs:
            assert proc.stdin is not None
            proc.stdin.write(f"go {start!r}\n")
            proc.stdin.flush()
        results = []
        deadline = time.monotonic() + timeout
        for proc in procs:
            assert proc.stdout is not None
            line = proc.stdout.readline()
            if not line:
                raise RuntimeError("a worker exited without a result")
            results.append(WorkerResult(**json.loads(line)))
            proc.wait(timeout=max(1.0, deadline - time.monotonic()))
        return start, results
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()


def weight_floor(exchanges: Iterable[Any], window_seconds: float) -> tuple[float, str]:
    """The largest Σweight/limit × window over all limit keys, from what crossed the wire.

    Requests answered 429/418 are not counted (Binance adds no weight for them). Returns the
    floor in seconds and the key that sets it.
    """
    totals: dict[tuple[str, str], float] = defaultdict(float)
    for exchange in exchanges:
        endpoint = ep.BY_ROUTE.get((exchange.method, exchange.path))
        if endpoint is None or exchange.status in (429, 418):
            continue
        scope = exchange.key_hash if endpoint.limit_kind == "UID" else "ip"
        budget = "api" if endpoint.path.startswith("/api/") else endpoint.name
        totals[(budget, scope)] += endpoint.weight / endpoint.limit
    if not totals:
        return 0.0, "-"
    (budget, scope), share = max(totals.items(), key=lambda item: item[1])
    return share * window_seconds, budget if scope == "ip" else f"{budget} (one account)"


def repaid_exactly_once(state: SandboxState, k: int) -> int:
    """How many of the ``k`` accounts have exactly one confirmed repay record, judged from the sandbox's records."""
    with state.lock:
        counts: dict[int, int] = defaultdict(int)
        for record in state.records:
            if "REPAY" in record.type and record.status == "CONFIRM":
                counts[record.group_id] += 1
    return sum(1 for i in range(k) if counts[GROUP_BASE + i] == 1)


class RedisServer:
    """A throw-away ``redis-server`` on a free loopback port (no persistence); ``url`` once started."""

    def __init__(self, binary: str | None = None) -> None:
        self.binary = binary or shutil.which("redis-server")
        self.url = ""
        self._proc: subprocess.Popen[bytes] | None = None
        self._dir: tempfile.TemporaryDirectory[str] | None = None

    @property
    def available(self) -> bool:
        """True when a redis-server binary was found."""
        return self.binary is not None

    def start(self, timeout: float = 10.0) -> str:
        """Start the server and wait until it accepts connections; returns its URL."""
        if self.binary is None:
            raise RuntimeError("redis-server not found on PATH")
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        self._dir = tempfile.TemporaryDirectory(prefix="budget-redis-")
        self._proc = subprocess.Popen(
            [self.binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", self._dir.name, "--daemonize", "no", "--loglevel", "warning"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise RuntimeError(f"redis-server exited with {self._proc.returncode}")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2) as conn:
                    conn.sendall(b"PING\r\n")
                    if conn.recv(16).startswith(b"+PONG"):
                        self.url = f"redis://127.0.0.1:{port}/0"
                        return self.url
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError("redis-server did not answer PING in time")

    def stop(self) -> None:
        """Terminate the server (the one this object started) and remove its directory."""
        if self._proc is not None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
            self._proc = None
        if self._dir is not None:
            self._dir.cleanup()
            self._dir = None


if __name__ == "__main__":
    sys.exit(worker_main())
