"""Percent-encoding and value formatting for signed payloads (Binance rule since 2026-01-15).

Each parameter name and value is percent-encoded as UTF-8 with upper-case hex
(form style: a space becomes ``+``); the ``=`` and ``&`` delimiters stay literal.
The encoded string is what gets signed *and* what gets sent, byte for byte.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from urllib.parse import quote_plus

from airflow_binance_loan.money import format_decimal

Params = Mapping[str, object] | Iterable[tuple[str, object]]


def param_text(value: object) -> str:
    """The wire text of one parameter value. Floats are refused: money is never binary."""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        raise TypeError(f"float parameter {value!r} refused: pass a Decimal or a decimal string")
    if isinstance(value, Decimal):
        return format_decimal(value)
    if isinstance(value, int | str):
        return str(value)
    raise TypeError(f"unsupported parameter type {type(value).__name__}")


def percent_encode(text: str) -> str:
    """Percent-encode one component: UTF-8, upper-case hex, only ``A-Za-z0-9_.-~`` left as is."""
    return quote_plus(text, safe="", encoding="utf-8")


def encode_params(params: Params) -> str:
    """``name=value`` pairs, each side percent-encoded, joined by ``&``; None values dropped."""
    items = params.items() if isinstance(params, Mapping) else params
    return "&".join(
        f"{percent_encode(str(name))}={percent_encode(param_text(value))}"
        for name, value in items
        if value is not None
    )


def signature_payload(query: str, body: str) -> bytes:
    """What is signed: the query string as sent immediately followed by the body as sent."""
    return (query + body).encode("ascii")
