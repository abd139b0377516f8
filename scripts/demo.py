#!/usr/bin/env python
"""One-command demo: month-end settlement against the local sandbox, end to end (``make demo``).

1. starts the sandbox (``python -m binance_loan_sandbox --port 0 --state demo --admin``);
2. creates a throw-away ``AIRFLOW_HOME`` (SQLite) and defines the connections as ``AIRFLOW_CONN_*``
   JSON built from the demo credentials: ``binance_credit_parent`` plus ``binance_credit_<groupId>``
   per risk unit, all pointing at the sandbox;
3. runs ``airflow db migrate`` and ``airflow dags test binance_month_end_settlement``;
4. prints the settlement report (the very table the ``report`` task logs, written with its Markdown,
   CSV and JSON forms to the report location, here ``<home>/reports`` through the Variable
   ``binance_loan_report_location``) and the sandbox's final liabilities (``GET /sandbox/state``);
5. stops the sandbox (also on Ctrl-C or error) and removes the temporary home.

The demo state deliberately leaves one risk unit short of funds, so the DAG run is *expected* to
fail with a report naming that unit. Exit code 0 means the run did what it should: the report agrees
with the sandbox exactly (every "after" amount, every transaction id and repaid amount), the
run failed if and only if the report lists units still owing more than the tolerance, and every such
unit is explained by a partial repay that emptied the wallet it repaid from. ``--strict`` instead
exits 1 whenever the DAG run failed. Exit 1 for any disagreement, 2 when the demo itself could not run.
"""

from __future__ import annotations

import argparse
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from decimal import Decimal
from pathlib import Path
from typing import Any

from airflow_binance_loan.money import format_decimal

sys.path.insert(0, str(Path(__file__).resolve().parent))
from demo_approval import APPROVER, RestApprover, approver_env, free_port, start_api_server

REPO = Path(__file__).resolve().parent.parent
DAGS_FOLDER = REPO / "dags"
DAG_ID = "binance_month_end_settlement"
PARENT_CONN_ID = "binance_credit_parent"
SANDBOX_START_TIMEOUT = 20.0
AIRFLOW_TIMEOUT = 300.0

_T0 = time.monotonic()


def say(message: str) -> None:
    """A progress line with the elapsed time."""
    print(f"[demo {time.monotonic() - _T0:5.1f}s] {message}", flush=True)


# -- sandbox ------------------------------------------------------------------------------------------


def _die_with_parent() -> None:
    """In the child, before exec: Linux sends it SIGTERM when the demo dies, even by SIGKILL."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # 1 = PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # not Linux: the demo's finally block still stops the children
        pass


def _terminate(signum: int, frame: object) -> None:
    """SIGTERM/SIGHUP → SystemExit, so the ``finally`` blocks stop the sandbox and Airflow."""
    raise SystemExit(128 + signum)


def start_sandbox(log_path: Path) -> tuple[subprocess.Popen[str], str]:
    """Start the sandbox on a free loopback port; returns the process and its base URL."""
    cmd = [sys.executable, "-m", "binance_loan_sandbox", "--port", "0", "--state", "demo", "--admin"]
    with open(log_path, "w", encoding="utf-8") as log:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=log, text=True,  # noqa: S603
                                preexec_fn=_die_with_parent)
    assert proc.stdout is not None
    deadline = time.monotonic() + SANDBOX_START_TIMEOUT
    while time.monotonic() < deadline:
        ready, _, _ = select.select([proc.stdout], [], [], 0.2)
        if ready:
            line = proc.stdout.readline().strip()
            if line.startswith("listening on "):
                return proc, line.removeprefix("listening on ")
            if not line and proc.poll() is not None:
                break
        elif proc.poll() is not None:
            break
    stop_process(proc)
    raise RuntimeError(f"the sandbox did not start; see {log_path}:\n{log_path.read_text(errors='replace')}")


def stop_process(proc: subprocess.Popen[Any] | None, grace: float = 5.0) -> None:
    """SIGTERM, then SIGKILL after ``grace`` seconds; always reaps the process."""
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def sandbox_state(url: str) -> dict[str, Any]:
    """The admin dump (``GET /sandbox/state``): balances, liabilities and borrow/repay records."""
    with urllib.request.urlopen(f"{url}/sandbox/state", timeout=10) as response:  # noqa: S310 - loopback URL
        state: dict[str, Any] = json.loads(response.read().decode("utf-8"))["state"]
    return state


# -- Airflow ------------------------------------------------------------------------------------------


def connection_env(url: str) -> dict[str, str]:
    """``AIRFLOW_CONN_*`` JSON for the parent and each risk unit's credit account (demo credentials)."""
    from binance_loan_sandbox import demo_credentials

    def conn(account: dict[str, Any]) -> str:
        return json.dumps({
            "conn_type": "binance_credit", "host": url, "login": account["apiKey"], "password": account["secret"],
            "extra": {"key_type": account["keyType"]},
        })

    creds = demo_credentials()
    env = {f"AIRFLOW_CONN_{PARENT_CONN_ID.upper()}": conn(creds["parent"])}
    for account in creds.values():
        if account.get("groupId"):
            env[f"AIRFLOW_CONN_BINANCE_CREDIT_{int(account['groupId'])}"] = conn(account)
    return env


