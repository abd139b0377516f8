"""Airflow hooks of the Binance Institutional Loan provider."""

from airflow_binance_loan.hooks.credit import BinanceCreditHook

__all__ = ["BinanceCreditHook"]
