"""Binance-shaped error answers: one exception type carrying HTTP status, ``code`` and ``msg``.

Every refusal inside the sandbox raises :class:`SandboxError`; the request
pipeline turns it into ``{"code": ..., "msg": ...}`` with the matching HTTP status.
Codes, statuses and message texts come from :mod:`.binance_facts` (Binance's published
texts, placeholders filled in); the helpers below build the common ones.
"""

from __future__ import annotations

from binance_loan_sandbox import binance_facts as facts


class SandboxError(Exception):
    """A refusal to send back as a Binance error body; ``close`` drops keep-alive afterwards."""

    def __init__(self, code: int, msg: str, status: int | None = None, *, close: bool = False) -> None:
        """
        :param code: Binance's error code (negative).
        :param msg: the message text, placeholders already filled in.
        :param status: the HTTP status; default: Binance's status for ``code`` (400 for most).
        :param close: close the connection after answering (HTTP framing errors).
        """
        self.code = code
        self.msg = msg
        self.status = status if status is not None else facts.HTTP_STATUS_BY_CODE.get(code, 400)
        self.close = close
        super().__init__(f"HTTP {self.status} code {code}: {msg}")


def mandatory(name: str) -> SandboxError:
    """-1102: a mandatory parameter is missing, empty or malformed.

    :param name: the parameter.
    """
    return SandboxError(facts.MANDATORY_PARAM_EMPTY_OR_MALFORMED, facts.MSG_MANDATORY.format(name=name))


def illegal_chars(name: str, legal: str) -> SandboxError:
    """-1100: a value has characters outside its legal pattern.

    :param name: the parameter.
    :param legal: the legal pattern, as Binance quotes it.
    """
    return SandboxError(facts.ILLEGAL_CHARS, facts.MSG_ILLEGAL_CHARS_IN.format(name=name, legal=legal))


def invalid_value(name: str) -> SandboxError:
    """-1130: a value is well-formed but not acceptable (bad enum, out of range).

    :param name: the parameter.
    """
    return SandboxError(facts.INVALID_PARAMETER, facts.MSG_INVALID_PARAMETER.format(name=name))


def empty_param(name: str) -> SandboxError:
    """-1105: an optional parameter was sent with an empty value.

    :param name: the parameter.
    """
    return SandboxError(facts.PARAM_EMPTY, facts.MSG_PARAM_EMPTY.format(name=name))


def rejected_key() -> SandboxError:
    """-2015: unknown key, wrong caller for the endpoint, or missing permission."""
    return SandboxError(facts.REJECTED_MBX_KEY, facts.MSG_REJECTED_KEY)


def bad_signature() -> SandboxError:
    """-1022: the signature does not verify over the received bytes (or they are not percent-encoded)."""
    return SandboxError(facts.INVALID_SIGNATURE, facts.MSG_INVALID_SIGNATURE)


def bad_date_range() -> SandboxError:
    """-3011: startTime/endTime outside the endpoint's range rules."""
    return SandboxError(facts.BAD_DATE_RANGE, facts.MSG_BAD_DATE_RANGE)


def duplicate_param() -> SandboxError:
    """-1101: a parameter given twice in the same place (or the signature in both places)."""
    return SandboxError(facts.TOO_MANY_PARAMETERS, facts.MSG_DUPLICATE)


def not_found(path: str) -> SandboxError:
    """404 for an unknown path (a Binance-shaped body instead of an HTML page; the text is the sandbox's).

    :param path: the requested path.
    """
    return SandboxError(facts.NOT_FOUND, f"Not found, authenticated, or authorized: no endpoint at {path}", 404)


def method_not_allowed(method: str, path: str) -> SandboxError:
    """405 for a known path called with the wrong HTTP method (the text is the sandbox's).

    :param method: the HTTP method used.
    :param path: the requested path.
    """
    return SandboxError(facts.UNSUPPORTED_OPERATION, f"This operation is not supported: {method} {path}", 405)
