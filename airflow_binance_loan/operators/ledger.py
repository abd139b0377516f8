"""A per-task-instance ledger of repay intents that survives retries, crashes and manual clears.

Airflow clears a task's XCom when it runs again, so the intent of every repay is
written to an Airflow Variable *before* its bytes leave (and updated with the
result afterwards). The key is the task instance identity (dag, run, task, map
index), so any later try of the same task instance finds it; a new DAG run starts
with an empty ledger. Deleting the Variable is the documented way to allow a
deliberate second repayment from the same task instance.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any, Protocol

from airflow_binance_loan.exceptions import RequestIntent

KEY_PREFIX = "binance_loan_repay_ledger"


class LedgerStore(Protocol):
    def get(self, key: str) -> str | None: ...

    def set(self, key: str, value: str) -> None: ...


class VariableStore:
    """Airflow Variables (the metadata database): shared by every worker and every try."""

    def get(self, key: str) -> str | None:
        from airflow.sdk import Variable

        value = Variable.get(key, default=None)
        return None if value is None else str(value)

    def set(self, key: str, value: str) -> None:
        from airflow.sdk import Variable

        Variable.set(key, value, description="Repay intent/result written by RiskUnitRepayOperator; "
                     "delete only to allow a deliberate second repayment from this task instance.")


def ledger_key(dag_id: str, run_id: str, task_id: str, map_index: int) -> str:
    return f"{KEY_PREFIX}::{dag_id}::{run_id}::{task_id}::{map_index}"


class RepayLedger:
    """Entries: ``state`` is ``sending`` (intent only), ``sent`` (transaction id known) or ``done``."""

    def __init__(self, key: str, store: LedgerStore | None = None) -> None:
        self.key = key
        self._store = store or VariableStore()

    @classmethod
    def for_task_instance(cls, ti: Any, store: LedgerStore | None = None) -> RepayLedger:
        map_index = getattr(ti, "map_index", -1)
        return cls(ledger_key(ti.dag_id, ti.run_id, ti.task_id, -1 if map_index is None else map_index), store)

    def load(self) -> dict[str, Any] | None:
        raw = self._store.get(self.key)
        if not raw:
            return None
        entry = json.loads(raw)
        return entry if isinstance(entry, dict) else None

    def record_sending(self, intent: RequestIntent, try_number: int) -> None:
        self._save({"state": "sending", "intent": asdict(intent), "try_number": try_number})

    def record_sent(self, intent: RequestIntent, transaction_id: str, amount: str, try_number: int) -> None:
        self._save(
            {
                "state": "sent",
                "intent": asdict(intent),
                "transaction_id": transaction_id,
                "amount": amount,
                "try_number": try_number,
            }
        )

    def record_done(self, entry: dict[str, Any], outcome: dict[str, Any]) -> None:
        self._save({**entry, "state": "done", "outcome": outcome})

    def record_failed(self, entry: dict[str, Any], reason: str) -> None:
        """The earlier transaction provably did nothing (record FAILED): a new repay is allowed."""
        self._save({**entry, "state": "failed", "reason": reason})

    def _save(self, entry: dict[str, Any]) -> None:
        self._store.set(self.key, json.dumps(entry, sort_keys=True))


def intent_from_entry(entry: dict[str, Any]) -> RequestIntent:
    data = dict(entry["intent"])
    data["params"] = dict(data.get("params") or {})
    return RequestIntent(**data)
