"""End to end: both DAGs under ``dag.test()`` against an in-process sandbox (real HTTP, real signing).

Each scenario runs ``dag_runner.py`` in a subprocess (Airflow reads ``AIRFLOW_HOME`` and the
``AIRFLOW_CONN_*`` variables at import time); one temporary ``AIRFLOW_HOME`` is migrated once per
session. Assertions read the sandbox's state afterwards and the XComs the runner dumps.
"""

from __future__ import annotations

import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from binance_loan_sandbox import SandboxServer
from dag_env import conn_json, connections

pytestmark = [pytest.mark.airflow_db, pytest.mark.integration]

RUNNER = Path(__file__).resolve().parent / "dag_runner.py"
RESPONDER = Path(__file__).resolve().parent / "hitl_responder.py"
SETTLEMENT = "binance_month_end_settlement"
MANUAL = "binance_risk_unit_repay"


class Run:
    """What dag_runner.py dumped, plus the report files the settlement DAG wrote."""

    def __init__(self, data: dict[str, Any], log: str, reports: Path) -> None:
        self.state: str = data["state"]
        self.log = log
        self.ti_states = {(t["task_id"], t["map_index"]): t["state"] for t in data["task_instances"]}
        self.map_labels = {(t["task_id"], t["map_index"]): t["rendered_map_index"] for t in data["task_instances"]}
        self._xcoms = {(x["task_id"], x["map_index"], x["key"]): x["value"] for x in data["xcoms"]}
        folders = sorted(reports.glob(f"{SETTLEMENT}/*"))
        assert len(folders) <= 1, folders
        self.report_folder = folders[0] if folders else None
        self.report = json.loads(self.report_file("report.json")) if folders else None
        self.report_text = self.report_file("report.txt") if folders else None

    def report_file(self, name: str) -> str:
        assert self.report_folder is not None
        return (self.report_folder / name).read_text()

    def xcom(self, task_id: str, map_index: int = -1, key: str = "return_value") -> Any:
        return self._xcoms[(task_id, map_index, key)]


