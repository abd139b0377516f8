"""Apache Airflow provider for Binance Institutional Loan (risk unit repayments).

Layers: :mod:`airflow_binance_loan.client` (plain client, no Airflow),
:mod:`airflow_binance_loan.hooks` / ``operators`` / ``triggers`` (thin Airflow layer).
The local rehearsal server is a separate distribution, ``binance-loan-sandbox`` (``sandbox/``).
"""

__version__ = "0.1.0"
