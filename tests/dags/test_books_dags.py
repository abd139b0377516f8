"""The month-end books DAG under ``dag.test()`` against the sandbox: the files' totals equal a
recomputation from the sandbox's state, the Asset event is emitted with where the books are, and a
re-run for the same month replaces them in one step (the previous version kept, the pointer switched)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from binance_loan_sandbox import SandboxServer
from books_sandbox import MONTH, recomputed_totals, rehearse_month
from dag_env import run_steps, xcom

from airflow_binance_loan.books.publish import POINTER, read_current
from airflow_binance_loan.client.loan_api import LoanClient

pytestmark = [pytest.mark.airflow_db, pytest.mark.integration]


def test_books_export_reconciles_emits_the_asset_and_reruns_atomically(
    airflow_env: dict[str, str], sandbox: SandboxServer, demo_creds: dict[str, Any],
    client_for: Callable[..., LoanClient], tmp_path: Path,
) -> None:
    rehearse_month(sandbox, client_for)
    reports = tmp_path / "reports"
    env = {**airflow_env, "AIRFLOW_VAR_BINANCE_LOAN_REPORT_LOCATION": f"file://{reports}"}
    conf = {"conf": {"month": MONTH.label}}
    runs, logs = run_steps(env, sandbox, demo_creds, tmp_path, "binance_month_end_books", [conf, conf])
    assert [r["state"] for r in runs] == ["success", "success"], logs[-1][-3000:]

    month_folder = reports / "binance_loan_books" / MONTH.label
    first, second = (xcom(r, "export_books") for r in runs)
    assert first["version"] != second["version"]
    # Each run emitted one event on the asset, carrying what its task returned.
    for run, result in zip(runs, (first, second), strict=True):
        (event,) = run["asset_events"]
        assert (event["asset"], event["task_id"]) == ("binance_loan_books", "export_books")
        assert event["extra"] == result and result["location"] == f"file://{month_folder}"

    pointer, current = read_current(month_folder)  # the files match CURRENT.json's hashes
    assert pointer["version"] == second["version"] and pointer["month"] == MONTH.label
    assert sorted(p.name for p in month_folder.iterdir()) == sorted([POINTER, first["version"], second["version"]])

    expected = recomputed_totals(sandbox)
    document = json.loads((current / "books.json").read_text())
    assert document["totals"] == expected["all"] == second["totals"]
    assert {str(u["group_id"]): u["totals"] for u in document["units"] if u["totals"]} == {
        scope: totals for scope, totals in expected.items() if scope != "all"}
    rows = {(r["scope"], r["asset"]): r for r in csv.DictReader(io.StringIO((current / "totals.csv").read_text()))}
    assert rows[("all", "USDT")]["interest_charged"] == expected["all"]["USDT"]["interest_charged"]
    assert rows[("10004", "USDT")]["repaid"] == "5000"
    assert second["units"] == [10001, 10002, 10003, 10004]
