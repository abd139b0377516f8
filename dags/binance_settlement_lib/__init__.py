"""Pure helpers for the Binance settlement DAGs (no Airflow, no network: importable and testable anywhere).

Kept out of the DAG files so the files stay thin and parse fast; listed in ``dags/.airflowignore``
so the DAG processor does not scan it for DAGs. Amounts are always decimal *strings* here
(XCom would turn a ``Decimal`` into a float).
"""
