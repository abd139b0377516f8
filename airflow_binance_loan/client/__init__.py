"""The plain Binance Institutional Loan client: signing, clock, HTTP, weights, errors. No Airflow import.

Typical use::

    from airflow_binance_loan.client import connect
    client = connect(api_key, secret, base_url="https://api.binance.com")
    result = client.repay(group_id=123456, asset="USDT", amount="100.5")

This package exports what a user needs; the parts (signing, pacing, budgets, the session,
the endpoint table) stay importable from their own modules.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from airflow_binance_loan.lazy_exports import lazy_exports

if TYPE_CHECKING:
    from airflow_binance_loan.client.connect import connect
    from airflow_binance_loan.client.evidence import Reconciliation, SentRepay, Snapshot, examine, reconcile
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

# Imported on first use, so that importing a leaf module (the clock, the models) or the Airflow layer at
# DAG-parse time does not load requests and cryptography.
_HOMES = {
    "connect": "airflow_binance_loan.client.connect",
    "LoanClient": "airflow_binance_loan.client.loan_api",
    "ActiveRiskUnit": "airflow_binance_loan.client.models",
    "ApiRestrictions": "airflow_binance_loan.client.models",
    "BorrowRepayRecord": "airflow_binance_loan.client.models",
    "BorrowResult": "airflow_binance_loan.client.models",
    "InterestRecord": "airflow_binance_loan.client.models",
    "Liability": "airflow_binance_loan.client.models",
    "RepayResult": "airflow_binance_loan.client.models",
    "RiskUnitDetails": "airflow_binance_loan.client.models",
    "Reconciliation": "airflow_binance_loan.client.evidence",
    "SentRepay": "airflow_binance_loan.client.evidence",
    "Snapshot": "airflow_binance_loan.client.evidence",
    "examine": "airflow_binance_loan.client.evidence",
    "reconcile": "airflow_binance_loan.client.evidence",
    "RetryPolicy": "airflow_binance_loan.client.retry",
    "AuthenticationError": "airflow_binance_loan.exceptions",
    "BinanceAPIError": "airflow_binance_loan.exceptions",
    "BinanceLoanError": "airflow_binance_loan.exceptions",
    "ConfigurationError": "airflow_binance_loan.exceptions",
    "ExecutionUnknownError": "airflow_binance_loan.exceptions",
    "InsufficientBalanceError": "airflow_binance_loan.exceptions",
    "InvalidParameterError": "airflow_binance_loan.exceptions",
    "InvalidSignatureError": "airflow_binance_loan.exceptions",
    "NetworkError": "airflow_binance_loan.exceptions",
    "RateLimitError": "airflow_binance_loan.exceptions",
    "ServerError": "airflow_binance_loan.exceptions",
}

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


__getattr__, __dir__ = lazy_exports(__name__, _HOMES, globals())
