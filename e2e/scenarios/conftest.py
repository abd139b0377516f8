"""Fixtures for the e2e scenarios: the live stack (started by e2e/run.sh), logged-in API clients, the
sandbox, and the Binance connections created through the REST API the way an operator would.

The scenario files run in the order of their names (the sandbox is shared, so money moved by one
scenario is visible to the next): stack, connections, manual DAG, deferral, unpause, month-end, UI,
task logs.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from binance_loan_sandbox import demo_credentials
from stack_api import AirflowApi, Sandbox, StackInfo

MONTH_END_DAG = "binance_month_end_settlement"
MANUAL_DAG = "binance_risk_unit_repay"
REPAY_POOL = "binance_loan_repay"
PARENT_CONN = "binance_credit_parent"
WRONG_SECRET_CONN = "binance_credit_wrong_secret"
UNREACHABLE_CONN = "binance_credit_unreachable"


@pytest.fixture(scope="session")
def stack() -> StackInfo:
    return StackInfo.from_env()


@pytest.fixture(scope="session")
def api(stack: StackInfo) -> AirflowApi:
    """The REST API as the ``admin`` user (the operator who sets things up and triggers runs)."""
    return AirflowApi(stack.api_url, "admin", stack.password("admin"))


@pytest.fixture(scope="session")
def approver_api(stack: StackInfo) -> AirflowApi:
    """The REST API as a second person, ``approver`` (four-eyes approval)."""
    return AirflowApi(stack.api_url, "approver", stack.password("approver"))


@pytest.fixture(scope="session")
def sandbox(stack: StackInfo) -> Iterator[Sandbox]:
    box = Sandbox(stack.sandbox_url)
    yield box
    box.clear_faults()


def closed_port() -> int:
    """A loopback port nobody listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def connection_bodies(sandbox_url: str) -> dict[str, dict[str, Any]]:
    """REST bodies for the parent and each risk unit's credit account, plus two broken connections."""
    creds = demo_credentials()

    def body(conn_id: str, account: dict[str, Any], *, host: str = sandbox_url, secret: str | None = None,
             description: str) -> dict[str, Any]:
        # As the README says: the port filled in (the list's Test button needs it), the key type detected.
        return {
            "connection_id": conn_id,
            "conn_type": "binance_credit",
            "description": description,
            "host": host,
            "port": urlsplit(host).port,
            "login": account["apiKey"],
            "password": secret if secret is not None else account["secret"],
        }

    bodies = {PARENT_CONN: body(PARENT_CONN, creds["parent"], description="parent account (sandbox)")}
    for name, account in creds.items():
        if account.get("groupId"):
            conn_id = f"binance_credit_{int(account['groupId'])}"
            bodies[conn_id] = body(conn_id, account, description=f"credit account {name} (sandbox)")
    # A real key with the wrong HMAC secret (the signature cannot match), and a sandbox that is not there.
    bodies[WRONG_SECRET_CONN] = body(WRONG_SECRET_CONN, creds["parent"], secret="x" * 64,
                                     description="wrong secret on purpose")
    bodies[UNREACHABLE_CONN] = body(UNREACHABLE_CONN, creds["parent"], host=f"http://127.0.0.1:{closed_port()}",
                                    description="nothing listens there on purpose")
    return bodies


@pytest.fixture(scope="session")
def connections(api: AirflowApi, stack: StackInfo) -> dict[str, dict[str, Any]]:
    """Every connection created with ``POST /api/v2/connections`` (replaced if it already exists)."""
    bodies = connection_bodies(stack.sandbox_url)
    for conn_id, body in bodies.items():
        answer = api.request("POST", "/connections", json=body, expect=(201, 409))
        if answer.status_code == 409:
            api.request("PATCH", f"/connections/{conn_id}", json=body)
    return bodies


@pytest.fixture(scope="session")
def repay_pool(api: AirflowApi) -> dict[str, Any]:
    """The pool the month-end repays run in, created through the REST API before any run."""
    body = {"name": REPAY_POOL, "slots": 8, "description": "Binance loan repays (e2e)", "include_deferred": False}
    answer = api.request("POST", "/pools", json=body, expect=(201, 409))
    pool: dict[str, Any] = answer.json() if answer.status_code == 201 else api.get(f"/pools/{REPAY_POOL}")
    return pool
