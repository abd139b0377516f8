"""The provider's naming and location conventions, in one place for the operators and the example DAGs."""

from __future__ import annotations

import os

#: The parent account's connection: lists every risk unit (``ltv-details``).
PARENT_CONNECTION_ID = "binance_credit_parent"
#: A risk unit's credit-account connection, when nothing maps it explicitly.
CREDIT_CONNECTION_CONVENTION = "binance_credit_{group_id}"
#: The Airflow Variable naming where files for people (reports, loan books) are written.
REPORT_LOCATION_VARIABLE = "binance_loan_report_location"
#: The folder under ``$AIRFLOW_HOME`` used when neither a location nor the Variable is set.
DEFAULT_REPORT_FOLDER = "binance_settlement_reports"


def credit_connection_id(group_id: int) -> str:
    """The conventional connection id of a risk unit's credit account: ``binance_credit_<groupId>``.

    :param group_id: the risk unit.
    """
    return CREDIT_CONNECTION_CONVENTION.format(group_id=group_id)


def report_location(given: str | None = None) -> str:
    """Where files go: ``given``, else the Variable ``binance_loan_report_location``, else
    ``file://$AIRFLOW_HOME/binance_settlement_reports``.

    :param given: a folder URL (any ``ObjectStoragePath`` URL); None or blank: not given.
    """
    location = (given or "").strip()
    if location:
        return location
    from airflow.sdk import Variable

    location = (Variable.get(REPORT_LOCATION_VARIABLE, default=None) or "").strip()
    if location:
        return location
    home = os.environ.get("AIRFLOW_HOME") or os.path.expanduser("~/airflow")
    return "file://" + os.path.join(home, DEFAULT_REPORT_FOLDER)