def airflow_env(home: Path, url: str) -> dict[str, str]:
    """A hermetic environment: no inherited AIRFLOW* settings, SQLite in ``home``, the repo's dags."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
    env.update(
        AIRFLOW_HOME=str(home),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        AIRFLOW__CORE__DAGS_FOLDER=str(DAGS_FOLDER),
        AIRFLOW__CORE__UNIT_TEST_MODE="False",
        AIRFLOW_VAR_BINANCE_LOAN_REPORT_LOCATION=f"file://{home / 'reports'}",
        PYTHONUNBUFFERED="1",
    )
    env.update(connection_env(url))
    return env


def run_airflow(args: list[str], env: dict[str, str], log_path: Path) -> int:
    """``python -m airflow ARGS`` with output to ``log_path``; killed on timeout or Ctrl-C."""
    with open(log_path, "w", encoding="utf-8") as log:
        proc = subprocess.Popen([sys.executable, "-m", "airflow", *args], env=env,  # noqa: S603
                                stdout=log, stderr=subprocess.STDOUT, preexec_fn=_die_with_parent)
        try:
            return proc.wait(timeout=AIRFLOW_TIMEOUT)
        finally:
            stop_process(proc)


def tail(path: Path, lines: int = 40) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""


# -- checking the outcome -----------------------------------------------------------------------------


def final_liabilities(state: dict[str, Any]) -> dict[tuple[int, str], dict[str, Decimal]]:
    """(groupId, asset) → principal, interest, outstanding and the credit account's MARGIN balance."""
    out = {}
    for unit in state["riskUnits"]:
        margin = unit["credit"]["wallets"].get("MARGIN", {})
        for asset, row in unit["liabilities"].items():
            principal, interest = Decimal(row["principal"]), Decimal(row["interest"])
            out[(int(unit["groupId"]), asset)] = {
                "principal": principal, "interest": interest, "outstanding": principal + interest,
                "margin_balance": Decimal(margin.get(asset, "0")),
            }
    return out


def render_liabilities(liabilities: dict[tuple[int, str], dict[str, Decimal]]) -> str:
    header = ("UNIT", "ASSET", "PRINCIPAL", "INTEREST", "OUTSTANDING", "MARGIN BALANCE")
    rows = [(str(g), a, *(format_decimal(v[k]) for k in ("principal", "interest", "outstanding", "margin_balance")))
            for (g, a), v in sorted(liabilities.items())]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]

    def line(cells: tuple[str, ...]) -> str:
        return "  ".join(c.ljust(w) if i < 2 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths,
                                                                                          strict=True))).rstrip()

    return "\n".join(line(r) for r in [header, tuple("-" * w for w in widths), *rows])


def verify(report: dict[str, Any], state: dict[str, Any], run_failed: bool) -> tuple[list[str], list[str]]:
    """``(problems, explanations)``: disagreements between report, sandbox and run state; why it failed."""
    problems: list[str] = []
    explained: list[str] = []
    final = final_liabilities(state)
    tolerance = Decimal(report["tolerance"])
    records = {str(r["tranId"]): r for r in state.get("records", [])}
    rows = {(int(r["group_id"]), r["asset"]): r for r in report["rows"]}
    for key in sorted(set(rows) | {k for k, v in final.items() if v["outstanding"] > 0}):
        group_id, asset = key
        row = rows.get(key)
        owed = final.get(key, {}).get("outstanding", Decimal(0))
        if row is None:
            problems.append(f"unit {group_id} {asset} owes {format_decimal(owed)} in the sandbox "
                            "but is not in the report")
            continue
        if Decimal(row["after"]) != owed:
            problems.append(f"unit {group_id} {asset}: report says {row['after']} after, "
                            f"sandbox says {format_decimal(owed)}")
        tx = row["transaction_id"]
        if tx != "-":
            record = records.get(tx)
            if record is None:
                problems.append(f"unit {group_id} {asset}: transaction {tx} is not in the sandbox's records")
            elif (record["amount"], int(record["groupId"]), record["assetName"]) != (row["repaid"], group_id, asset):
                problems.append(f"unit {group_id} {asset}: report repaid {row['repaid']} in {tx}, sandbox record "
                                f"says {record['amount']} {record['assetName']} on unit {record['groupId']}")
        if (owed > tolerance) == row["settled"]:
            problems.append(f"unit {group_id} {asset}: owes {format_decimal(owed)} but the report marks it "
                            f"{'settled' if row['settled'] else 'not settled'}")
        if not row["settled"]:
            wallet = final.get(key, {}).get("margin_balance", Decimal(0))
            if row["reason"].startswith("partial repay") and wallet == 0:
                explained.append(f"unit {group_id} still owes {format_decimal(owed)} {asset} ({row['reason']})")
            else:
                problems.append(f"unit {group_id} {asset} still owes {format_decimal(owed)} for an unexpected reason: "
                                f"{row['reason']} (MARGIN balance {format_decimal(wallet)})")
    if run_failed != bool(report["failures"]):
        problems.append(f"the DAG run {'failed' if run_failed else 'succeeded'} but the report lists "
                        f"{len(report['failures'])} failure(s)")
    return problems, explained


