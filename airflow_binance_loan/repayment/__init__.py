"""The exactly-once repay protocol over the plain client (no Airflow import).

Typical use without Airflow::

    from airflow_binance_loan.client import connect
    from airflow_binance_loan.repayment import MemoryJournalStore, RepayJournal, RepayWorkflow, build_request

    request = build_request(123456, "USDT", "1500.25")
    journal = RepayJournal(MemoryJournalStore(), request.group_id, request.asset, "invoice-2026-11")
    outcome = RepayWorkflow(client, journal, request).run()
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from airflow_binance_loan.lazy_exports import lazy_exports

if TYPE_CHECKING:
    from airflow_binance_loan.repayment.journal import JournalStore, MemoryJournalStore, RepayJournal, request_id_for
    from airflow_binance_loan.repayment.outcome import RepayOutcome
    from airflow_binance_loan.repayment.policy import RepayPolicy
    from airflow_binance_loan.repayment.request import OUTSTANDING, RepayRequest, build_request
    from airflow_binance_loan.repayment.workflow import Finished, RepayWorkflow, Waiting

_HOMES = {
    "JournalStore": "airflow_binance_loan.repayment.journal",
    "MemoryJournalStore": "airflow_binance_loan.repayment.journal",
    "RepayJournal": "airflow_binance_loan.repayment.journal",
    "request_id_for": "airflow_binance_loan.repayment.journal",
    "RepayOutcome": "airflow_binance_loan.repayment.outcome",
    "RepayPolicy": "airflow_binance_loan.repayment.policy",
    "OUTSTANDING": "airflow_binance_loan.repayment.request",
    "RepayRequest": "airflow_binance_loan.repayment.request",
    "build_request": "airflow_binance_loan.repayment.request",
    "Finished": "airflow_binance_loan.repayment.workflow",
    "RepayWorkflow": "airflow_binance_loan.repayment.workflow",
    "Waiting": "airflow_binance_loan.repayment.workflow",
}

__all__ = [
    "OUTSTANDING",
    "Finished",
    "JournalStore",
    "MemoryJournalStore",
    "RepayJournal",
    "RepayOutcome",
    "RepayPolicy",
    "RepayRequest",
    "RepayWorkflow",
    "Waiting",
    "build_request",
    "request_id_for",
]

__getattr__, __dir__ = lazy_exports(__name__, _HOMES, globals())
