"""
### Binance month-end loan books

At 00:30 UTC on the 1st of every month (`BOOKS_CRON`), exports the month that has just closed, for
each risk unit: its borrow and repay records and its interest history, as `records.csv`,
`interest.csv`, `totals.csv` and `books.json` (per-asset totals: borrowed, repaid, repaid principal,
repaid interest, interest charged; exact decimal strings), under
`<report_location>/binance_loan_books/<YYYY-MM>/` through `ObjectStoragePath` (the param, else the
Variable `binance_loan_report_location`, else `$AIRFLOW_HOME/binance_settlement_reports`; any fsspec
URL such as `s3://bucket/finance` works with its provider installed).

**All or nothing.** Each export is a new version folder; `CURRENT.json`, switched last, names the
complete one and each file's SHA-256. A re-run for the same month replaces the books in one step;
a failed export leaves them as they were. Read through `CURRENT.json`.

**For accounting**: the export updates the Asset `binance_loan_books`; the event's `extra` gives the
month, the folder and the totals. `binance_loan_books_accounting` is an example consumer scheduled on it.

Which connection reads which unit (the records need the unit's *credit* account): the param
`connection_map`, then the Variable `binance_loan_connection_map`, then `binance_credit_<groupId>`,
as in the month-end settlement. The units are those the parent connection lists in `ltv-details`
(active units); trigger a run with `month` to export another month.

Why a DAG of its own and not a step of `binance_month_end_settlement`: the settlement runs at 18:00
on the month's last day, before the month has closed (six hours of interest, and any later repay,
would be missing from the books); and the books are read-only, so they need neither the settlement's
four eyes nor its late-slot guard.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from airflow.sdk import DAG, Param, task

from airflow_binance_loan.operators.books import LoanBooksOperator
from airflow_binance_loan.timetables import PunctualCronTimetable

BOOKS_CRON = "30 0 1 * *"
BOOKS_TIMEZONE = "UTC"

with DAG(
    dag_id="binance_month_end_books",
    schedule=PunctualCronTimetable(BOOKS_CRON, timezone=BOOKS_TIMEZONE),
    start_date=datetime(2026, 1, 1, tzinfo=UTC),
    catchup=False,
    max_active_runs=1,
    doc_md=__doc__,
    tags=["binance", "loan", "accounting"],
    params={
        "parent_conn_id": Param("binance_credit_parent", type="string", minLength=1, title="Parent connection",
                                description="Lists the risk units (ltv-details)."),
        "month": Param("", type="string", pattern=r"^(|[0-9]{4}-(0[1-9]|1[0-2]))$", title="Month (YYYY-MM)",
                       description="Empty: the month before the run's date (the month that closed last)."),
        "connection_map": Param({}, type="object", title="Connection per risk unit",
                                description='{"<groupId>": "<conn_id>"} of each credit account; beats the '
                                "Variable binance_loan_connection_map, which beats binance_credit_<groupId>.",
                                propertyNames={"pattern": "^[1-9][0-9]*$"},
                                additionalProperties={"type": "string", "minLength": 1}),
        "report_location": Param("", type="string", title="Location",
                                 description="Folder URL, e.g. s3://bucket/finance. Empty: the Variable "
                                 "binance_loan_report_location, else $AIRFLOW_HOME/binance_settlement_reports."),
    },
) as dag:

    @task
    def units(params: dict[str, Any]) -> list[dict[str, Any]]:
        """Every risk unit the parent lists, with the connection of its credit account."""
        from airflow.sdk import Variable
        from binance_settlement_lib.plan import CONNECTION_MAP_VARIABLE, connection_for

        from airflow_binance_loan.hooks.credit import BinanceCreditHook

        variable_map = Variable.get(CONNECTION_MAP_VARIABLE, default=None, deserialize_json=True)
        return [{"group_id": unit.group_id,
                 "binance_credit_conn_id": connection_for(unit.group_id, params["connection_map"], variable_map)[0]}
                for unit in sorted(BinanceCreditHook(params["parent_conn_id"]).ltv_details(),
                                   key=lambda u: u.group_id)]

    LoanBooksOperator(
        task_id="export_books",
        units=units(),
        month="{{ params.month }}",
        location="{{ params.report_location }}",
    )
