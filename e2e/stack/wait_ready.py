"""Wait until the Airflow stack is usable, or exit 1 saying why (used by airflow.sh).

Ready means: every started component is still running; the API's health endpoint reports the
metadatabase, scheduler, triggerer and dag-processor healthy (with ``--fresh``: heartbeats newer
than this call, i.e. from the restarted process); Celery workers said "ready"; and the DAG
processor has parsed the project's DAGs without import errors.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

RUN_DIR = Path(os.environ["E2E_RUN_DIR"])
API = os.environ["E2E_API_URL"]
EXPECTED_DAGS = ("binance_month_end_settlement", "binance_risk_unit_repay")
HEALTH_KEYS = {"scheduler": "scheduler", "triggerer": "triggerer", "dag-processor": "dag_processor"}


class NotReady(Exception):
    """Not ready yet; the message says what is missing."""


def fail(message: str, component: str | None = None) -> None:
    print(f"[e2e] NOT READY: {message}", file=sys.stderr)
    if component:
        log = RUN_DIR / "logs" / f"{component}.log"
        if log.exists():
            lines = log.read_text(errors="replace").splitlines()[-40:]
            print(f"[e2e] last lines of {log}:", *("    " + line for line in lines), sep="\n", file=sys.stderr)
    sys.exit(1)


def http(method: str, path: str, body: Any = None, token: str | None = None) -> Any:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(API + path, data=data, method=method)  # noqa: S310 - loopback URL
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - loopback URL
        return json.loads(response.read() or b"null")


def alive(component: str) -> bool:
    pidfile = RUN_DIR / "pids" / f"{component}.pid"
    try:
        os.kill(int(pidfile.read_text()), 0)
    except (OSError, ValueError):
        return False
    return True


def check_health(components: list[str], since: datetime | None) -> None:
    health = http("GET", "/api/v2/monitor/health")
    if health["metadatabase"]["status"] != "healthy":
        raise NotReady(f"metadatabase: {health['metadatabase']}")
    for component in components:
        key = HEALTH_KEYS.get(component)
        if key is None:
            continue
        entry = health[key]
        if entry.get("status") != "healthy":
            raise NotReady(f"{component}: {entry}")
        if since is not None:
            beat = entry.get(f"latest_{key}_heartbeat")
            if not beat or datetime.fromisoformat(beat) <= since:
                raise NotReady(f"{component}: no heartbeat from the restarted process yet ({beat})")


def check_workers(components: list[str]) -> None:
    for component in components:
        if component.startswith("worker"):
            log = (RUN_DIR / "logs" / f"{component}.log").read_text(errors="replace")
            if " ready." not in log:
                raise NotReady(f"celery {component} has not said 'ready' yet")


def check_dags() -> None:
    passwords = json.loads(Path(os.environ["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"]).read_text())
    token = http("POST", "/auth/token", {"username": "admin", "password": passwords["admin"]})["access_token"]
    errors = http("GET", "/api/v2/importErrors", token=token)
    if errors["total_entries"]:
        text = "\n".join(f"{e['filename']}:\n{e['stack_trace']}" for e in errors["import_errors"])
        fail(f"the DAG processor reports import errors:\n{text}", "dag-processor")
    for dag_id in EXPECTED_DAGS:
        try:
            http("GET", f"/api/v2/dags/{dag_id}", token=token)
        except urllib.error.HTTPError as exc:
            raise NotReady(f"DAG {dag_id} not parsed yet (HTTP {exc.code})") from None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("components", nargs="+")
    parser.add_argument("--timeout", type=float, default=180)
    parser.add_argument("--fresh", action="store_true", help="require heartbeats newer than now (after a restart)")
    args = parser.parse_args()
    since = datetime.now(UTC) if args.fresh else None
    deadline = time.monotonic() + args.timeout
    reason = "not checked yet"
    while time.monotonic() < deadline:
        for component in args.components:
            if not alive(component):
                fail(f"{component} exited", component)
        try:
            check_health(args.components, since)
            check_workers(args.components)
            if not args.fresh:
                check_dags()
            print(f"[e2e] ready: {', '.join(args.components)}", file=sys.stderr)
            return
        except NotReady as exc:
            reason = str(exc)
        except (urllib.error.URLError, OSError, KeyError, ValueError) as exc:
            reason = f"{type(exc).__name__}: {exc}"
        time.sleep(1)
    component = next((c for c in args.components if c in reason), None)
    fail(f"not ready after {args.timeout:.0f}s: {reason}", component)


if __name__ == "__main__":
    main()
