"""Clients for the running e2e stack: Airflow's REST API (as a logged-in user), the sandbox's admin
endpoints, the Airflow CLI, and the stack scripts (to stop and start a component).

Everything here talks to real processes over HTTP on 127.0.0.1; nothing is faked.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

import requests

E2E_DIR = Path(__file__).resolve().parent.parent
STACK_DIR = E2E_DIR / "stack"
T = TypeVar("T")


def wait_until(check: Callable[[], T | None], timeout: float, what: str, interval: float = 1.0) -> T:
    """Poll ``check`` until it returns something truthy; fail naming ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(interval)


@dataclass(frozen=True)
class StackInfo:
    """Where the stack lives (from the environment e2e/run.sh exports)."""

    api_url: str
    sandbox_url: str
    results_dir: Path
    run_dir: Path
    executor: str

    @classmethod
    def from_env(cls) -> StackInfo:
        missing = [k for k in ("E2E_API_URL", "E2E_SANDBOX_URL", "E2E_RESULTS_DIR", "E2E_RUN_DIR")
                   if not os.environ.get(k)]
        if missing:
            raise RuntimeError(f"{', '.join(missing)} not set: run the scenarios through e2e/run.sh (make e2e)")
        return cls(
            api_url=os.environ["E2E_API_URL"],
            sandbox_url=os.environ["E2E_SANDBOX_URL"],
            results_dir=Path(os.environ["E2E_RESULTS_DIR"]),
            run_dir=Path(os.environ["E2E_RUN_DIR"]),
            executor=os.environ.get("EXECUTOR", "local"),
        )

    def password(self, user: str) -> str:
        passwords: dict[str, str] = json.loads(
            Path(os.environ["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"]).read_text(encoding="utf-8"))
        return passwords[user]


class ApiError(AssertionError):
    """An unexpected HTTP answer from the Airflow API (status and body in the message)."""


@dataclass
class AirflowApi:
    """Airflow's public REST API (``/api/v2``) as one simple-auth-manager user, with a JWT from ``/auth/token``."""

    base_url: str
    username: str
    password: str
    session: requests.Session = field(default_factory=requests.Session)

    def __post_init__(self) -> None:
        answer = self.session.post(f"{self.base_url}/auth/token",
                                   json={"username": self.username, "password": self.password}, timeout=30)
        if answer.status_code != 201:
            raise ApiError(f"login as {self.username} failed: HTTP {answer.status_code} {answer.text}")
        self.token: str = answer.json()["access_token"]
        self.session.headers["Authorization"] = f"Bearer {self.token}"

    # -- plain calls ---------------------------------------------------------------------------------

    def request(self, method: str, path: str, expect: Iterable[int] | None = (200,),
                **kwargs: Any) -> requests.Response:
        """``method`` ``/api/v2`` + ``path``; raises ApiError unless the status is in ``expect`` (None: any)."""
        kwargs.setdefault("timeout", 60)
        answer = self.session.request(method, f"{self.base_url}/api/v2{path}", **kwargs)
        if expect is not None and answer.status_code not in set(expect):
            raise ApiError(f"{method} /api/v2{path}: HTTP {answer.status_code} {answer.text[:2000]}")
        return answer

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.request("GET", path, **kwargs).json()

    def post(self, path: str, body: Any, expect: Iterable[int] | None = (200, 201), **kwargs: Any) -> Any:
        return self.request("POST", path, json=body, expect=expect, **kwargs).json()

    def patch(self, path: str, body: Any, expect: Iterable[int] | None = (200,), **kwargs: Any) -> Any:
        return self.request("PATCH", path, json=body, expect=expect, **kwargs).json()

    # -- DAGs and runs -------------------------------------------------------------------------------

    def dag(self, dag_id: str) -> dict[str, Any]:
        result: dict[str, Any] = self.get(f"/dags/{dag_id}/details")
        return result

    def set_paused(self, dag_id: str, paused: bool) -> dict[str, Any]:
        result: dict[str, Any] = self.patch(f"/dags/{dag_id}", {"is_paused": paused})
        return result

    def dag_runs(self, dag_id: str) -> list[dict[str, Any]]:
        runs: list[dict[str, Any]] = self.get(f"/dags/{dag_id}/dagRuns", params={"limit": 100})["dag_runs"]
        return runs

    def trigger(self, dag_id: str, conf: dict[str, Any], run_id: str | None = None) -> dict[str, Any]:
        """Trigger a manual run (``logical_date`` null, like the UI's Trigger button)."""
        body: dict[str, Any] = {"conf": conf, "logical_date": None}
        if run_id:
            body["dag_run_id"] = run_id
        run: dict[str, Any] = self.post(f"/dags/{dag_id}/dagRuns", body)
        return run

    def dag_run(self, dag_id: str, run_id: str) -> dict[str, Any]:
        run: dict[str, Any] = self.get(f"/dags/{dag_id}/dagRuns/{quote(run_id, safe='')}")
        return run

    def wait_run(self, dag_id: str, run_id: str, timeout: float,
                 on_poll: Callable[[], None] | None = None) -> dict[str, Any]:
        """Wait until the run is success/failed; ``on_poll`` runs on every poll (e.g. to approve)."""
        def finished() -> dict[str, Any] | None:
            if on_poll:
                on_poll()
            run = self.dag_run(dag_id, run_id)
            return run if run["state"] in ("success", "failed") else None

        try:
            return wait_until(finished, timeout, f"DAG run {dag_id} {run_id} to finish", interval=2)
        except AssertionError as exc:
            states = {f"{t['task_id']}[{t['map_index']}]": t["state"] for t in self.task_instances(dag_id, run_id)}
            raise AssertionError(f"{exc}; task states: {states}") from None

    def task_instances(self, dag_id: str, run_id: str, task_id: str | None = None) -> list[dict[str, Any]]:
        tis: list[dict[str, Any]] = self.get(f"/dags/{dag_id}/dagRuns/{quote(run_id, safe='')}/taskInstances",
                                             params={"limit": 100})["task_instances"]
        return [t for t in tis if task_id is None or t["task_id"] == task_id]

    def task_instance(self, dag_id: str, run_id: str, task_id: str, map_index: int = -1) -> dict[str, Any]:
        path = f"/dags/{dag_id}/dagRuns/{quote(run_id, safe='')}/taskInstances/{task_id}"
        if map_index >= 0:
            path += f"/{map_index}"
        ti: dict[str, Any] = self.get(path)
        return ti

    def xcom(self, dag_id: str, run_id: str, task_id: str, key: str = "return_value", map_index: int = -1) -> Any:
        """The XCom value exactly as stored (JSON). Not ``deserialize=true``: Airflow 3.3 then parses a stored
        string once more, so the string ``"12317283617"`` comes back as a number (and ``"30.5"`` as a float)."""
        entry = self.get(f"/dags/{dag_id}/dagRuns/{quote(run_id, safe='')}/taskInstances/{task_id}/xcomEntries/{key}",
                         params={"map_index": map_index})
        return entry["value"]

    def task_log(self, dag_id: str, run_id: str, task_id: str, try_number: int = 1, map_index: int = -1) -> str:
        """The task's log as the UI shows it (structured lines joined into text)."""
        answer = self.request(
            "GET", f"/dags/{dag_id}/dagRuns/{quote(run_id, safe='')}/taskInstances/{task_id}/logs/{try_number}",
            params={"map_index": map_index, "full_content": "true"}, headers={"Accept": "application/json"})
        content = answer.json().get("content", [])
        lines = []
        for item in content if isinstance(content, list) else [content]:
            if isinstance(item, dict):
                lines.append(" ".join(str(item.get(k, "")) for k in ("timestamp", "level", "event") if item.get(k)))
                lines.extend(f"    {k}={v}" for k, v in item.items() if k not in ("timestamp", "level", "event"))
            else:
                lines.append(str(item))
        return "\n".join(lines)

    # -- human in the loop ---------------------------------------------------------------------------

    def pending_approvals(self, dag_id: str, run_id: str) -> list[dict[str, Any]]:
        answer = self.request("GET", f"/dags/{dag_id}/dagRuns/{quote(run_id, safe='')}/hitlDetails",
                              expect=None)
        if answer.status_code != 200:
            return []
        details: list[dict[str, Any]] = answer.json().get("hitl_details", [])
        return [d for d in details if not d.get("response_received")]


