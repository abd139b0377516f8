"""The fault matrix: RiskUnitRepayOperator under Binance's real failure modes, judged from the sandbox's records.

Shared by ``tests/reliability/test_fault_matrix.py`` (a few seeded runs per fault, in CI) and
``bench/fault_matrix.py`` (more runs; prints the table recorded in BENCHMARKS.md). It lives in bench/
next to budget_harness.py, which tests/integration_budget shares the same way: the benchmark never
imports tests/, and the test finds it through pytest's ``pythonpath``. Every run uses a
fresh sandbox on *virtual time* shared with the operator's client (late commits of minutes and
records that appear five minutes late cost no real time), the real operator over real HTTP,
an in-memory journal store shared by every try of every task instance of the run, and is judged
only from the sandbox's own records:

* duplicate: more repay records on a (unit, asset) than the run intended;
* lost: a repay record that no task instance reported, while none said it MAY HAVE EXECUTED;
* wrong XCom: a task instance reporting a record that is not its own (another unit, another
  task's record, a different amount) or XCom keys that disagree with the return value;
* every task instance must end in success with correct XCom, or in a clear failure.
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

from airflow.sdk.exceptions import AirflowFailException
from binance_loan_sandbox import SandboxClock, SandboxServer, VirtualClock, demo_credentials, load_state

from airflow_binance_loan.client.ratelimit import WeightPacer
from airflow_binance_loan.operators import RiskUnitRepayOperator
from airflow_binance_loan.repayment import MemoryJournalStore

AMOUNT = "1000.12345678"
MAX_TRIES = 3
RETRY_DELAY_SECONDS = 300.0
ACCOUNTS = {10001: "credit_hmac", 10002: "credit_rsa", 10003: "credit_ed25519", 10004: "credit_short"}
ANSWERS = ("1007", "503", "drop")


class WorkerKilled(BaseException):
    """Stands for SIGKILL of the worker: not an Exception, so nothing in the operator catches it."""


class KillAt(MemoryJournalStore):
    """Kills the 'worker' once, when the journal's newest attempt reaches ``state``.

    ``keep=False`` kills before the write lands: killing at ``answered`` then means the repay's
    bytes left and Binance executed it, but its answer was lost with the worker.
    """

    def __init__(self, state: str, keep: bool) -> None:
        super().__init__()
        self.kill_on, self.keep, self.armed = state, keep, True

    def set(self, key: str, value: str) -> None:
        states = [r["attempts"][-1]["state"] for r in json.loads(value)["requests"].values() if r["attempts"]]
        hit = self.armed and self.kill_on in states
        if not hit or self.keep:
            super().set(key, value)
        if hit:
            self.armed = False
            raise WorkerKilled(f"worker killed at journal state {self.kill_on}")


class StallAt(MemoryJournalStore):
    """Runs ``interrupt`` once, at the ``nth`` read: a worker that stalls at that moment."""

    def __init__(self, nth: int) -> None:
        super().__init__()
        self.nth, self.reads = nth, 0
        self.interrupt: Callable[[], None] = lambda: None

    def get(self, key: str) -> str | None:
        self.reads += 1
        if self.reads == self.nth:
            self.interrupt()
        return super().get(key)


class SkewedClock:
    """This machine's clock, ``skew`` seconds off the (virtual) truth."""

    def __init__(self, base: VirtualClock, skew: float) -> None:
        self.base, self.skew = base, skew

    def time(self) -> float:
        return self.base.time() + self.skew

    def monotonic(self) -> float:
        return self.base.monotonic()

    def sleep(self, seconds: float) -> None:
        self.base.sleep(seconds)


@dataclass(frozen=True)
class TaskInstance:
    """One (mapped) task instance of the settlement DAG."""

    unit: int = 10001
    amount: str = AMOUNT
    task_id: str = "repay"
    map_index: int = -1
    asset: str = "USDT"
    run_id: str = "scheduled__2026-11-30T18:00:00+00:00"


class FakeTI:
    dag_id = "fault_matrix"

    def __init__(self, ti: TaskInstance, try_number: int) -> None:
        self.run_id, self.task_id, self.map_index = ti.run_id, ti.task_id, ti.map_index
        self.try_number = try_number
        self.xcom: dict[str, Any] = {}

    def xcom_push(self, key: str, value: Any) -> None:
        self.xcom[key] = value


