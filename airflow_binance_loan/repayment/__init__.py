"""The exactly-once repay protocol over the plain client (no Airflow import).

Typical use without Airflow::

    from airflow_binance_loan.client import connect
    from airflow_binance_loan.repayment import MemoryJournalStore, RepayJournal, RepayWorkflow, build_request

    request = build_request(123456, "USDT", "1500.25")
    journal = RepayJournal(MemoryJournalStore(), request.group_id, request.asset, "invoice-2026-11")
    outcome = RepayWorkflow(client, journal, request).run()
"""

from __future__ import annotations

from airflow_binance_loan.repayment.journal import JournalStore, MemoryJournalStore, RepayJournal, request_id_for
from airflow_binance_loan.repayment.outcome import RepayOutcome
from airflow_binance_loan.repayment.request import OUTSTANDING, RepayRequest, build_request
from airflow_binance_loan.repayment.workflow import Finished, RepayPolicy, RepayWorkflow, Waiting

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
