"""Binance-shaped error answers: one exception type carrying HTTP status, ``code`` and ``msg``.

Every refusal inside the sandbox raises :class:`SandboxError`; the request
pipeline turns it into ``{"code": ..., "msg": ...}`` with the matching HTTP status.
Messages follow Binance's published texts (placeholders filled in).
"""

from __future__ import annotations

# HTTP statuses Binance uses: 400 for parameter/business errors, 401 for key errors.
_STATUS_BY_CODE = {-2014: 401, -2015: 401, -1003: 429, -1000: 500, -1007: 500}

MSG_TIMESTAMP_OLD = "Timestamp for this request is outside of the recvWindow."
MSG_TIMESTAMP_AHEAD = "Timestamp for this request was 1000ms ahead of the server's time."
MSG_INVALID_SIGNATURE = "Signature for this request is not valid."
MSG_REJECTED_KEY = "Invalid API-key, IP, or permissions for action."
MSG_BAD_KEY_FORMAT = "API-key format invalid."
MSG_DUPLICATE = "Duplicate values for a parameter detected."
MSG_RECV_WINDOW = "recvWindow must be less than 60000"
MSG_BAD_DATE_RANGE = "Your input date is invalid."
MSG_PENDING = "Has pending transactions."
MSG_PENDING_LOAN = "Please try again until the previous transaction is completed."
MSG_TIMEOUT_1007 = "Timeout waiting for response from backend server. Send status unknown; execution status unknown."
MSG_UNKNOWN = "An unknown error occurred while processing the request."


class SandboxError(Exception):
    """A refusal to send back as a Binance error body; ``close`` drops keep-alive afterwards."""

    def __init__(self, code: int, msg: str, status: int | None = None, *, close: bool = False) -> None:
        self.code = code
        self.msg = msg
        self.status = status if status is not None else _STATUS_BY_CODE.get(code, 400)
        self.close = close
        super().__init__(f"HTTP {self.status} code {code}: {msg}")


def mandatory(name: str) -> SandboxError:
    """-1102: a mandatory parameter is missing, empty or malformed."""
    return SandboxError(-1102, f"Mandatory parameter '{name}' was not sent, was empty/null, or malformed.")


def illegal_chars(name: str, legal: str) -> SandboxError:
    """-1100: a value has characters outside its legal pattern."""
    return SandboxError(-1100, f"Illegal characters found in parameter '{name}'; legal range is '{legal}'.")


def invalid_value(name: str) -> SandboxError:
    """-1130: a value is well-formed but not acceptable (bad enum, out of range)."""
    return SandboxError(-1130, f"Data sent for parameter '{name}' is not valid.")


def empty_param(name: str) -> SandboxError:
    """-1105: an optional parameter was sent with an empty value."""
    return SandboxError(-1105, f"Parameter '{name}' was empty.")


def rejected_key() -> SandboxError:
    """-2015: unknown key, wrong caller for the endpoint, or missing permission."""
    return SandboxError(-2015, MSG_REJECTED_KEY)


def bad_signature() -> SandboxError:
    """-1022: the signature does not verify over the received bytes (or they are not percent-encoded)."""
    return SandboxError(-1022, MSG_INVALID_SIGNATURE)


def bad_date_range() -> SandboxError:
    """-3011: startTime/endTime outside the endpoint's range rules."""
    return SandboxError(-3011, MSG_BAD_DATE_RANGE)


def not_found(path: str) -> SandboxError:
    """404 for an unknown path (Binance-shaped body instead of an HTML page)."""
    return SandboxError(-1099, f"Not found, authenticated, or authorized: no endpoint at {path}", 404)


def method_not_allowed(method: str, path: str) -> SandboxError:
    """405 for a known path called with the wrong HTTP method."""
    return SandboxError(-1020, f"This operation is not supported: {method} {path}", 405)
