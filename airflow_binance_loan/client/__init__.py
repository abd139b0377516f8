"""The plain Binance Institutional Loan client: signing, clock, HTTP, weights, errors. No Airflow import.

Typical use::

    from airflow_binance_loan.client import connect
    client = connect(api_key, secret, base_url="https://api.binance.com")
    result = client.repay(group_id=123456, asset="USDT", amount="100.5")

This package exports what a user needs; the parts (signing, pacing, budgets, the session,
the endpoint table) stay importable from their own modules.
"""

from __future__ import annotations

from airflow_binance_loan.client.connect import connect
from airflow_binance_loan.client.loan_api import LoanClient
from airflow_binance_loan.client.models import (
    ActiveRiskUnit,
    ApiRestrictions,
    BorrowRepayRecord,
    BorrowResult,
    InterestRecord,
    Liability,
    RepayResult,
    RiskUnitDetails,
)
from airflow_binance_loan.client.reconcile import Reconciliation, SentRepay, Snapshot, examine, reconcile
from airflow_binance_loan.client.retry import RetryPolicy
from airflow_binance_loan.exceptions import (
    AuthenticationError,
    BinanceAPIError,
    BinanceLoanError,
    ConfigurationError,
    ExecutionUnknownError,
    InsufficientBalanceError,
    InvalidParameterError,
    InvalidSignatureError,
    NetworkError,
    RateLimitError,
    ServerError,
)

__all__ = [
    "ActiveRiskUnit",
    "ApiRestrictions",
    "AuthenticationError",
    "BinanceAPIError",
    "BinanceLoanError",
    "BorrowRepayRecord",
    "BorrowResult",
    "ConfigurationError",
    "ExecutionUnknownError",
    "InsufficientBalanceError",
    "InterestRecord",
    "InvalidParameterError",
    "InvalidSignatureError",
    "Liability",
    "LoanClient",
    "NetworkError",
    "RateLimitError",
    "Reconciliation",
    "RepayResult",
    "RetryPolicy",
    "RiskUnitDetails",
    "SentRepay",
    "ServerError",
    "Snapshot",
    "connect",
    "examine",
    "reconcile",
]
