"""Airflow triggers of the Binance Institutional Loan provider."""

from airflow_binance_loan.triggers.repay_evidence import RepayEvidenceTrigger

__all__ = ["RepayEvidenceTrigger"]
