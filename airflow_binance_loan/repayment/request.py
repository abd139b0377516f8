"""A repay request: the validated inputs, checked before any network call or weight is spent."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from airflow_binance_loan.client.validation import (
    validate_amount,
    validate_asset,
    validate_group_id,
    validate_repay_from,
)
from airflow_binance_loan.exceptions import InvalidParameterError
from airflow_binance_loan.money import format_decimal

OUTSTANDING = "outstanding"
_EMPTY = (None, "", "None", "none", "null")


@dataclass(frozen=True)
class RepayRequest:
    """What to repay; ``amount`` None means "the unit's outstanding liability in ``asset``"."""

    group_id: int
    asset: str
    amount: Decimal | None
    repay_from: str | None = None
    max_amount: Decimal | None = None

    @property
    def amount_spec(self) -> str:
        """``outstanding`` or the exact fixed amount: part of the request's identity."""
        return OUTSTANDING if self.amount is None else format_decimal(self.amount)

    def check_cap(self, amount: Decimal, field: str = "amount") -> None:
        """Refuse an amount above ``max_amount`` (before anything is sent).

        :param amount: the amount about to be sent.
        :param field: the name to show in the error.
        """
        if self.max_amount is not None and amount > self.max_amount:
            raise InvalidParameterError(
                field, format_decimal(amount), f"exceeds max_amount={format_decimal(self.max_amount)}"
            )


def build_request(
    group_id: Any, asset: Any, amount: Any, repay_from: Any = None, max_amount: Any = None
) -> RepayRequest:
    """Validate rendered inputs into a :class:`RepayRequest`; one error naming the field and value.

    :param group_id: risk unit id (positive integer or its decimal string).
    :param asset: upper-case asset code.
    :param amount: Decimal, int, decimal string, or ``"outstanding"``; floats are refused.
    :param repay_from: ``MARGIN``, ``SPOT`` or empty for Binance's default.
    :param max_amount: optional safety cap.
    """
    resolved = None if isinstance(amount, str) and amount.strip().lower() == OUTSTANDING \
        else validate_amount(amount, "amount")
    request = RepayRequest(
        group_id=validate_group_id(group_id, "group_id"),
        asset=validate_asset(asset, "asset"),
        amount=resolved,
        repay_from=validate_repay_from(None if repay_from in _EMPTY else repay_from, "repay_from"),
        max_amount=None if max_amount in _EMPTY else validate_amount(max_amount, "max_amount"),
    )
    if resolved is not None:
        request.check_cap(resolved)
    return request
