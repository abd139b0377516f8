"""Scenario 1: connections created through the REST API; the CLI and the REST test endpoint give the
provider's verdicts (success, wrong secret, unreachable)."""

from __future__ import annotations

from typing import Any

import pytest
from conftest import PARENT_CONN, UNREACHABLE_CONN, WRONG_SECRET_CONN
from stack_api import AirflowApi, StackInfo, airflow_cli

SUCCESS = "'Enable Spot & Margin Trading' is ON: repay is allowed."
WRONG_SECRET = "Binance rejected the signature (code -1022)"
UNREACHABLE = "Network unreachable"


def test_connections_created_through_the_rest_api(api: AirflowApi, connections: dict[str, dict[str, Any]]) -> None:
    assert {"binance_credit_parent", "binance_credit_10001", "binance_credit_10002", "binance_credit_10003",
            "binance_credit_10004"} <= set(connections)
    listed = {c["connection_id"]: c for c in api.get("/connections", params={"limit": 100})["connections"]}
    for conn_id, body in connections.items():
        stored = listed.get(conn_id)
        assert stored is not None, f"{conn_id} is not listed by GET /api/v2/connections"
        assert stored["conn_type"] == "binance_credit"
        assert stored["host"] == body["host"]
        assert stored["login"] == body["login"]
        # The API never returns a secret: the password comes back masked.
        assert stored["password"] != body["password"]
        assert body["password"] not in str(stored)


@pytest.mark.parametrize(("conn_id", "ok", "verdict"), [
    (PARENT_CONN, True, "with a HMAC key. "),
    ("binance_credit_10002", True, "with a RSA key. " + SUCCESS),
    ("binance_credit_10003", True, "with a ED25519 key. " + SUCCESS),
    (WRONG_SECRET_CONN, False, WRONG_SECRET),
    (UNREACHABLE_CONN, False, UNREACHABLE),
])
def test_rest_test_endpoint_gives_the_providers_verdict(
    api: AirflowApi, stack: StackInfo, connections: dict[str, dict[str, Any]], conn_id: str, ok: bool, verdict: str,
) -> None:
    # What an API client sends: the stored connection's id and type (the API reuses the stored secret).
    answer = api.post("/connections/test", {"connection_id": conn_id, "conn_type": "binance_credit"}, expect=(200,))
    assert answer["status"] is ok, answer
    assert verdict in answer["message"], answer
    if ok:
        assert answer["message"].startswith(f"Connected to {stack.sandbox_url} "), answer
    # The verdict never carries the secret.
    assert connections[conn_id]["password"] not in answer["message"]


@pytest.mark.parametrize(("conn_id", "ok", "verdict"), [
    ("binance_credit_10001", True, "Connection success!"),
    (WRONG_SECRET_CONN, False, WRONG_SECRET),
    (UNREACHABLE_CONN, False, UNREACHABLE),
])
def test_cli_connections_test_gives_the_providers_verdict(
    connections: dict[str, dict[str, Any]], conn_id: str, ok: bool, verdict: str,
) -> None:
    result = airflow_cli("connections", "test", conn_id)
    output = result.stdout + result.stderr
    assert (result.returncode == 0) is ok, output
    assert verdict in output, output
    assert connections[conn_id]["password"] not in output
