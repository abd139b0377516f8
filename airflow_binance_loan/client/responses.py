"""Turning HTTP answers into Decimal-exact JSON or into the right typed exception."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from airflow_binance_loan.client.intent import RequestIntent
from airflow_binance_loan.client.redaction import body_excerpt
from airflow_binance_loan.exceptions import (
    AuthenticationError,
    BinanceAPIError,
    ExecutionUnknownError,
    InsufficientBalanceError,
    InvalidRequestError,
    InvalidSignatureError,
    LiquidationInProgressError,
    LoanBusinessError,
    NoLiabilityError,
    PendingTransactionError,
    RateLimitError,
    ServerError,
    TimestampError,
    UnexpectedResponseError,
)

SERVER_SIDE_CODES = frozenset({-1000, -1001, -1004, -1006, -1007, -1008})
DEFAULT_RETRY_AFTER_SECONDS = 60.0


def loads_exact(text: bytes | str) -> Any:
    """JSON with every non-integer number as Decimal and integers as exact int."""
    return json.loads(text, parse_float=Decimal)


def parse_retry_after(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        return None
    return seconds if seconds >= 0 else None


def error_from_response(
    status: int,
    body: bytes,
    *,
    endpoint: str,
    retry_after: str | None = None,
    intent: RequestIntent | None = None,
) -> BinanceAPIError:
    """Map an error answer to its exception class; ``intent`` marks a money-moving request."""
    code: int | None = None
    msg: str
    try:
        data = loads_exact(body) if body else None
    except ValueError:
        data = None
    if isinstance(data, dict) and isinstance(data.get("code"), int):
        code = data["code"]
        msg = str(data.get("msg", ""))
    else:
        msg = f"non-JSON error body: {body_excerpt(body)}" if body else "empty error body"
    common: dict[str, Any] = {"code": code, "http_status": status, "endpoint": endpoint}

    if status in (418, 429) or code == -1003:
        wait = parse_retry_after(retry_after)
        return RateLimitError(msg, retry_after=wait, **common)
    if code in SERVER_SIDE_CODES or status >= 500:
        if intent is not None:
            return ExecutionUnknownError(msg, intent=intent, **common)
        return ServerError(msg, **common)
    if code is None:
        if status in (401, 403):
            return AuthenticationError(msg, **common)
        return InvalidRequestError(msg, **common)
    return _error_for_code(code, msg, common)


def _error_for_code(code: int, msg: str, common: dict[str, Any]) -> BinanceAPIError:
    if code == -1021:
        return TimestampError(msg, **common)
    if code == -1022:
        return InvalidSignatureError(msg, **common)
    if code in (-2014, -2015, -1002):
        return AuthenticationError(msg, **common)
    if code in (-1024, -27024):
        return LiquidationInProgressError(msg, **common)
    if code in (-1025, -27025):
        return PendingTransactionError(msg, **common)
    if code == -27011:
        return NoLiabilityError(msg, **common)
    if code in (-27014, -27015):
        return InsufficientBalanceError(msg, **common)
    if -27999 <= code <= -27000 or -3999 <= code <= -3000:
        return LoanBusinessError(msg, **common)
    return InvalidRequestError(msg, **common)


def parse_success(status: int, body: bytes, *, endpoint: str) -> Any:
    """Decode a 2xx body; an empty body is None, a non-JSON body is an error."""
    if not body.strip():
        return None
    try:
        return loads_exact(body)
    except ValueError:
        raise UnexpectedResponseError(
            f"response is not JSON: {body_excerpt(body)}", http_status=status, endpoint=endpoint
        ) from None
