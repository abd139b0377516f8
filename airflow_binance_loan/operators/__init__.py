"""Airflow operators of the Binance Institutional Loan provider."""

from airflow_binance_loan.operators.repay import RiskUnitRepayOperator

__all__ = ["RiskUnitRepayOperator"]
