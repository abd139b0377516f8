"""A throw-away Airflow home for ``dag.test()`` scenarios, and the sandbox connections they use."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent


def migrated_airflow_env(home: Path) -> dict[str, str]:
    """A migrated AIRFLOW_HOME (SQLite) at ``home`` and the environment pointing at it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
    env.update(
        AIRFLOW_HOME=str(home),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        AIRFLOW__CORE__DAGS_FOLDER=str(REPO / "dags"),
    )
    proc = subprocess.run([sys.executable, "-m", "airflow", "db", "migrate"], env=env, capture_output=True,
                          text=True, timeout=180)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return env


def conn_json(url: str, account: dict[str, Any]) -> str:
    return json.dumps({"conn_type": "binance_credit", "host": url, "login": account["apiKey"],
                       "password": account["secret"], "extra": {"key_type": account["keyType"]}})


def connections(url: str, creds: dict[str, dict[str, Any]]) -> dict[str, str]:
    """binance_credit_parent + binance_credit_<groupId> for each demo credit account."""
    env = {"AIRFLOW_CONN_BINANCE_CREDIT_PARENT": conn_json(url, creds["parent"])}
    for account in creds.values():
        if account.get("groupId"):
            env[f"AIRFLOW_CONN_BINANCE_CREDIT_{account['groupId']}"] = conn_json(url, account)
    return env


def run_steps(env: dict[str, str], sandbox: Any, creds: dict[str, Any], tmp_path: Path, dag_id: str,
              steps: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[str]]:
    """Runs (dumped like dag_runner.py) and each run's log."""
    out = tmp_path / "runs.json"
    proc = subprocess.run([sys.executable, str(HERE / "dag_steps_runner.py"), dag_id, str(out), json.dumps(steps)],
                          env={**env, **connections(sandbox.url, creds), "SANDBOX_URL": sandbox.url},
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-5000:]
    logs = proc.stdout.split("=== end of run ")
    return json.loads(out.read_text()), logs


def xcom(run: dict[str, Any], task_id: str) -> Any:
    (value,) = [x["value"] for x in run["xcoms"] if x["task_id"] == task_id and x["key"] == "return_value"]
    return value
