"""The fault matrix: run RiskUnitRepayOperator many times under each fault, judge from sandbox records.

Shared by ``tests/reliability/test_fault_matrix.py`` (a few seeded runs per fault, in CI) and
``bench/fault_matrix.py`` (more runs, prints the figures recorded in README). Every run uses a
fresh sandbox, the real operator over real HTTP, an in-memory ledger store shared by the tries
of one simulated task instance, and is judged only from the sandbox's own records:

* duplicate: more than one repay record for the run;
* lost: a repay record exists but the run neither reported it (success with that transaction id
  and amount) nor failed saying the repay MAY HAVE EXECUTED;
* every run must end in success with correct XCom, or in a clear failure.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from airflow.sdk.exceptions import AirflowException

from airflow_binance_loan.client import WeightPacer
from airflow_binance_loan.client.clock import SystemClock
from airflow_binance_loan.operators import RiskUnitRepayOperator
from airflow_binance_loan.sandbox import SandboxServer, demo_credentials, load_state

UNIT = 10001
ACCOUNT = "credit_hmac"
CONN_ID = "binance_credit_fault_matrix"
AMOUNT = "1000.12345678"
MAX_TRIES = 3


class WorkerKilled(BaseException):
    """Stands for SIGKILL of the worker: not an Exception, so nothing in the operator catches it."""


class MemoryStore:
    """The ledger's store for one simulated task instance (an Airflow Variable in production)."""

    def __init__(self) -> None:
        self.data: dict[str, str] = {}

    def get(self, key: str) -> str | None:
        return self.data.get(key)

    def set(self, key: str, value: str) -> None:
        self.data[key] = value


class KillAt(MemoryStore):
    """Kills the 'worker' once, when the operator writes ledger state ``state``.

    ``keep=False`` kills before the write lands: killing at ``sent`` then means the repay's bytes
    left and Binance executed it, but the answer was lost with the worker.
    """

    def __init__(self, state: str, keep: bool) -> None:
        super().__init__()
        self.kill_on = state
        self.keep = keep
        self.armed = True

    def set(self, key: str, value: str) -> None:
        hit = self.armed and json.loads(value).get("state") == self.kill_on
        if not hit or self.keep:
            super().set(key, value)
        if hit:
            self.armed = False
            raise WorkerKilled(f"worker killed at ledger state {self.kill_on}")


class SkewedClock(SystemClock):
    def __init__(self, skew_seconds: float) -> None:
        self.skew = skew_seconds

    def time(self) -> float:
        return super().time() + self.skew


class FakeTI:
    dag_id, run_id, task_id, map_index = "fault_matrix", "run", "repay", -1

    def __init__(self, try_number: int) -> None:
        self.try_number = try_number
        self.xcom: dict[str, Any] = {}

    def xcom_push(self, key: str, value: Any) -> None:
        self.xcom[key] = value


@dataclass
class Fault:
    """How to break one run: sandbox fault rules, local clock skew, connection timeout, worker kill."""

    name: str
    rules: Callable[[int], list[dict[str, Any]]] = lambda seed: []
    clock_skew: float = 0.0
    timeout: float = 5.0
    kill_on: str | None = None
    keep_write: bool = False
    reruns: int = 0


FAULTS: tuple[Fault, ...] = (
    Fault("commit_then_drop", lambda s: [{"endpoint": "repay", "action": "commit_then_drop", "probability": 0.7,
                                          "seed": s}]),
    Fault("commit_then_503", lambda s: [{"endpoint": "repay", "action": "commit_then_503", "probability": 0.7,
                                         "seed": s}]),
    Fault("commit_then_1007", lambda s: [{"endpoint": "repay", "action": "commit_then_1007", "probability": 0.7,
                                          "seed": s}]),
    Fault("read_timeout", lambda s: [{"endpoint": "repay", "action": "commit_then_delay", "ms": 700,
                                      "probability": 0.7, "seed": s}], timeout=0.3),
    Fault("drop_before_commit", lambda s: [{"endpoint": "repay", "action": "drop_before_commit", "nth": [1]}]),
    Fault("429_burst", lambda s: [{"endpoint": "repay", "action": "reject_429", "seconds": 1, "nth": [1, 2]}]),
    Fault("clock_skew_+3s", clock_skew=3.0),
    Fault("clock_skew_-3s", clock_skew=-3.0),
    Fault("pending_1025", lambda s: [{"endpoint": "repay", "action": "pending", "code": -1025, "nth": [1, 2]}]),
    Fault("pending_27025", lambda s: [{"endpoint": "repay", "action": "pending", "code": -27025, "nth": [1]}]),
    Fault("worker_killed_after_send", kill_on="sent"),
    Fault("worker_killed_before_confirm", kill_on="sent", keep_write=True),
    Fault("manual_clear_rerun", reruns=1),
)


@dataclass
class RunResult:
    fault: str
    seed: int
    outcome: str  # "success" | "clear_failure" | "unclear_failure"
    records: int
    duplicate: bool
    lost: bool
    detail: str


@dataclass
class Summary:
    fault: str
    runs: int = 0
    successes: int = 0
    clear_failures: int = 0
    duplicates: int = 0
    lost: int = 0
    unclear: int = 0
    details: list[str] = field(default_factory=list)


