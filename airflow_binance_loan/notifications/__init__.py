"""Airflow notifiers of the Binance Institutional Loan provider."""
