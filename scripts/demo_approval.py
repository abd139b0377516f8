"""The demo's second person: approves the settlement plan through Airflow's REST API, as a real approver would.

Starts ``airflow api-server`` on a free loopback port next to ``airflow dags test``, logs in as the
approver (simple auth manager: ``POST /auth/token`` with the generated password), waits for the
``approve`` task's human-in-the-loop request, and answers it with
``PATCH /api/v2/dags/{dag}/dagRuns/{run}/taskInstances/approve/-1/hitlDetails``.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

APPROVER = "treasury-approver"
TASK_ID = "approve"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def approver_env(port: int) -> dict[str, str]:
    """What the api-server needs: loopback only, and one approver user (role ``op`` may answer)."""
    return {
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{APPROVER}:op",
        "AIRFLOW__API__HOST": "127.0.0.1",
        "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{port}",
    }


class RestApprover:
    """Talks to the api-server as the approver.

    :param base: the api-server URL.
    :param home: AIRFLOW_HOME (holds the generated passwords file).
    """

    def __init__(self, base: str, home: Path) -> None:
        self.base = base
        self.home = home
        self._token: str | None = None

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        headers = {"Content-Type": "application/json"}
        if self._token:
            headers["Authorization"] = f"Bearer {self._token}"
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.base + path, data=data, headers=headers, method=method)  # noqa: S310
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - loopback URL
            text = response.read().decode()
        return json.loads(text) if text else None

    def wait_until_up(self, proc: subprocess.Popen[Any], timeout: float = 90.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError("the api-server exited during start-up")
            try:
                self._call("GET", "/api/v2/monitor/health")
                return
            except (urllib.error.URLError, OSError):
                time.sleep(0.5)
        raise RuntimeError(f"the api-server did not answer within {timeout:.0f} s")

    def log_in(self) -> None:
        passwords = json.loads((self.home / "simple_auth_manager_passwords.json.generated").read_text())
        self._token = self._call("POST", "/auth/token",
                                 {"username": APPROVER, "password": passwords[APPROVER]})["access_token"]

    def approve_when_asked(self, dag_id: str, still_running: Callable[[], bool], timeout: float = 240.0) -> str | None:
        """Approve the first pending request of ``dag_id``'s approve task; returns its run id (None: never asked)."""
        query = urllib.parse.urlencode({"task_id": TASK_ID, "response_received": "false"})
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and still_running():
            pending = self._call("GET", f"/api/v2/dags/{dag_id}/dagRuns/~/hitlDetails?{query}")["hitl_details"]
            if pending:
                run_id = pending[0]["task_instance"]["dag_run_id"]
                path = (f"/api/v2/dags/{dag_id}/dagRuns/{urllib.parse.quote(run_id, safe='')}"
                        f"/taskInstances/{TASK_ID}/-1/hitlDetails")
                self._call("PATCH", path, {"chosen_options": ["Approve"], "params_input": {}})
                return str(run_id)
            time.sleep(1.0)
        return None


def start_api_server(env: dict[str, str], log_path: Path, preexec: Callable[[], None]) -> subprocess.Popen[Any]:
    log = open(log_path, "w", encoding="utf-8")
    return subprocess.Popen([sys.executable, "-m", "airflow", "api-server"], env=env,
                            stdout=log, stderr=subprocess.STDOUT, preexec_fn=preexec)
