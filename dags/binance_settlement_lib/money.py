"""Decimal-string helpers: amounts travel as strings through XCom and Params, never float or Decimal."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from airflow_binance_loan.client.encoding import format_decimal

#: JSON-schema ``pattern`` for a non-negative decimal with at most 8 decimal places (Binance's precision).
DECIMAL_PATTERN = r"^[0-9]+(\.[0-9]{1,8})?$"
_DECIMAL_RE = re.compile(DECIMAL_PATTERN)


def parse_amount(value: object, what: str = "amount") -> Decimal:
    """A decimal string (or int / Decimal) as ``Decimal``; floats and junk are refused with a clear error."""
    if isinstance(value, bool) or isinstance(value, float):
        raise ValueError(f"{what}={value!r}: amounts must be decimal strings, not {type(value).__name__}")
    if isinstance(value, Decimal):
        return value
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, str):
        try:
            result = Decimal(value.strip())
        except InvalidOperation:
            raise ValueError(f"{what}={value!r} is not a decimal number") from None
        if result.is_finite():
            return result
    raise ValueError(f"{what}={value!r} is not a decimal number")


def check_decimal_text(value: object, what: str) -> str:
    """A decimal string matching :data:`DECIMAL_PATTERN` (used for values that bypass Param validation)."""
    if not isinstance(value, str) or not _DECIMAL_RE.match(value.strip()):
        raise ValueError(f"{what}={value!r} must be a decimal string such as '1000.5' (at most 8 decimals)")
    return value.strip()


def fmt(value: Decimal) -> str:
    """Plain fixed-point text: no exponent, no trailing zeros (``Decimal('1.500')`` → ``'1.5'``)."""
    return format_decimal(value)
