"""RepayConfirmationTrigger: polls the borrow/repay records until a repay's record appears.

Runs in the triggerer so a deferrable operator does not hold a worker slot while
Binance's record catches up. The blocking client call runs in a thread; amounts in
the event are decimal strings (trigger events go through serde, which would turn a
Decimal into a float).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

from airflow_binance_loan.client.encoding import format_decimal
from airflow_binance_loan.client.reconcile import find_transaction
from airflow_binance_loan.exceptions import BinanceLoanError


class RepayConfirmationTrigger(BaseTrigger):
    """Fires ``{"status": "confirmed" | "timeout" | "error", "record": {...}}`` once."""

    def __init__(
        self,
        binance_credit_conn_id: str,
        group_id: int,
        asset: str,
        transaction_id: str,
        since_ms: int,
        poll_interval: float = 5.0,
        timeout: float = 300.0,
    ) -> None:
        super().__init__()
        self.binance_credit_conn_id = binance_credit_conn_id
        self.group_id = int(group_id)
        self.asset = asset
        self.transaction_id = str(transaction_id)
        self.since_ms = int(since_ms)
        self.poll_interval = float(poll_interval)
        self.timeout = float(timeout)

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "binance_credit_conn_id": self.binance_credit_conn_id,
                "group_id": self.group_id,
                "asset": self.asset,
                "transaction_id": self.transaction_id,
                "since_ms": self.since_ms,
                "poll_interval": self.poll_interval,
                "timeout": self.timeout,
            },
        )

    async def run(self) -> AsyncIterator[TriggerEvent]:
        from airflow_binance_loan.hooks.credit import BinanceCreditHook

        deadline = time.monotonic() + self.timeout
        try:
            hook = BinanceCreditHook(self.binance_credit_conn_id)
            client = hook.client_from_config(await hook.aconnection_config())
            while True:
                record = await asyncio.to_thread(
                    find_transaction, client, "REPAY", self.group_id, self.asset, self.transaction_id, self.since_ms
                )
                if record is not None:
                    yield TriggerEvent(
                        {
                            "status": "confirmed" if record.status != "FAILED" else "failed",
                            "record": {
                                "transaction_id": record.tran_id,
                                "status": record.status,
                                "amount": format_decimal(record.amount),
                                "principal": None if record.principal is None else format_decimal(record.principal),
                                "interest": None if record.interest is None else format_decimal(record.interest),
                                "timestamp": record.timestamp,
                            },
                        }
                    )
                    return
                if time.monotonic() >= deadline:
                    yield TriggerEvent({"status": "timeout", "transaction_id": self.transaction_id})
                    return
                self.log.info("Record of transaction %s not visible yet; polling again in %.1f s",
                              self.transaction_id, self.poll_interval)
                await asyncio.sleep(self.poll_interval)
        except BinanceLoanError as exc:
            yield TriggerEvent({"status": "error", "message": str(exc), "transaction_id": self.transaction_id})