@contextmanager
def connection_env(url: str, timeout: float) -> Iterator[None]:
    creds = demo_credentials()[ACCOUNT]
    conn = {"conn_type": "binance_credit", "host": url, "login": creds["apiKey"], "password": creds["secret"],
            "extra": {"key_type": creds["keyType"], "timeout": timeout, "recv_window": 1000}}
    name = f"AIRFLOW_CONN_{CONN_ID.upper()}"
    old = os.environ.get(name)
    os.environ[name] = json.dumps(conn)
    try:
        yield
    finally:
        if old is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = old


def make_operator(fault: Fault, store: MemoryStore, server: SandboxServer, amount: str) -> RiskUnitRepayOperator:
    op = RiskUnitRepayOperator(
        task_id="repay", group_id=UNIT, asset="USDT", amount=amount, binance_credit_conn_id=CONN_ID,
        reconcile_timeout=6.0, reconcile_poll_interval=0.1, reconcile_margin=0.6,
        confirm_timeout=3.0, confirm_poll_interval=0.05, busy_retries=3, busy_retry_delay=0.02,
    )
    op.ledger_store = store
    op.pacer = WeightPacer(window_seconds=server.window_seconds)
    op.clock = SkewedClock(fault.clock_skew)
    return op


def run_once(fault: Fault, seed: int) -> RunResult:
    """One simulated task instance: up to 3 tries (retries after a kill/failure) plus manual reruns."""
    server = SandboxServer(load_state("demo"), admin=True)
    server.start()
    amount = AMOUNT if seed % 2 else "outstanding"
    store: MemoryStore = KillAt(fault.kill_on, fault.keep_write) if fault.kill_on else MemoryStore()
    server.set_faults(fault.rules(seed))
    returned: dict[str, Any] | None = None
    xcom: dict[str, Any] = {}
    failure = ""
    try:
        with connection_env(server.url, fault.timeout):
            try_number = 0
            while try_number < MAX_TRIES:  # the task's retries=2
                try_number += 1
                ti = FakeTI(try_number)
                try:
                    returned = make_operator(fault, store, server, amount).execute({"ti": ti})  # type: ignore[arg-type]
                    xcom, failure = ti.xcom, ""
                    break
                except (WorkerKilled, AirflowException) as exc:
                    returned, failure = None, str(exc)
                    server.clear_faults()  # the retry runs after the outage
            for rerun in range(fault.reruns if returned is not None else 0):  # manual clear: the task runs again
                ti = FakeTI(try_number + 1 + rerun)
                returned = make_operator(fault, store, server, amount).execute({"ti": ti})  # type: ignore[arg-type]
                xcom = ti.xcom
        records = [r for r in server.state.records_of(UNIT) if r.type == "NORMAL_REPAY" and r.status == "CONFIRM"]
    finally:
        server.stop()
    return judge(fault.name, seed, returned, xcom, failure, records)


def judge(
    name: str, seed: int, returned: dict[str, Any] | None, xcom: dict[str, Any], failure: str, records: list[Any]
) -> RunResult:
    duplicate = len(records) > 1
    if returned is not None and not failure:
        ok_xcom = (
            len(records) == 1
            and returned["transaction_id"] == str(records[0].tran_id) == xcom.get("transaction_id")
            and Decimal(returned["repaid_amount"]) == records[0].amount
            and returned["repaid_amount"] == xcom.get("repaid_amount")
            and returned["status"] in ("repaid", "reconciled")
        )
        lost = len(records) >= 1 and not ok_xcom
        outcome = "success" if ok_xcom else "unclear_failure"
        detail = f"status={returned['status']} tranId={returned['transaction_id']} records={len(records)}"
    else:
        told_maybe = "MAY HAVE EXECUTED" in failure
        lost = len(records) >= 1 and not told_maybe
        outcome = "clear_failure" if (not records or told_maybe) and failure else "unclear_failure"
        detail = f"failed: {failure[:160]} records={len(records)}"
    return RunResult(name, seed, outcome, len(records), duplicate, lost, detail)


def run_matrix(runs_per_fault: int, faults: tuple[Fault, ...] = FAULTS) -> list[Summary]:
    summaries = []
    for fault in faults:
        summary = Summary(fault.name)
        for seed in range(runs_per_fault):
            result = run_once(fault, seed)
            summary.runs += 1
            summary.successes += result.outcome == "success"
            summary.clear_failures += result.outcome == "clear_failure"
            summary.unclear += result.outcome == "unclear_failure"
            summary.duplicates += result.duplicate
            summary.lost += result.lost
            if result.outcome != "success":
                summary.details.append(f"seed {seed}: {result.detail}")
        summaries.append(summary)
    return summaries


def format_table(summaries: list[Summary]) -> str:
    head = f"{'fault':<30} {'runs':>5} {'success':>8} {'clear fail':>10} {'duplicates':>10} {'lost':>5} {'unclear':>8}"
    lines = [head, "-" * len(head)]
    for s in summaries:
        lines.append(f"{s.fault:<30} {s.runs:>5} {s.successes:>8} {s.clear_failures:>10} {s.duplicates:>10} "
                     f"{s.lost:>5} {s.unclear:>8}")
    return "\n".join(lines)


def quiet_logs() -> None:
    logging.getLogger("airflow_binance_loan").setLevel(logging.WARNING)


if __name__ == "__main__":  # pragma: no cover - see bench/fault_matrix.py
    start = time.monotonic()
    print(format_table(run_matrix(2)))
    print(f"{time.monotonic() - start:.1f} s")
