"""The repay operator's result, and its XCom form (money as exact decimal strings, never float)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from decimal import Decimal
from typing import Any, Literal

from airflow_binance_loan.client.encoding import format_decimal
from airflow_binance_loan.client.models import BorrowRepayRecord

Status = Literal["repaid", "dry_run", "nothing_to_repay", "reconciled"]


def money(value: Decimal | None) -> str | None:
    return None if value is None else format_decimal(value)


@dataclass(frozen=True)
class RepayOutcome:
    """What happened; ``to_xcom`` is the documented ``return_value`` contract."""

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

    def to_xcom(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_xcom(cls, data: dict[str, Any]) -> RepayOutcome:
        fields: dict[str, Any] = {k: data.get(k) for k in cls.__dataclass_fields__}
        return cls(**fields)

    def with_record(self, record: BorrowRepayRecord) -> RepayOutcome:
        """Fill in what the borrow/repay record says (its amount is authoritative)."""
        return replace(
            self,
            repaid_amount=format_decimal(record.amount),
            principal=money(record.principal),
            interest=money(record.interest),
            record_status=record.status,
        )