def run_dag(env: dict[str, str], sandbox: SandboxServer, creds: dict[str, dict[str, Any]], tmp_path: Path,
            dag_id: str, conf: dict[str, Any] | None = None, extra_env: dict[str, str] | None = None,
            approval: str | None = None, approver: str = "alice") -> Run:
    """Run the DAG with dag.test(); ``approval`` (Approve / Reject / timeout) answers its four-eyes step."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    out = tmp_path / "run.json"
    reports = tmp_path / "reports"
    full_env = {**env, **connections(sandbox.url, creds), **(extra_env or {}),
                "AIRFLOW_VAR_BINANCE_LOAN_REPORT_LOCATION": f"file://{reports}"}
    runner = subprocess.Popen([sys.executable, str(RUNNER), dag_id, str(out), json.dumps(conf or {})],
                              env=full_env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if approval is not None:
        answer = subprocess.run([sys.executable, str(RESPONDER), dag_id, "approve", approval, approver],
                                env=full_env, capture_output=True, text=True, timeout=180)
        assert answer.returncode == 0, answer.stdout + answer.stderr
    log, _ = runner.communicate(timeout=240)
    assert runner.returncode == 0, log[-5000:]
    return Run(json.loads(out.read_text()), log, reports)


def outstanding(state: dict[str, Any]) -> dict[tuple[int, str], Decimal]:
    return {
        (unit["groupId"], asset): Decimal(row["principal"]) + Decimal(row["interest"])
        for unit in state["riskUnits"] for asset, row in unit["liabilities"].items()
    }


def margin_balance(state: dict[str, Any], group_id: int, asset: str) -> Decimal:
    unit = next(u for u in state["riskUnits"] if u["groupId"] == group_id)
    return Decimal(unit["credit"]["wallets"]["MARGIN"].get(asset, "0"))


def test_settlement_repays_each_unit_once_and_fails_on_the_short_unit(
    airflow_env: dict[str, str], sandbox: SandboxServer, demo_creds: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    before = sandbox.state.snapshot()
    owed_before = outstanding(before)
    run = run_dag(airflow_env, sandbox, demo_creds, tmp_path, SETTLEMENT, approval="Approve")
    after = sandbox.state.snapshot()

    # Four eyes: 1.55M USDT is above the 1M threshold; alice approved, and the report says so.
    assert run.xcom("approve")["responded_by_user"]["name"] == "alice"
    assert run.report["approval"].startswith("approved by alice at ")

    # The run fails because of the report, and only the report.
    assert run.state == "failed", run.log[-3000:]
    plan = run.xcom("build_plan")
    assert run.ti_states[("report", -1)] == "failed"
    assert all(run.ti_states[("repay", i)] == "success" for i in range(len(plan)))
    assert sorted((p["group_id"], p["asset"]) for p in plan) == sorted(k for k, v in owed_before.items() if v > 0)
    assert all(p["amount"] == "outstanding" for p in plan)
    assert {p["binance_credit_conn_id"] for p in plan} == {f"binance_credit_{g}" for g, _ in owed_before}

    # Exactly one repay record per planned (unit, asset); XComs equal the records, as exact strings.
    new = [r for r in after["records"] if r not in before["records"]]
    assert sorted((r["groupId"], r["assetName"]) for r in new) == sorted((p["group_id"], p["asset"]) for p in plan)
    records = {(r["groupId"], r["assetName"]): r for r in new}
    for index, item in enumerate(plan):
        record = records[(item["group_id"], item["asset"])]
        result = run.xcom("repay", index)
        assert record["type"] == "NORMAL_REPAY"
        assert run.map_labels[("repay", index)] == f"{item['group_id']} {item['asset']}"
        assert result["transaction_id"] == str(record["tranId"]) == run.xcom("repay", index, "transaction_id")
        assert result["repaid_amount"] == record["amount"] == run.xcom("repay", index, "repaid_amount")
        assert isinstance(result["repaid_amount"], str) and isinstance(result["requested_amount"], str)
        assert result["requested_amount"] == format(owed_before[(item["group_id"], item["asset"])].normalize(), "f")

    # Every unit is settled except 10004, which had only 40000.5 USDT in its MARGIN wallet.
    owed_after = outstanding(after)
    assert {k: v for k, v in owed_after.items() if v > 0} == {(10004, "USDT"): Decimal("60041.15")}
    assert margin_balance(after, 10004, "USDT") == 0
    assert run.xcom("repay", plan.index(next(p for p in plan if p["group_id"] == 10004)))["repaid_amount"] == "40000.5"

    # The report names the unit, the amount left and why; its text is the logged table.
    assert run.report is not None and run.report["ok"] is False
    (failure,) = run.report["failures"]
    assert failure.startswith("risk unit 10004 USDT still owes 60041.15 USDT (tolerance 0.01): partial repay")
    assert "requested 100041.65, Binance repaid 40000.5" in failure
    assert "Settlement incomplete: risk unit 10004 USDT still owes 60041.15" in run.log
    assert run.report_text is not None and "STILL OWES" in run.report_text and run.report_text.strip() in run.log
    rows = {(r["group_id"], r["asset"]): r for r in run.report["rows"]}
    assert rows[("10003", "USDC")]["repaid"] == "750000.12345678"
    assert rows[("10004", "USDT")]["after"] == "60041.15"
    # The same report as Markdown and CSV, through ObjectStoragePath (a local folder here).
    markdown, csv_text = run.report_file("report.md"), run.report_file("report.csv")
    assert "| 10004 | USDT | 100041.65 | 100041.65 | 40000.5 |" in markdown and "**NOT SETTLED (1):**" in markdown
    assert csv_text.splitlines()[0].startswith("group_id,asset,before,requested,repaid,transaction_id")
    assert "10003,USDC,750000.12345678,750000.12345678,750000.12345678," in csv_text


def test_settlement_succeeds_with_funds_and_honours_connection_precedence(
    airflow_env: dict[str, str], sandbox: SandboxServer, demo_creds: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    sandbox.state.set_balance(10004, "USDT", "200000", "MARGIN")
    extra = {
        # Param beats Variable: the Variable's entry for 10004 names a connection that does not exist.
        "AIRFLOW_VAR_BINANCE_LOAN_CONNECTION_MAP": json.dumps({"10004": "no_such_conn", "10003": "ed25519_alias"}),
        "AIRFLOW_CONN_ED25519_ALIAS": conn_json(sandbox.url, demo_creds["credit_ed25519"]),
        "AIRFLOW_CONN_SHORT_ALIAS": conn_json(sandbox.url, demo_creds["credit_short"]),
    }
    conf = {"connection_map": {"10004": "short_alias"}, "max_amount_per_unit": {"10002": "500000"}}
    run = run_dag(airflow_env, sandbox, demo_creds, tmp_path, SETTLEMENT, conf, extra, approval="Approve")

    assert run.state == "success", run.log[-3000:]
    plan = {(p["group_id"], p["asset"]): p for p in run.xcom("build_plan")}
    assert plan[(10004, "USDT")]["binance_credit_conn_id"] == "short_alias"
    assert plan[(10003, "USDC")]["binance_credit_conn_id"] == "ed25519_alias"
    assert plan[(10001, "USDT")]["binance_credit_conn_id"] == "binance_credit_10001"
    assert plan[(10002, "USDT")]["max_amount"] == "500000"
    assert all(v == 0 for v in outstanding(sandbox.state.snapshot()).values())
    report = run.xcom("report")
    assert report == run.report and report["ok"] is True and report["failures"] == []
    assert {r["after"] for r in report["rows"]} == {"0"}


def test_manual_dry_run_changes_nothing(
    airflow_env: dict[str, str], sandbox: SandboxServer, demo_creds: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    before = sandbox.state.snapshot()
    run = run_dag(airflow_env, sandbox, demo_creds, tmp_path, MANUAL, {"group_id": 10002})  # conn by convention
    after = sandbox.state.snapshot()

    assert run.state == "success", run.log[-3000:]
    result = run.xcom("repay")
    assert result["status"] == "dry_run"
    assert (result["requested_amount"], result["repaid_amount"], result["transaction_id"]) == ("450093.71", "0", None)
    assert after["records"] == before["records"] == []
    assert after["riskUnits"] == before["riskUnits"]


def test_manual_repay_of_a_fixed_amount(
    airflow_env: dict[str, str], sandbox: SandboxServer, demo_creds: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    before = sandbox.state.snapshot()
    conf = {"group_id": 10001, "asset": "USDC", "amount": "1234.56789012", "dry_run": False,
            "repay_from": "MARGIN", "max_amount": "5000", "binance_credit_conn_id": "binance_credit_10001"}
    run = run_dag(airflow_env, sandbox, demo_creds, tmp_path, MANUAL, conf)
    after = sandbox.state.snapshot()

    assert run.state == "success", run.log[-3000:]
    (record,) = after["records"]
    assert (record["groupId"], record["assetName"], record["amount"]) == (10001, "USDC", "1234.56789012")
    result = run.xcom("repay")
    assert result["status"] == "repaid"
    assert result["transaction_id"] == str(record["tranId"]) == run.xcom("repay", key="transaction_id")
    assert result["repaid_amount"] == "1234.56789012" == run.xcom("repay", key="repaid_amount")
    assert result["repay_from"] == "MARGIN"
    delta = Decimal("1234.56789012")
    assert outstanding(after)[(10001, "USDC")] == outstanding(before)[(10001, "USDC")] - delta
    assert margin_balance(after, 10001, "USDC") == margin_balance(before, 10001, "USDC") - delta
    assert outstanding(after)[(10001, "USDT")] == outstanding(before)[(10001, "USDT")]


def test_deferred_confirmation_completes_on_the_first_try_under_dag_test(
    airflow_env: dict[str, str], sandbox: SandboxServer, demo_creds: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    """The record shows up 2 s late: the repay defers, dag.test's in-line trigger runner fires, and
    execute_complete (which dag.test calls with the event alone) settles it without a retry."""
    sandbox.set_faults([{"endpoint": "repay", "action": "records_lag", "ms": 2_000}])
    conf = {"group_id": 10002, "amount": "1000", "dry_run": False, "binance_credit_conn_id": "binance_credit_10002"}
    run = run_dag(airflow_env, sandbox, demo_creds, tmp_path, MANUAL, conf)

    assert run.state == "success", run.log[-3000:]
    assert "Waiting in the triggerer for attempt 1 (confirm)" in run.log
    (record,) = sandbox.state.snapshot()["records"]
    result = run.xcom("repay")
    assert (result["status"], result["transaction_id"], result["repaid_amount"]) == ("repaid", str(record["tranId"]),
                                                                                     "1000")
    assert result["record_status"] == "CONFIRM"
    assert sandbox.endpoint_counts["repay"] == 1


def test_manual_repeat_is_refused_unless_meant(
    airflow_env: dict[str, str], sandbox: SandboxServer, demo_creds: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    conf = {"group_id": 10001, "asset": "USDC", "amount": "10", "dry_run": False}
    first = run_dag(airflow_env, sandbox, demo_creds, tmp_path / "1", MANUAL, conf)
    assert first.state == "success", first.log[-3000:]
    again = run_dag(airflow_env, sandbox, demo_creds, tmp_path / "2", MANUAL, conf)
    assert again.state == "failed"
    assert again.ti_states[("guard", -1)] == "failed"
    assert "Refusing to repay: risk unit 10001 already had a USDC repay of 10 in the last 60 minutes" in again.log
    assert len(sandbox.state.snapshot()["records"]) == 1
    meant = run_dag(airflow_env, sandbox, demo_creds, tmp_path / "3", MANUAL, {**conf, "repay_again": True})
    assert meant.state == "success", meant.log[-3000:]
    assert len(sandbox.state.snapshot()["records"]) == 2


def test_insufficient_balance_fails_at_once_and_the_report_says_why(
    airflow_env: dict[str, str], sandbox: SandboxServer, demo_creds: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    """One rejected request, no Airflow retries, and the report carries Binance's reason."""
    sandbox.state.set_balance(10004, "USDT", "0", "MARGIN")
    run = run_dag(airflow_env, sandbox, demo_creds, tmp_path, SETTLEMENT, approval="Approve")
    plan = run.xcom("build_plan")
    short = plan.index(next(p for p in plan if p["group_id"] == 10004))
    assert run.ti_states[("repay", short)] == "failed"
    assert sandbox.endpoint_counts["repay"] == len(plan)  # exactly one request for the short unit: no retries
    (failure,) = run.report["failures"]
    assert "risk unit 10004 USDT still owes 100041.65" in failure
    assert "Insufficient balance: Binance refused to repay 100041.65 USDT on risk unit 10004" in failure


