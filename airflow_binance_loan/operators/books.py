"""LoanBooksOperator: export a closed month's loan books per risk unit, and emit an Asset event.

For each risk unit it reads the month's borrow and repay records and interest history (credit
account's key), writes ``books.json``, ``records.csv``, ``interest.csv`` and ``totals.csv`` through
``ObjectStoragePath`` (a local folder by default, any fsspec URL you configure) all or nothing (see
:mod:`airflow_binance_loan.books.publish`), and emits an event on :data:`LOAN_BOOKS_ASSET` whose
``extra`` says which month, where the files are and the totals, so an accounting DAG scheduled on
that asset can book them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from airflow.sdk import Asset, BaseOperator, Context
from airflow.sdk.exceptions import AirflowFailException

from airflow_binance_loan.conventions import PARENT_CONNECTION_ID, credit_connection_id, report_location
from airflow_binance_loan.exceptions import ConfigurationError, InvalidParameterError

if TYPE_CHECKING:
    from airflow_binance_loan.books.period import Month

#: The asset a books export updates; schedule an accounting DAG on it.
LOAN_BOOKS_ASSET = Asset(name="binance_loan_books")
BOOKS_FOLDER = "binance_loan_books"


class LoanBooksOperator(BaseOperator):
    """Export the month's borrow/repay records, interest history and per-asset totals of each risk unit.

    :param units: the units to export (templated): group ids (read with ``binance_credit_<groupId>``) or
        ``{"group_id": ..., "binance_credit_conn_id": ...}`` items; None: every unit the parent connection
        lists in ``ltv-details`` (active units only: pass a unit closed during the month explicitly).
    :param month: ``YYYY-MM`` (templated); None or "": the month before the run's logical date (the month
        that closed last).
    :param location: folder URL (templated), e.g. ``s3://bucket/finance``; None or "": the Variable
        ``binance_loan_report_location``, else ``$AIRFLOW_HOME/binance_settlement_reports``. Files go to
        ``<location>/binance_loan_books/<YYYY-MM>/``.
    :param parent_conn_id: the parent account's connection, to list the units when ``units`` is None.
    :param asset: the asset the export updates (default :data:`LOAN_BOOKS_ASSET`; None: no event).
    """

    template_fields: Sequence[str] = ("units", "month", "location", "parent_conn_id")
    ui_color = "#f0b90b"

    def __init__(
        self,
        *,
        units: Sequence[int | str | dict[str, Any]] | None = None,
        month: str | None = None,
        location: str | None = None,
        parent_conn_id: str = PARENT_CONNECTION_ID,
        asset: Asset | None = LOAN_BOOKS_ASSET,
        **kwargs: Any,
    ) -> None:
        outlets = list(kwargs.pop("outlets", None) or [])
        if asset is not None and asset not in outlets:
            outlets.append(asset)
        super().__init__(outlets=outlets, **kwargs)
        self.units = units
        self.month = month
        self.location = location
        self.parent_conn_id = parent_conn_id
        self.asset = asset

    # -- inputs ------------------------------------------------------------------------------------

    def month_to_export(self, context: Context) -> Month:
        """``month`` if given, else the month before the run's logical date (or its run_after)."""
        from airflow_binance_loan.books.period import Month

        if self.month is not None and str(self.month).strip():
            return Month.parse(self.month)
        moment = context.get("logical_date") or context["dag_run"].run_after
        return Month.before(moment)

    def units_to_export(self) -> list[tuple[int, str]]:
        """``(group_id, connection id)`` of each unit, validated; listed by the parent when ``units`` is None."""
        from airflow_binance_loan.client.validation import validate_group_id

        units = self.units
        if units is None:
            from airflow_binance_loan.hooks.credit import BinanceCreditHook

            units = sorted(u.group_id for u in BinanceCreditHook(self.parent_conn_id).ltv_details())
        if isinstance(units, str | bytes) or not isinstance(units, Sequence):
            raise InvalidParameterError("units", units, "must be a list of group ids or {group_id, "
                                        "binance_credit_conn_id} items")
        result: dict[int, str] = {}
        for item in units:
            if isinstance(item, dict):
                group_id = validate_group_id(item.get("group_id"), "units[].group_id")
                conn_id = item.get("binance_credit_conn_id") or credit_connection_id(group_id)
            else:
                group_id = validate_group_id(item, "units[]")
                conn_id = credit_connection_id(group_id)
            result[group_id] = str(conn_id)
        if not result:
            raise InvalidParameterError("units", units, "no risk unit to export")
        return sorted(result.items())

    # -- execution ---------------------------------------------------------------------------------

    def execute(self, context: Context) -> dict[str, Any]:
        """Read, render, publish, emit the asset event; return where and what (amounts as strings).

        :param context: the task context.
        """
        from airflow.sdk import ObjectStoragePath

        from airflow_binance_loan.books.ledger import read_unit_books
        from airflow_binance_loan.books.publish import publish
        from airflow_binance_loan.books.render import books_json, render_files
        from airflow_binance_loan.hooks.credit import BinanceCreditHook

        try:
            month = self.month_to_export(context)
            units = self.units_to_export()
            clients = {group_id: BinanceCreditHook(conn_id).get_conn() for group_id, conn_id in units}
        except (InvalidParameterError, ConfigurationError) as exc:
            raise AirflowFailException(str(exc)) from None
        now_ms = next(iter(clients.values())).server_time_ms()
        if now_ms < month.end_ms:
            raise AirflowFailException(f"month {month.label} is not closed yet (Binance's time is before "
                                       f"{month.end.isoformat()}): its books would be incomplete")
        books = []
        for group_id, client in clients.items():
            books.append(read_unit_books(client, group_id, month))
            self.log.info("Risk unit %s, %s: %d borrow/repay records, %d interest rows", group_id, month.label,
                          len(books[-1].records), len(books[-1].interest))
        document = books_json(month, books, now_ms)
        for note in document["checks"]:
            self.log.warning("Books %s: %s", month.label, note)
        folder = ObjectStoragePath(report_location(self.location)) / BOOKS_FOLDER / month.label
        ti = context["ti"]
        pointer = publish(folder, render_files(document), meta={
            "month": month.label, "dag_id": ti.dag_id, "run_id": ti.run_id, "task_id": ti.task_id})
        version_folder = folder / pointer["version"]
        summary = {
            "month": month.label,
            "units": [group_id for group_id, _ in units],
            "location": str(folder),
            "pointer": str(folder / "CURRENT.json"),
            "version": pointer["version"],
            "folder": str(version_folder),
            "files": sorted(pointer["files"]),
            "totals": document["totals"],
            "checks": document["checks"],
        }
        self.log.info("Books for %s published at %s (version %s); totals: %s", month.label, folder,
                      pointer["version"], document["totals"])
        if self.asset is not None:
            context["outlet_events"][self.asset].extra = summary
        return summary
