"""Airflow triggers of the Binance Institutional Loan provider."""

from airflow_binance_loan.triggers.repay_confirmation import RepayConfirmationTrigger

__all__ = ["RepayConfirmationTrigger"]
