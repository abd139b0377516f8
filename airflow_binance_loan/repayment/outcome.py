"""The repay's result, and its XCom form (money as exact decimal strings, never float)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any, Literal

from airflow_binance_loan.client.models import BorrowRepayRecord
from airflow_binance_loan.money import format_decimal, optional_decimal_text, parse_decimal

Status = Literal["repaid", "dry_run", "nothing_to_repay", "reconciled"]


@dataclass(frozen=True)
class RepayOutcome:
    """What happened; ``to_xcom`` is the documented ``return_value`` contract.

    ``transaction_id`` is the id Binance answered with (or, when the answer was lost, the id of
    the record that proves the repay); ``record_tran_id`` is the borrow/repay record's own id.
    """

    status: Status
    group_id: int
    asset: str
    repay_from: str | None
    requested_amount: str
    repaid_amount: str
    transaction_id: str | None = None
    principal: str | None = None
    interest: str | None = None
    record_status: str | None = None
    record_tran_id: str | None = None

    @property
    def moved_money(self) -> bool:
        """True when this outcome records a repayment that executed."""
        return self.transaction_id is not None and self.status in ("repaid", "reconciled")

    @property
    def partial(self) -> bool:
        """True when Binance repaid less than requested."""
        return parse_decimal(self.repaid_amount) < parse_decimal(self.requested_amount)

    def to_xcom(self) -> dict[str, Any]:
        """The ``return_value`` dict (plain JSON types only)."""
        return asdict(self)

    @classmethod
    def from_xcom(cls, data: dict[str, Any]) -> RepayOutcome:
        """Rebuild from :meth:`to_xcom`'s dict (unknown keys are ignored).

        :param data: the dict.
        """
        fields: dict[str, Any] = {k: data.get(k) for k in cls.__dataclass_fields__}
        return cls(**fields)

    def with_record(self, record: BorrowRepayRecord) -> RepayOutcome:
        """Fill in what the borrow/repay record says (its amount is authoritative).

        :param record: the record that proves the repay.
        """
        return replace(
            self,
            repaid_amount=format_decimal(record.amount),
            principal=optional_decimal_text(record.principal),
            interest=optional_decimal_text(record.interest),
            record_status=record.status,
            record_tran_id=record.tran_id,
        )