@dataclass
class TIResult:
    ti: TaskInstance
    returned: dict[str, Any] | None = None
    xcom: dict[str, Any] = field(default_factory=dict)
    failure: str = ""


class Harness:
    """One run: a sandbox on virtual time, a journal store, and task instances run through their tries."""

    def __init__(self, store: MemoryJournalStore, timeout: float = 5.0, clock_skew: float = 0.0,
                 operator_options: dict[str, Any] | None = None) -> None:
        self.clock = VirtualClock()
        self.server = SandboxServer(load_state("demo"), admin=True, clock=SandboxClock(source=self.clock.time))
        self.store = store
        self.timeout = timeout
        self.client_clock: Any = SkewedClock(self.clock, clock_skew) if clock_skew else self.clock
        self.pacer = WeightPacer(self.client_clock, window_seconds=60)
        self.operator_options = operator_options or {}

    def operator(self, ti: TaskInstance) -> RiskUnitRepayOperator:
        return RiskUnitRepayOperator(
            task_id=ti.task_id, group_id=ti.unit, asset=ti.asset, amount=ti.amount,
            binance_credit_conn_id=conn_id(ACCOUNTS[ti.unit]),
            journal_store=self.store, clock=self.client_clock, pacer=self.pacer, **self.operator_options,
        )

    def run_try(self, ti: TaskInstance, try_number: int, result: TIResult) -> str:
        """One try: ``ok``, ``retry`` (Airflow retries it) or ``final`` (AirflowFailException: no retry)."""
        fake = FakeTI(ti, try_number)
        try:
            result.returned = self.operator(ti).execute({"ti": fake})  # type: ignore[arg-type]
            result.xcom, result.failure = fake.xcom, ""
            return "ok"
        except AirflowFailException as exc:
            result.returned, result.failure = None, str(exc)
            return "final"
        except (WorkerKilled, Exception) as exc:
            result.returned, result.failure = None, str(exc)
            return "retry"

    def run_ti(self, ti: TaskInstance, first_try: int = 1) -> TIResult:
        """The task instance with retries=2: after a failure, the outage ends and the retry runs later."""
        result = TIResult(ti)
        for try_number in range(first_try, first_try + MAX_TRIES):
            if self.run_try(ti, try_number, result) != "retry":
                break
            self.server.clear_faults()
            self.clock.advance(RETRY_DELAY_SECONDS)
        return result

    def records(self) -> dict[tuple[int, str], list[Any]]:
        self.server.apply_due_commits()
        out: dict[tuple[int, str], list[Any]] = {}
        for r in self.server.state.records_of():
            if r.type == "NORMAL_REPAY" and r.status == "CONFIRM":
                out.setdefault((r.group_id, r.asset), []).append(r)
        return out


def conn_id(account: str) -> str:
    return f"binance_credit_fm_{account}"


@contextmanager
def connections(url: str, timeout: float) -> Iterator[None]:
    names = []
    for account, creds in demo_credentials().items():
        conn = {"conn_type": "binance_credit", "host": url, "login": creds["apiKey"], "password": creds["secret"],
                "extra": {"key_type": creds["keyType"], "timeout": timeout, "recv_window": 5000}}
        name = f"AIRFLOW_CONN_{conn_id(account).upper()}"
        os.environ[name] = json.dumps(conn)
        names.append(name)
    try:
        yield
    finally:
        for name in names:
            os.environ.pop(name, None)


# -- scenarios ---------------------------------------------------------------------------------------

Rules = Callable[[int], list[dict[str, Any]]]


@dataclass
class Fault:
    """How to break one run. ``play`` runs task instances on the harness (default: one TI, its tries)."""

    name: str
    rules: Rules = lambda seed: []
    clock_skew: float = 0.0
    timeout: float = 5.0
    kill_on: str | None = None
    keep_write: bool = False
    reruns: int = 0
    play: Callable[[Harness, int], list[TIResult]] | None = None
    store: Callable[[], MemoryJournalStore] = MemoryJournalStore
    allowed: dict[tuple[int, str], int] = field(default_factory=dict)


