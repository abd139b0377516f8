"""Money as exact decimals: the one place that parses and formats amounts (no Airflow import).

Amounts are ``Decimal`` in code and plain decimal strings on the wire, in XCom, Params, Variables
and reports; never ``float``. ``Decimal.normalize()`` is avoided on purpose: it rounds to the
context precision (28 significant digits).
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from airflow_binance_loan.exceptions import InvalidParameterError

#: JSON-schema ``pattern`` for a non-negative decimal with at most 8 decimal places (Binance's precision).
DECIMAL_PATTERN = r"^[0-9]+(\.[0-9]{1,8})?$"
_DECIMAL_RE = re.compile(DECIMAL_PATTERN)


def parse_decimal(value: object, name: str = "amount") -> Decimal:
    """An exact, finite ``Decimal`` from a Decimal, an int or decimal text; floats are refused.

    :param value: the value to read.
    :param name: the field's name, for the error message.
    :raises ValueError: naming ``name`` and the value when it is a float, a boolean, not a number
        or not finite.
    """
    if isinstance(value, bool | float):
        raise ValueError(f"{name}={value!r}: money must be a Decimal, an int or a decimal string, "
                         f"not {type(value).__name__}")
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, str) and value.strip():
        try:
            result = Decimal(value.strip())
        except InvalidOperation:
            raise ValueError(f"{name}={value[:40]!r} is not a decimal number") from None
    else:
        raise ValueError(f"{name}={value!r} is not a decimal number")
    if not result.is_finite():
        raise ValueError(f"{name}={value!r} is not a finite decimal number")
    return result


def format_decimal(value: Decimal) -> str:
    """Plain fixed-point text for a finite Decimal: never an exponent, no trailing zeros.

    :param value: the amount (``Decimal('1.500')`` gives ``'1.5'``, ``Decimal('1E+2')`` gives ``'100'``).
    """
    if not value.is_finite():
        raise ValueError(f"cannot format non-finite decimal {value!r}")
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def optional_decimal_text(value: Decimal | None) -> str | None:
    """:func:`format_decimal`, with ``None`` kept as ``None``.

    :param value: the amount or nothing.
    """
    return None if value is None else format_decimal(value)


def decimal_places(value: Decimal) -> int:
    """How many decimal places ``value`` really has (trailing zeros do not count; exact, no rounding).

    :param value: a finite amount.
    """
    text = format_decimal(value)
    return len(text.partition(".")[2])


def check_decimal_text(value: object, name: str) -> str:
    """A decimal string matching :data:`DECIMAL_PATTERN`, for values that bypass a form's validation.

    :param value: the text.
    :param name: the field's name, for the error message.
    :raises ValueError: naming ``name`` and the value.
    """
    if not isinstance(value, str) or not _DECIMAL_RE.match(value.strip()):
        raise ValueError(f"{name}={value!r} must be a decimal string such as '1000.5' (at most 8 decimals)")
    return value.strip()


def refuse_floats(**values: object) -> None:
    """Fail at once, naming the field, when any of ``values`` is a float: money and ratios are exact decimals.

    Operators call this in their constructor, so a float in a DAG file fails when the DAG is parsed.

    :param values: field name → the value as given.
    :raises InvalidParameterError: for the first float.
    """
    for name, value in values.items():
        if isinstance(value, float):
            raise InvalidParameterError(name, value, "floats are refused for money and ratios: pass a Decimal, "
                                        "an int or a decimal string")