@pytest.mark.parametrize(("answer", "said"), [("Reject", "rejected by bob at "), ("timeout", "the approval timed out")])
def test_rejected_or_timed_out_plan_repays_nothing_and_the_report_says_who(
    airflow_env: dict[str, str], sandbox: SandboxServer, demo_creds: dict[str, dict[str, Any]], tmp_path: Path,
    answer: str, said: str,
) -> None:
    conf = {"approval_timeout_minutes": 0.05}  # 3 s
    run = run_dag(airflow_env, sandbox, demo_creds, tmp_path, SETTLEMENT, conf, approval=answer, approver="bob")
    assert run.state == "failed", run.log[-3000:]
    assert sandbox.state.snapshot()["records"] == []
    assert "repay" not in sandbox.endpoint_counts
    assert run.report["approval"].startswith(said)
    assert all(f"not repaid: {run.report['approval']}" in failure for failure in run.report["failures"])
    assert len(run.report["failures"]) == 5


def test_small_plan_approves_itself_and_says_why(
    airflow_env: dict[str, str], sandbox: SandboxServer, demo_creds: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    sandbox.state.set_balance(10004, "USDT", "200000", "MARGIN")
    run = run_dag(airflow_env, sandbox, demo_creds, tmp_path, SETTLEMENT, {"approval_threshold": "5000000"})
    assert run.state == "success", run.log[-3000:]
    assert run.report["approval"] == "not needed (no repay and no asset total above 5000000)"