@dataclass
class Sandbox:
    """The sandbox's admin endpoints (state, faults): the ground truth of what Binance did."""

    url: str

    def state(self) -> dict[str, Any]:
        answer = requests.get(f"{self.url}/sandbox/state", timeout=30)
        answer.raise_for_status()
        state: dict[str, Any] = answer.json()["state"]
        return state

    def repay_records(self) -> list[dict[str, Any]]:
        return [r for r in self.state()["records"] if r["type"] in ("NORMAL_REPAY", "FORCE_REPAY")]

    def set_faults(self, rules: list[dict[str, Any]]) -> None:
        answer = requests.post(f"{self.url}/sandbox/faults", json=rules, timeout=30)
        assert answer.status_code == 200, f"POST /sandbox/faults: HTTP {answer.status_code} {answer.text}"

    def clear_faults(self) -> None:
        requests.delete(f"{self.url}/sandbox/faults", timeout=30).raise_for_status()

    def liabilities(self) -> dict[tuple[int, str], dict[str, str]]:
        """(groupId, asset) → principal, interest and the credit account's MARGIN balance (strings)."""
        out = {}
        for unit in self.state()["riskUnits"]:
            margin = unit["credit"]["wallets"].get("MARGIN", {})
            for asset, row in unit["liabilities"].items():
                out[(int(unit["groupId"]), asset)] = {**row, "margin": margin.get(asset, "0")}
        return out


def airflow_cli(*args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    """``airflow ARGS`` with the stack's configuration (it talks to the same Postgres)."""
    airflow = Path(os.environ.get("VENV", E2E_DIR.parent / ".venv")) / "bin" / "airflow"
    return subprocess.run([str(airflow), *args], capture_output=True, text=True, timeout=timeout,
                          env=os.environ.copy(), check=False)


def stop_component(component: str) -> None:
    """Stop one Airflow component (e.g. the triggerer) through the stack script."""
    result = subprocess.run([str(STACK_DIR / "airflow.sh"), "stop-one", component], capture_output=True,
                            text=True, timeout=120, check=False)
    assert result.returncode == 0, f"stopping {component} failed:\n{result.stdout}\n{result.stderr}"


def start_component(component: str) -> None:
    """Start one Airflow component again and wait until the API reports it healthy."""
    result = subprocess.run([str(STACK_DIR / "airflow.sh"), "start-one", component], capture_output=True,
                            text=True, timeout=240, check=False)
    assert result.returncode == 0, f"starting {component} failed:\n{result.stdout}\n{result.stderr}"