def amount_for(seed: int) -> str:
    return AMOUNT if seed % 2 else "outstanding"


def single(fault: Fault) -> Callable[[Harness, int], list[TIResult]]:
    def play(h: Harness, seed: int) -> list[TIResult]:
        ti = TaskInstance(amount=amount_for(seed))
        result = h.run_ti(ti)
        for rerun in range(fault.reruns if result.returned is not None else 0):  # manual clear: runs again
            h.run_try(ti, MAX_TRIES + 1 + rerun, result)
        return [result]

    return play


def whole_run_clear_shifted(h: Harness, seed: int) -> list[TIResult]:
    """Run 1 plans [10001, 10004]; 10004's wallet is short. It is topped up, the whole run is cleared, and
    the new plan is [10004] alone, at map index 0 (10001 owes nothing now). 10004 must repay what it still
    owes, and every XCom must name its own unit's transaction."""
    first = [h.run_ti(TaskInstance(unit=10001, map_index=0, amount="outstanding")),
             h.run_ti(TaskInstance(unit=10004, map_index=1, amount="outstanding"))]
    with h.server.state.lock:
        h.server.state.units[10004].credit.wallets["MARGIN"]["USDT"] = Decimal(200_000)
    h.server.set_faults(rules_for_seed(seed))
    cleared = h.run_ti(TaskInstance(unit=10004, map_index=0, amount="outstanding"), first_try=MAX_TRIES + 1)
    return [*first, cleared]


def whole_run_clear_reordered(h: Harness, seed: int) -> list[TIResult]:
    """Both units fully repaid, then the run is cleared with the plan in the other order: nothing is repaid
    again and each map index reports its own unit's transaction."""
    tis = [TaskInstance(unit=10001, map_index=0), TaskInstance(unit=10002, map_index=1)]
    for ti in tis:
        h.run_ti(ti)
    h.server.set_faults(rules_for_seed(seed))
    return [h.run_ti(TaskInstance(unit=ti.unit, map_index=1 - ti.map_index), first_try=MAX_TRIES + 1)
            for ti in tis]


def overlapping_tries(h: Harness, seed: int) -> list[TIResult]:
    """Try 1 stalls just before writing its attempt; the scheduler starts try 2, which repays; try 1 wakes."""
    assert isinstance(h.store, StallAt)
    ti = TaskInstance(amount=amount_for(seed))
    later = TIResult(ti)
    h.store.interrupt = lambda: h.run_try(ti, 2, later)
    stalled = TIResult(ti)
    h.run_try(ti, 1, stalled)
    assert stalled.returned is None and "stops without sending" in stalled.failure, stalled.failure
    return [later]


def two_task_instances_one_unit(h: Harness, seed: int) -> list[TIResult]:
    """Two task instances repay the same unit, asset and amount at once: B's repay is applied, A's is
    answered 503 and NOT applied. A must not adopt B's record; both repayments must happen."""
    assert isinstance(h.store, StallAt)
    other = TaskInstance(task_id="repay_b", amount=AMOUNT)
    results: list[TIResult] = []

    def b_repays_first() -> None:
        results.append(h.run_ti(other))
        h.server.set_faults([{"endpoint": "repay", "action": "error", "status": 503, "nth": [1]}])

    h.store.interrupt = b_repays_first
    mine = h.run_ti(TaskInstance(task_id="repay_a", amount=AMOUNT))
    return [mine, *results]


def back_to_back(h: Harness, seed: int) -> list[TIResult]:
    """Two repays on one credit account in quick succession: Binance answers -1025 to the second."""
    return [h.run_ti(TaskInstance(unit=10001, asset=asset, amount=amount_for(seed), task_id=f"repay_{asset}"))
            for asset in ("USDT", "USDC")]


def rules_for_seed(seed: int) -> list[dict[str, Any]]:
    """A random unknown-outcome fault for the cleared run."""
    return [{"endpoint": "repay", "action": "late_commit", "answer": ANSWERS[seed % 3], "ms": 30_000,
             "probability": 0.5, "seed": seed}]


