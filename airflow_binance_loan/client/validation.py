"""Input validation, done before any network call or weight is spent.

Every failure raises :class:`InvalidParameterError` naming the field and the value.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from airflow_binance_loan.exceptions import InvalidParameterError
from airflow_binance_loan.money import decimal_places, refuse_floats

MAX_AMOUNT_DECIMALS = 8
RECV_WINDOW_MAX_MS = 60000
REPAY_SOURCES = ("MARGIN", "SPOT")
RECORD_TYPES = ("BORROW", "REPAY")
_ASSET_RE = re.compile(r"^[A-Z0-9]{1,20}$")
_DECIMAL_TEXT_RE = re.compile(r"^[0-9]+(\.[0-9]+)?$")
_MAX_ID = 2**63 - 1


def validate_group_id(value: object, field_name: str = "group_id") -> int:
    """A risk unit id: a positive integer (int or digit string), never bool or float.

    :param value: the caller's value.
    :param field_name: the field named in the error.
    """
    if isinstance(value, bool) or isinstance(value, float):
        raise InvalidParameterError(field_name, value, "must be a positive integer")
    if isinstance(value, str):
        text = value.strip()
        if not text.isascii() or not text.isdigit():
            raise InvalidParameterError(field_name, value, "must be a positive integer")
        value = int(text)
    if not isinstance(value, int) or value <= 0 or value > _MAX_ID:
        raise InvalidParameterError(field_name, value, "must be a positive integer")
    return value


def validate_asset(value: object, field_name: str = "asset") -> str:
    """An upper-case asset code such as USDT or USDC (others are allowed, not hard-blocked).

    :param value: the caller's value.
    :param field_name: the field named in the error.
    """
    if not isinstance(value, str) or not _ASSET_RE.fullmatch(value):
        raise InvalidParameterError(
            field_name, value, "must be a non-empty upper-case asset code such as USDT or USDC"
        )
    return value


def validate_amount(value: object, field_name: str = "amount") -> Decimal:
    """A finite Decimal > 0 with at most 8 decimal places; floats are refused outright.

    :param value: the caller's value.
    :param field_name: the field named in the error.
    """
    if isinstance(value, bool):
        raise InvalidParameterError(field_name, value, "must be a decimal amount, not a boolean")
    refuse_floats(**{field_name: value})
    if isinstance(value, str):
        text = value.strip()
        if not _DECIMAL_TEXT_RE.match(text):
            raise InvalidParameterError(field_name, value, "must be a plain decimal number such as 100.5")
        amount = Decimal(text)
    elif isinstance(value, int):
        amount = Decimal(value)
    elif isinstance(value, Decimal):
        amount = value
    else:
        raise InvalidParameterError(field_name, value, "must be a Decimal, an int or a decimal string")
    try:
        if not amount.is_finite():
            raise InvalidParameterError(field_name, value, "must be finite")
        if amount <= 0:
            raise InvalidParameterError(field_name, value, "must be greater than 0")
        places = decimal_places(amount)
    except InvalidOperation:
        raise InvalidParameterError(field_name, value, "is not a valid decimal") from None
    if places > MAX_AMOUNT_DECIMALS:
        raise InvalidParameterError(
            field_name, value, f"has more than {MAX_AMOUNT_DECIMALS} decimal places"
        )
    if amount.adjusted() >= 20:
        raise InvalidParameterError(field_name, value, "is implausibly large (20 or more integer digits)")
    return amount


def validate_repay_from(value: object, field_name: str = "repay_from") -> str | None:
    """None (Binance default, MARGIN) or one of MARGIN / SPOT.

    :param value: the caller's value.
    :param field_name: the field named in the error.
    """
    if value is None:
        return None
    if not isinstance(value, str) or value not in REPAY_SOURCES:
        raise InvalidParameterError(field_name, value, f"must be one of {', '.join(REPAY_SOURCES)} or None")
    return value


def validate_record_type(value: object, field_name: str = "type") -> str:
    """``BORROW`` or ``REPAY``.

    :param value: the caller's value.
    :param field_name: the field named in the error.
    """
    if not isinstance(value, str) or value not in RECORD_TYPES:
        raise InvalidParameterError(field_name, value, f"must be one of {', '.join(RECORD_TYPES)}")
    return value


def validate_recv_window(value: object, field_name: str = "recv_window") -> int:
    """recvWindow in milliseconds: an integer in 1..60000.

    :param value: the caller's value.
    :param field_name: the field named in the error.
    """
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= RECV_WINDOW_MAX_MS:
        raise InvalidParameterError(field_name, value, f"must be an integer between 1 and {RECV_WINDOW_MAX_MS}")
    return value


def validate_time_ms(value: object, field_name: str) -> int | None:
    """Epoch milliseconds (a non-negative int) or None.

    :param value: the caller's value.
    :param field_name: the field named in the error.
    """
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidParameterError(field_name, value, "must be epoch milliseconds (a non-negative int)")
    return value
