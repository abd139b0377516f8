"""How the sandbox writes an exact amount: plain decimal digits, never an exponent, no trailing zeros.

Binance writes amounts as ``"1000.5"`` or ``0.00000001``, never ``1E-8``. The provider's client has
its own formatter for what it sends; the sandbox keeps this one so that a formatting bug on either
side shows up as a disagreement on the wire instead of being shared.
"""

from __future__ import annotations

from decimal import Decimal

QUANTUM = Decimal("0.00000001")
"""Binance's amounts carry at most 8 decimals: computed amounts (interest, LTV, max-borrowable) are rounded to this."""


def amount_text(value: Decimal) -> str:
    """``Decimal("1000.50")`` → ``"1000.5"``, ``Decimal("1E-8")`` → ``"0.00000001"``, zero → ``"0"``.

    :param value: a finite decimal.
    :raises ValueError: for NaN or an infinity.
    """
    if not value.is_finite():
        raise ValueError(f"not a finite amount: {value!r}")
    digits = f"{value:f}"  # fixed point at the value's own precision (normalize() would round to 28 digits)
    if "." in digits:
        digits = digits.rstrip("0").removesuffix(".")
    return "0" if digits in ("", "-0") else digits