def late(ms: int) -> Rules:
    return lambda s: [{"endpoint": "repay", "action": "late_commit", "answer": ANSWERS[s % 3], "ms": ms,
                       "probability": 0.7, "seed": s}]


def lagging(ms: int) -> Rules:
    """Records ``ms`` late; odd seeds also lose the answer (reconciliation), even seeds only confirm."""
    return lambda s: [{"endpoint": "repay", "action": "records_lag", "ms": ms},
                      *([{"endpoint": "repay", "action": "commit_then_503", "nth": [1]}] if s % 2 else [])]


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
    Fault("worker_killed_after_send", kill_on="answered"),
    Fault("worker_killed_before_confirm", kill_on="answered", keep_write=True),
    Fault("manual_clear_rerun", reruns=1),
    Fault("late_commit_5s", late(5_000)),
    Fault("late_commit_30s", late(30_000)),
    Fault("late_commit_120s", late(120_000)),
    Fault("records_lag_10s", lagging(10_000)),
    Fault("records_lag_60s", lagging(60_000)),
    Fault("records_lag_5min", lagging(300_000)),
    Fault("late_commit_60s+lag_5min", lambda s: [*late(60_000)(s), {"endpoint": "repay", "action": "records_lag",
                                                                   "ms": 300_000}]),
    Fault("tranId!=transactionId", lambda s: [{"endpoint": "repay", "action": "distinct_tran_ids"},
                                              *([{"endpoint": "repay", "action": "commit_then_drop", "nth": [1]}]
                                                if s % 2 else [])]),
    Fault("200_with_html", lambda s: [{"endpoint": "repay", "action": "commit_then_garbage", "nth": [1]}]),
    Fault("200_without_id", lambda s: [{"endpoint": "repay", "action": "commit_then_no_id", "nth": [1]}]),
    Fault("records_endpoint_down", lambda s: [
        {"endpoint": "repay", "action": "commit_then_503", "nth": [1]},
        {"endpoint": "borrow_repay_records", "action": "error", "status": 503, "times": 4 * (2 + s % 3)}]),
    Fault("record_failed", lambda s: [{"endpoint": "repay", "action": "record_failed", "nth": [1]}]),
    Fault("back_to_back_1025", lambda s: [{"endpoint": "repay", "action": "pending_after_repay", "ms": 5_000}],
          play=back_to_back),
    Fault("whole_run_clear_shifted", play=whole_run_clear_shifted, allowed={(10004, "USDT"): 2}),
    Fault("whole_run_clear_reordered", play=whole_run_clear_reordered),
    Fault("overlapping_tries", play=overlapping_tries, store=lambda: StallAt(3)),
    Fault("two_tis_one_unit", play=two_task_instances_one_unit, store=lambda: StallAt(3),
          allowed={(10001, "USDT"): 2}),
)


# -- judging -----------------------------------------------------------------------------------------


@dataclass
class RunResult:
    fault: str
    seed: int
    outcome: str  # "success" | "clear_failure" | "unclear_failure"
    duplicate: bool
    lost: bool
    wrong_xcom: bool
    detail: str


