"""
### Binance loan books → accounting (example consumer)

Scheduled on the Asset `binance_loan_books`: runs each time `binance_month_end_books` (or any
`LoanBooksOperator`) publishes a month's books. It follows the event to the month's folder, checks
the files against `CURRENT.json` (SHA-256) and logs the journal figures per asset. Replace
`book_month` with the import into your ledger.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from airflow.sdk import DAG, task

from airflow_binance_loan.operators.books import LOAN_BOOKS_ASSET

with DAG(
    dag_id="binance_loan_books_accounting",
    schedule=[LOAN_BOOKS_ASSET],
    start_date=datetime(2026, 1, 1, tzinfo=UTC),
    catchup=False,
    max_active_runs=1,
    doc_md=__doc__,
    tags=["binance", "loan", "accounting"],
) as dag:

    @task
    def book_month(triggering_asset_events: Any = None) -> list[dict[str, Any]]:
        """For each books event: the verified totals of that month."""
        import logging

        from airflow.sdk import ObjectStoragePath

        from airflow_binance_loan.books.publish import read_current

        log = logging.getLogger("binance_loan_books")
        booked = []
        for event in (triggering_asset_events or {}).get(LOAN_BOOKS_ASSET, []):
            pointer, folder = read_current(ObjectStoragePath(event.extra["location"]))
            if pointer["version"] != event.extra["version"]:
                log.info("Books %s were exported again since this event: booking the current version",
                         pointer["month"])
            totals = (folder / "totals.csv").read_text(encoding="utf-8")
            log.info("Books %s, version %s (checked against CURRENT.json):\n%s", pointer["month"],
                     pointer["version"], totals)
            booked.append({"month": pointer["month"], "version": pointer["version"], "totals_csv": totals})
        return booked

    book_month()