# -- main ---------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--strict", action="store_true", help="exit 1 whenever the DAG run failed")
    parser.add_argument("--keep-home", action="store_true", help="keep the temporary AIRFLOW_HOME and logs")
    args = parser.parse_args(argv)

    signal.signal(signal.SIGTERM, _terminate)
    signal.signal(signal.SIGHUP, _terminate)
    home = Path(tempfile.mkdtemp(prefix="binance-loan-demo-"))
    sandbox: subprocess.Popen[str] | None = None
    api: subprocess.Popen[Any] | None = None
    try:
        say("starting the sandbox (demo state, admin endpoints)")
        sandbox, url = start_sandbox(home / "sandbox.log")
        say(f"sandbox listening on {url}")
        env = airflow_env(home, url)
        say(f"AIRFLOW_HOME={home} (SQLite); connections: "
            + ", ".join(k.removeprefix("AIRFLOW_CONN_").lower() for k in sorted(env) if k.startswith("AIRFLOW_CONN_")))

        say("airflow db migrate")
        if run_airflow(["db", "migrate"], env, home / "db_migrate.log") != 0:
            print(tail(home / "db_migrate.log"), file=sys.stderr)
            say("FAILED: airflow db migrate")
            return 2

        port = free_port()
        env.update(approver_env(port))
        say(f"airflow api-server on http://127.0.0.1:{port} (the approver's way in)")
        api = start_api_server(env, home / "api_server.log", _die_with_parent)
        approver = RestApprover(f"http://127.0.0.1:{port}", home)
        approver.wait_until_up(api)
        approver.log_in()

        say(f"airflow dags test {DAG_ID}")
        with open(home / "dags_test.log", "w", encoding="utf-8") as log:
            run = subprocess.Popen([sys.executable, "-m", "airflow", "dags", "test", DAG_ID], env=env,  # noqa: S603
                                   stdout=log, stderr=subprocess.STDOUT, preexec_fn=_die_with_parent)
            try:
                run_id = approver.approve_when_asked(DAG_ID, lambda: run.poll() is None)
                if run_id:
                    say(f"four eyes: the plan is above the approval threshold; {APPROVER} APPROVED it through "
                        f"the REST API (PATCH .../taskInstances/approve/-1/hitlDetails, run {run_id})")
                rc = run.wait(timeout=AIRFLOW_TIMEOUT)
            finally:
                stop_process(run)
        say(f"airflow dags test finished: DAG run {'FAILED' if rc else 'succeeded'} (exit code {rc})")

        folders = sorted((home / "reports" / DAG_ID).glob("*"))
        report_text = folders[-1] / "report.txt" if folders else home / "missing"
        report_json = folders[-1] / "report.json" if folders else home / "missing"
        if not report_json.exists():
            print(tail(home / "dags_test.log", 60), file=sys.stderr)
            say("FAILED: the report task did not produce a report")
            return 1
        print()
        print(report_text.read_text(encoding="utf-8").rstrip())
        print()

        state = sandbox_state(url)
        print(f"Sandbox liabilities after the run (GET {url}/sandbox/state):")
        print(render_liabilities(final_liabilities(state)))
        print()

        report = json.loads(report_json.read_text(encoding="utf-8"))
        problems, explained = verify(report, state, run_failed=rc != 0)
        if problems:
            for problem in problems:
                say(f"MISMATCH: {problem}")
            say("demo FAILED: the DAG run's outcome does not match the sandbox")
            return 1
        say("report matches the sandbox: every after-amount, transaction id and repaid amount agrees")
        if rc != 0:
            for text in explained:
                say(f"settlement run FAILED as expected: {text}")
            if args.strict:
                say("--strict: exiting 1 because the DAG run failed")
                return 1
        else:
            say("settlement run succeeded: every risk unit settled")
        return 0
    except KeyboardInterrupt:
        say("interrupted")
        return 130
    except Exception as exc:  # the demo itself broke (not the DAG): say what, exit 2
        say(f"demo could not run: {type(exc).__name__}: {exc}")
        return 2
    finally:
        stop_process(api)
        stop_process(sandbox)
        if sandbox is not None:
            say("sandbox stopped")
        if args.keep_home:
            say(f"kept {home}")
        else:
            shutil.rmtree(home, ignore_errors=True)
        say("done")


if __name__ == "__main__":
    sys.exit(main())
