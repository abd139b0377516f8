"""Sandbox helpers for the LTV tests: a price shock through the admin API, and a clock that applies it
after a given number of waits (virtual time: nothing sleeps)."""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import requests
from binance_loan_sandbox import SandboxServer, VirtualClock

#: Unit 10002 (credit account credit_rsa) holds 10 SOL in its SPOT wallet for these tests.
UNIT = 10002


def set_prices(server: SandboxServer, **prices: str) -> dict[str, Any]:
    """``POST /sandbox/prices`` (the admin API a rehearsal uses)."""
    answer = requests.post(f"{server.url}/sandbox/prices", json={"prices": prices}, timeout=10)
    assert answer.status_code == 200, answer.text
    result: dict[str, Any] = answer.json()
    return result


def hold_coin(server: SandboxServer, price: str = "45000", amount: str = "10", group_id: int = UNIT) -> None:
    """A unit (10002 by default) holds SOL in its credit account's SPOT wallet, valued at ``price``."""
    answer = requests.post(f"{server.url}/sandbox/balance", timeout=10,
                           json={"groupId": group_id, "asset": "SOL", "amount": amount, "wallet": "SPOT"})
    assert answer.status_code == 200, answer.text
    set_prices(server, SOL=price)


def ltv_of(server: SandboxServer, group_id: int = UNIT) -> Decimal:
    """The unit's LTV as the sandbox computes it now (from its admin state, not through the client)."""
    from binance_loan_sandbox.valuation import ltv

    return ltv(server.state, server.state.unit(group_id))


def all_ltvs(server: SandboxServer) -> dict[int, Decimal]:
    """Every unit's LTV as the sandbox computes it now."""
    return {g: ltv_of(server, g) for g in server.state.units}


def conn_env(server: SandboxServer, account: dict[str, Any], **extra: Any) -> str:
    """An ``AIRFLOW_CONN_*`` JSON value for a demo account against ``server``."""
    return json.dumps({"conn_type": "binance_credit", "host": server.url, "login": account["apiKey"],
                       "password": account["secret"], "extra": {"key_type": account["keyType"], **extra}})


class ScriptedClock(VirtualClock):
    """Virtual time whose ``sleep(seconds)`` of at least ``min_seconds`` counts as one wait; ``on_wait[n]``
    runs after the n-th such wait (e.g. a price shock between two polls)."""

    def __init__(self, on_wait: dict[int, Callable[[], Any]], min_seconds: float = 5.0) -> None:
        super().__init__()
        self.on_wait = on_wait
        self.min_seconds = min_seconds
        self.waits = 0

    def sleep(self, seconds: float) -> None:
        super().sleep(seconds)
        if seconds >= self.min_seconds:
            self.waits += 1
            action = self.on_wait.get(self.waits)
            if action is not None:
                action()
