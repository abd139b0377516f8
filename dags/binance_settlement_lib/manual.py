"""Rules of the manual repay DAG: which connection, and the guard against repeating a repay by accident."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from airflow_binance_loan.conventions import credit_connection_id
from airflow_binance_loan.money import parse_decimal


def connection_of(group_id: int, given: str | None) -> str:
    """The connection to use: the one given, else the ``binance_credit_<groupId>`` convention.

    :param group_id: the risk unit.
    :param given: the trigger form's connection field (may be empty).
    """
    given = (given or "").strip()
    return given or credit_connection_id(group_id)


def recent_repeat(records: Iterable[Any], amount: str, asset: str) -> Any | None:
    """The newest REPAY record that the requested repay would repeat (same asset; same amount if fixed).

    :param records: borrow/repay records of the unit in the guard's window.
    :param amount: the requested amount, or ``outstanding`` (any repay of the asset counts).
    :param asset: the asset.
    """
    fixed = None if amount.strip().lower() == "outstanding" else parse_decimal(amount)
    matches = [r for r in records if r.is_repay and r.asset == asset and r.status != "FAILED"
               and (fixed is None or r.amount == fixed)]
    return max(matches, key=lambda r: r.timestamp, default=None)


def repeat_refusal(record: Any, group_id: int, minutes: int) -> str:
    """The message that stops an unticked repeat.

    :param record: the earlier repay's record.
    :param group_id: the risk unit.
    :param minutes: the guard's window.
    """
    return (
        f"Refusing to repay: risk unit {group_id} already had a {record.asset} repay of {record.amount} in the last "
        f"{minutes} minutes (transaction {record.tran_id}, status {record.status}). If you really mean to repay "
        "again, trigger the DAG again with 'I mean to repay again' ticked."
    )
