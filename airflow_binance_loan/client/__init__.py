"""The plain Binance Institutional Loan client: signing, clock, HTTP, weights, errors. No Airflow import.

Typical use::

    from airflow_binance_loan.client import connect
    client = connect(api_key, secret, base_url="https://api.binance.com")
    result = client.repay(group_id=123456, asset="USDT", amount="100.5")
"""

from __future__ import annotations

from typing import Any

from airflow_binance_loan.client.clock import Clock, ServerTime, SystemClock
from airflow_binance_loan.client.endpoints import ENDPOINTS, Endpoint
from airflow_binance_loan.client.loan_api import LoanClient
from airflow_binance_loan.client.models import (
    ActiveRiskUnit,
    ApiRestrictions,
    BorrowRepayRecord,
    Liability,
    RepayResult,
    RiskUnitDetails,
)
from airflow_binance_loan.client.ratelimit import WeightPacer, shared_pacer
from airflow_binance_loan.client.reconcile import Reconciliation, reconcile
from airflow_binance_loan.client.retry import RetryPolicy
from airflow_binance_loan.client.session import DEFAULT_BASE_URL, BinanceSession
from airflow_binance_loan.client.signing import load_signer


def connect(
    api_key: str,
    secret: str,
    base_url: str = DEFAULT_BASE_URL,
    *,
    key_type: str | None = None,
    passphrase: str | None = None,
    **session_options: Any,
) -> LoanClient:
    """A ready client from an API key and its HMAC secret or PEM private key."""
    signer = load_signer(secret, key_type, passphrase)
    return LoanClient(BinanceSession(api_key, signer, base_url, **session_options))


__all__ = [
    "DEFAULT_BASE_URL",
    "ENDPOINTS",
    "ActiveRiskUnit",
    "ApiRestrictions",
    "BinanceSession",
    "BorrowRepayRecord",
    "Clock",
    "Endpoint",
    "Liability",
    "LoanClient",
    "Reconciliation",
    "RepayResult",
    "RetryPolicy",
    "RiskUnitDetails",
    "ServerTime",
    "SystemClock",
    "WeightPacer",
    "connect",
    "load_signer",
    "reconcile",
    "shared_pacer",
]
