"""Airflow operators of the Binance Institutional Loan provider (imported on first use)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from airflow_binance_loan.lazy_exports import lazy_exports

if TYPE_CHECKING:
    from airflow_binance_loan.operators.books import LoanBooksOperator
    from airflow_binance_loan.operators.repay import RiskUnitRepayOperator

__all__ = ["LoanBooksOperator", "RiskUnitRepayOperator"]
_HOMES = {
    "LoanBooksOperator": "airflow_binance_loan.operators.books",
    "RiskUnitRepayOperator": "airflow_binance_loan.operators.repay",
}
__getattr__, __dir__ = lazy_exports(__name__, _HOMES, globals())
