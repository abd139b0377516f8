"""The repay journal's store inside Airflow: Variables, shared by every worker, try and triggerer.

Airflow clears a task's XCom when it runs again, so the journal cannot live there; Variables
survive retries, clears and worker crashes, and every task process reads them fresh.
"""

from __future__ import annotations

DESCRIPTION = (
    "Repay journal written by RiskUnitRepayOperator: which repays of this risk unit and asset were sent and "
    "what became of them. Delete only after checking the unit's borrow/repay records by hand."
)


class VariableJournalStore:
    """Airflow Variables as a :class:`~airflow_binance_loan.repayment.JournalStore`."""

    def get(self, key: str) -> str | None:
        """The Variable's value, or None.

        :param key: the Variable key.
        """
        from airflow.sdk import Variable

        value = Variable.get(key, default=None)
        return None if value is None else str(value)

    def set(self, key: str, value: str) -> None:
        """Write the Variable.

        :param key: the Variable key.
        :param value: the JSON text.
        """
        from airflow.sdk import Variable

        Variable.set(key, value, description=DESCRIPTION)

    def describe(self, key: str) -> str:
        """How a person finds it.

        :param key: the Variable key.
        """
        return f"Airflow Variable {key!r}"
