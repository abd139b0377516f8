"""JSON with exact decimals: ``Decimal`` values are written as JSON numbers with their exact text.

The standard encoder would route Decimals through ``float``; Binance sends
amounts such as ``123456.78`` as JSON numbers, so the sandbox writes them by hand.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from binance_loan_sandbox.amounts import amount_text


def dumps(value: Any) -> bytes:
    """Compact UTF-8 JSON; Decimals become plain numbers (never exponent, never float).

    :param value: JSON-ready data (dict, list, str, int, Decimal, bool, None; floats only for non-amounts).
    """
    parts: list[str] = []
    _write(value, parts)
    return "".join(parts).encode("utf-8")


def _write(value: Any, out: list[str]) -> None:
    if value is None or isinstance(value, bool | str):
        out.append(json.dumps(value, ensure_ascii=False))
    elif isinstance(value, int):
        out.append(str(value))
    elif isinstance(value, float):  # never an amount; e.g. a fault rule's probability
        out.append(json.dumps(value, allow_nan=False))
    elif isinstance(value, Decimal):
        out.append(amount_text(value))
    elif isinstance(value, dict):
        out.append("{")
        for index, (key, item) in enumerate(value.items()):
            if index:
                out.append(",")
            out.append(json.dumps(str(key), ensure_ascii=False))
            out.append(":")
            _write(item, out)
        out.append("}")
    elif isinstance(value, list | tuple):
        out.append("[")
        for index, item in enumerate(value):
            if index:
                out.append(",")
            _write(item, out)
        out.append("]")
    else:
        raise TypeError(f"cannot serialise {type(value).__name__} to sandbox JSON")


def loads(text: bytes | str) -> Any:
    """Parse JSON keeping non-integer numbers exact (Decimal).

    :param text: JSON text.
    """
    return json.loads(text, parse_float=Decimal)
