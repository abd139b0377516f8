"""RepayEvidenceTrigger: waits in the triggerer until a repay's evidence says something new.

A deferrable :class:`~airflow_binance_loan.operators.RiskUnitRepayOperator` hands the wait for
a repay's record (confirmation) or for proof of its outcome (reconciliation) to this trigger,
so minutes of waiting hold no worker slot. The trigger only decides *when to wake the task*:
it fires once the evidence is decisive (executed / not executed) or the deadline has passed,
and the task then re-checks with its journal and decides. Everything it carries is plain JSON
(amounts as decimal strings), and its event carries everything ``execute_complete`` needs,
because ``dag.test()`` replaces the deferral's kwargs with the event.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

from airflow_binance_loan.client.evidence import Others, SentRepay, examine


class RepayEvidenceTrigger(BaseTrigger):
    """Fires ``{"status": "decided" | "deadline" | "error", "waiting": {...}, "detail": str}`` once.

    :param binance_credit_conn_id: the credit account's connection.
    :param sent: :meth:`SentRepay.to_json` of the attempt.
    :param others: :meth:`Others.to_json` at deferral time.
    :param waiting: the workflow's ``Waiting.to_json()``, returned in the event.
    :param horizon_ms: the resend horizon.
    :param poll_interval: seconds between two looks.
    """

    def __init__(
        self,
        binance_credit_conn_id: str,
        sent: dict[str, Any],
        others: dict[str, Any],
        waiting: dict[str, Any],
        horizon_ms: int,
        poll_interval: float = 5.0,
    ) -> None:
        super().__init__()
        self.binance_credit_conn_id = binance_credit_conn_id
        self.sent = dict(sent)
        self.others = dict(others)
        self.waiting = dict(waiting)
        self.horizon_ms = int(horizon_ms)
        self.poll_interval = float(poll_interval)

    def serialize(self) -> tuple[str, dict[str, Any]]:
        """Class path and plain kwargs."""
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "binance_credit_conn_id": self.binance_credit_conn_id,
                "sent": self.sent,
                "others": self.others,
                "waiting": self.waiting,
                "horizon_ms": self.horizon_ms,
                "poll_interval": self.poll_interval,
            },
        )

    def _event(self, status: str, detail: str) -> TriggerEvent:
        return TriggerEvent({"status": status, "waiting": self.waiting, "detail": detail})

    async def run(self) -> AsyncIterator[TriggerEvent]:
        """Poll the evidence until it is decisive or the deadline passes."""
        from airflow_binance_loan.hooks.credit import BinanceCreditHook

        try:
            client = await BinanceCreditHook(self.binance_credit_conn_id).aget_conn()
            sent, others = SentRepay.from_json(self.sent), Others.from_json(self.others)
        except Exception as exc:
            yield self._event("error", f"{type(exc).__name__}: {exc}")
            return
        deadline = float(self.waiting["deadline"])
        while True:
            verdict = await asyncio.to_thread(examine, client, sent, others=others, horizon_ms=self.horizon_ms)
            if verdict.outcome != "unknown":
                yield self._event("decided", verdict.detail)
                return
            if time.time() >= deadline:
                yield self._event("deadline", verdict.detail)
                return
            self.log.info("Repay attempt %s: %s; looking again in %.1f s", self.waiting.get("attempt"),
                          verdict.detail, self.poll_interval)
            await asyncio.sleep(self.poll_interval)
