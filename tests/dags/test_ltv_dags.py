"""The LTV DAGs under ``dag.test()`` against an in-process sandbox (real HTTP, real signing): the watch
notifies once per crossing and not again without a new one; the wait DAG's sensor defers, its trigger
fires and the next task gets the unit."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from binance_loan_sandbox import SandboxServer
from dag_env import run_steps, xcom
from ltv_sandbox import all_ltvs, hold_coin, set_prices

from airflow_binance_loan.client.encoding import format_decimal

pytestmark = [pytest.mark.airflow_db, pytest.mark.integration]

WATCHED = 10003  # the unit given SOL, a coin no demo unit holds: a SOL shock moves only its LTV


def test_watch_notifies_once_per_crossing(airflow_env: dict[str, str], sandbox: SandboxServer,
                                          demo_creds: dict[str, Any], tmp_path: Path) -> None:
    hold_coin(sandbox, group_id=WATCHED)
    calm = all_ltvs(sandbox)
    set_prices(sandbox, SOL="5000")
    shocked = all_ltvs(sandbox)
    set_prices(sandbox, SOL="45000")
    level = Decimal("0.35")
    assert max(calm.values()) < level <= shocked[WATCHED]
    assert all(v < level for g, v in shocked.items() if g != WATCHED)

    conf = {"conf": {"warning_levels": ["0.35"], "cooldown_minutes": 0}}
    shock = {"post": "/sandbox/prices", "body": {"prices": {"SOL": "5000"}}}
    calm_again = {"post": "/sandbox/prices", "body": {"prices": {"SOL": "45000"}}}
    runs, logs = run_steps(airflow_env, sandbox, demo_creds, tmp_path, "binance_ltv_watch",
                           [conf, shock, conf, conf, calm_again, conf, shock, conf])
    assert [r["state"] for r in runs] == ["success"] * 5, logs[-1][-3000:]
    results = [xcom(r, "check_ltv") for r in runs]
    assert [[a["group_id"] for a in r["notified"]] for r in results] == [[], [WATCHED], [], [], [WATCHED]]
    assert [log.count("LTV ALERT") for log in logs[:5]] == [0, 1, 0, 0, 1]
    assert results[3]["cleared"] == [f"{WATCHED}@0.35"] and results[2]["above"] == [f"{WATCHED}@0.35"]

    alert = results[1]["notified"][0]
    assert (alert["ltv"], alert["level"]) == (format_decimal(shocked[WATCHED]), "0.35")
    unit = sandbox.state.unit(WATCHED)
    owed = sum((x.outstanding for x in unit.liabilities.values()), Decimal(0))
    assert alert["unit"]["total_liability"] == format_decimal(owed)
    # R = L - 0.35 (E - M) from the unit's own figures, strictly under the level afterwards.
    figures = alert["unit"]
    room = Decimal(figures["total_net_equity"]) - Decimal(figures["total_maintenance_margin"])
    repay = Decimal(alert["estimate"]["repay_from_unit"])
    assert (owed - repay) / room < level <= (owed - repay + Decimal("0.00000001")) / room
    assert f"Repaying {alert['estimate']['repay_from_unit']} from the credit account's wallet" in logs[1]
    assert f"Binance risk unit {WATCHED}: LTV {alert['ltv']} is at or above 0.35" in logs[1]


def test_wait_dag_defers_and_hands_the_unit_on(airflow_env: dict[str, str], sandbox: SandboxServer,
                                               demo_creds: dict[str, Any], tmp_path: Path) -> None:
    ltv = all_ltvs(sandbox)[10004]
    conf = {"conf": {"group_id": 10004, "direction": "at_most", "level": format_decimal(ltv + Decimal("0.01"))}}
    (run,), logs = run_steps(airflow_env, sandbox, demo_creds, tmp_path, "binance_ltv_wait", [conf])
    assert run["state"] == "success", logs[0][-3000:]
    event = xcom(run, "wait_for_ltv")
    assert event["status"] == "crossed" and event["unit"]["ltv"] == format_decimal(ltv)
    assert event["threshold"] == {"direction": "at_most", "level": format_decimal(ltv + Decimal("0.01"))}
    assert xcom(run, "continue_workflow") == event["unit"]
    assert "Waiting in the triggerer for risk unit 10004 at LTV ≤" in logs[0]