def judge(name: str, seed: int, results: list[TIResult], records: dict[tuple[int, str], list[Any]],
          allowed: dict[tuple[int, str], int]) -> RunResult:
    wanted: dict[tuple[int, str], int] = {}
    for r in results:
        wanted[(r.ti.unit, r.ti.asset)] = wanted.get((r.ti.unit, r.ti.asset), 0) + 1
    duplicate = any(len(rows) > allowed.get(key, wanted.get(key, 0)) for key, rows in records.items())
    claimed: dict[str, str] = {}
    wrong: list[str] = []
    for r in results:
        if r.returned is None:
            continue
        ret, key = r.returned, (r.ti.unit, r.ti.asset)
        if ret["status"] == "nothing_to_repay":
            continue
        own = {str(x.tran_id): x for x in records.get(key, [])}
        record = own.get(str(ret.get("record_tran_id") or ret["transaction_id"]))
        ok = (record is not None and ret["status"] in ("repaid", "reconciled")
              and Decimal(ret["repaid_amount"]) == record.amount
              and (ret["group_id"], ret["asset"]) == key
              and r.xcom.get("transaction_id") == ret["transaction_id"]
              and r.xcom.get("repaid_amount") == ret["repaid_amount"])
        if record is not None and str(record.tran_id) in claimed:
            ok = False
        if record is not None:
            claimed[str(record.tran_id)] = r.ti.task_id
        if not ok:
            wrong.append(f"{r.ti.task_id}[{r.ti.map_index}] unit {r.ti.unit}: {ret}")
    maybe = {(r.ti.unit, r.ti.asset) for r in results if r.returned is None and "MAY HAVE EXECUTED" in r.failure}
    unclaimed = [(key, x.tran_id) for key, rows in records.items() for x in rows if str(x.tran_id) not in claimed]
    lost = any(key not in maybe for key, _ in unclaimed)
    failures = [r for r in results if r.returned is None]
    unclear = [r for r in failures if not r.failure or ((r.ti.unit, r.ti.asset) in {k for k, _ in unclaimed}
                                                         and "MAY HAVE EXECUTED" not in r.failure)]
    if wrong or unclear or lost:
        outcome = "unclear_failure"
    else:
        outcome = "clear_failure" if failures else "success"
    detail = "; ".join([*wrong, *(f"failed: {r.failure[:200]}" for r in failures),
                        f"records={ {k: len(v) for k, v in records.items()} }"])
    return RunResult(name, seed, outcome, duplicate, lost, bool(wrong), detail)


def run_once(fault: Fault, seed: int, operator_options: dict[str, Any] | None = None) -> RunResult:
    store = KillAt(fault.kill_on, fault.keep_write) if fault.kill_on else fault.store()
    harness = Harness(store, fault.timeout, fault.clock_skew, operator_options)
    harness.server.start()
    try:
        with connections(harness.server.url, fault.timeout):
            harness.server.set_faults(fault.rules(seed))
            results = (fault.play or single(fault))(harness, seed)
            records = harness.records()
    finally:
        harness.server.stop()
    return judge(fault.name, seed, results, records, fault.allowed)


# -- the table ---------------------------------------------------------------------------------------


@dataclass
class Summary:
    fault: str
    runs: int = 0
    successes: int = 0
    clear_failures: int = 0
    duplicates: int = 0
    lost: int = 0
    wrong_xcom: int = 0
    unclear: int = 0
    details: list[str] = field(default_factory=list)


def run_matrix(runs_per_fault: int, faults: tuple[Fault, ...] = FAULTS,
               operator_options: dict[str, Any] | None = None) -> list[Summary]:
    summaries = []
    for fault in faults:
        summary = Summary(fault.name)
        for seed in range(runs_per_fault):
            result = run_once(fault, seed, operator_options)
            summary.runs += 1
            summary.successes += result.outcome == "success"
            summary.clear_failures += result.outcome == "clear_failure"
            summary.unclear += result.outcome == "unclear_failure"
            summary.duplicates += result.duplicate
            summary.lost += result.lost
            summary.wrong_xcom += result.wrong_xcom
            if result.outcome != "success":
                summary.details.append(f"seed {seed}: {result.detail}")
        summaries.append(summary)
    return summaries


def format_table(summaries: list[Summary]) -> str:
    head = (f"{'fault':<28} {'runs':>5} {'success':>8} {'clear fail':>10} {'duplicates':>10} {'lost':>5} "
            f"{'wrong xcom':>10} {'unclear':>8}")
    lines = [head, "-" * len(head)]
    for s in summaries:
        lines.append(f"{s.fault:<28} {s.runs:>5} {s.successes:>8} {s.clear_failures:>10} {s.duplicates:>10} "
                     f"{s.lost:>5} {s.wrong_xcom:>10} {s.unclear:>8}")
    return "\n".join(lines)


def quiet_logs() -> None:
    logging.getLogger("airflow_binance_loan").setLevel(logging.WARNING)


if __name__ == "__main__":  # pragma: no cover - bench/fault_matrix.py is the command line
    start = time.monotonic()
    print(format_table(run_matrix(2)))
    print(f"{time.monotonic() - start:.1f} s")
