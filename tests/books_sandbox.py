"""A month of loan activity on the sandbox (borrows, partial repays, hourly interest), and the books
recomputed from the sandbox's own state (``GET /sandbox/state``) to check an export against."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import requests
from binance_loan_sandbox import SandboxServer

from airflow_binance_loan.books.period import Month
from airflow_binance_loan.client.encoding import format_decimal
from airflow_binance_loan.client.loan_api import LoanClient

MONTH = Month(2026, 3)
#: The sandbox's clock is set here first: four days before the month closes.
START = datetime(2026, 3, 28, 12, tzinfo=UTC)
ACCOUNTS = {10001: "credit_hmac", 10002: "credit_rsa", 10003: "credit_ed25519", 10004: "credit_short"}
REPAY_TYPES = ("NORMAL_REPAY", "REPAY", "FORCE_REPAY")


def rehearse_month(server: SandboxServer, client_for: Callable[..., LoanClient]) -> None:
    """Borrows, partial repays and hourly interest in March 2026, then a repay in April (not March's)."""
    server.set_clock_skew(int(START.timestamp() * 1000 - time.time() * 1000))
    hmac_unit, short_unit = client_for("credit_hmac", server), client_for("credit_short", server)
    hmac_unit.borrow(10001, "USDT", "25000.5")
    server.advance_hours(3)
    hmac_unit.repay(10001, "USDT", "1000.25")            # interest first, then principal
    short_unit.repay(10004, "USDT", "5000")              # partial: the unit owes 100041.65
    server.advance_hours(24)
    hmac_unit.borrow(10001, "USDC", "1234.56789012")
    hmac_unit.repay(10001, "USDC", "0.5")
    server.advance_hours(4 * 24)                         # into April, interest every hour
    hmac_unit.repay(10001, "USDT", "10")


def recomputed_totals(server: SandboxServer, month: Month = MONTH) -> dict[str, dict[str, dict[str, str]]]:
    """``{"<groupId>" | "all": {asset: totals}}`` from the sandbox's admin state dump, exact strings."""
    state: dict[str, Any] = requests.get(f"{server.url}/sandbox/state", timeout=30).json()["state"]
    sums: dict[str, dict[str, dict[str, Decimal]]] = {}

    def add(scope: str, asset: str, name: str, amount: Decimal | int) -> None:
        for key in (scope, "all"):
            row = sums.setdefault(key, {}).setdefault(asset, {})
            row[name] = row.get(name, Decimal(0)) + amount

    for record in state["records"]:
        if record["status"] != "CONFIRM" or not month.contains(record["timestamp"]):
            continue
        scope, asset, amount = str(record["groupId"]), record["assetName"], Decimal(record["amount"])
        if record["type"] == "BORROW":
            add(scope, asset, "borrowed", amount)
            add(scope, asset, "borrows", 1)
        elif record["type"] in REPAY_TYPES:
            add(scope, asset, "repaid", amount)
            add(scope, asset, "repaid_principal", Decimal(record["principal"]))
            add(scope, asset, "repaid_interest", Decimal(record["interest"]))
            add(scope, asset, "repays", 1)
    for row in state["interestHistory"]:
        if month.contains(row["interestTimestamp"]):
            add(str(row["groupId"]), row["assetName"], "interest_charged", Decimal(row["interest"]))
            add(str(row["groupId"]), row["assetName"], "interest_rows", 1)
    amounts = ("borrowed", "repaid", "repaid_principal", "repaid_interest", "force_repaid", "interest_charged")
    counts = ("borrows", "repays", "interest_rows")
    return {scope: {asset: {**{n: format_decimal(row.get(n, Decimal(0))) for n in amounts},
                            **{n: int(row.get(n, 0)) for n in counts}} for asset, row in assets.items()}
            for scope, assets in sums.items()}
