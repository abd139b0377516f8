"""One exception hierarchy for the whole provider (no Airflow import).

Every error raised by the client, hook, operator or trigger derives from
:class:`BinanceLoanError`. Errors that came back from Binance derive from
:class:`BinanceAPIError` and carry Binance's ``code`` and ``msg``, the HTTP status
and the endpoint. Messages never contain a secret, a private key, a passphrase or a
signature: they are built only from the endpoint, Binance's answer and the
non-secret request parameters.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from airflow_binance_loan.client.intent import RequestIntent


class BinanceLoanError(Exception):
    """Base class of every error raised by airflow-provider-binance-loan."""


class InvalidParameterError(BinanceLoanError, ValueError):
    """A caller-supplied value is invalid; raised before any network call."""

    def __init__(self, field_name: str, value: Any, reason: str) -> None:
        self.field = field_name
        self.value = value
        self.reason = reason
        super().__init__(f"invalid {field_name}={value!r}: {reason}")


class ConfigurationError(BinanceLoanError, ValueError):
    """The connection or client configuration is unusable (bad key, plain-http URL, ...)."""


class NetworkError(BinanceLoanError):
    """The HTTP exchange failed at the transport level.

    ``sent`` is False when the request provably never reached the server
    (connection refused, DNS failure, connect timeout): resending is then safe.
    """

    def __init__(self, message: str, *, endpoint: str, sent: bool) -> None:
        self.endpoint = endpoint
        self.sent = sent
        super().__init__(f"{endpoint}: {message}")


class BinanceAPIError(BinanceLoanError):
    """Binance answered with an error (or something that is not a valid answer)."""

    def __init__(
        self,
        msg: str,
        *,
        code: int | None = None,
        http_status: int | None = None,
        endpoint: str = "",
    ) -> None:
        self.code = code
        self.msg = msg
        self.http_status = http_status
        self.endpoint = endpoint
        super().__init__(self._render())

    def _render(self) -> str:
        where = f"{self.endpoint}: " if self.endpoint else ""
        status = f"HTTP {self.http_status}" if self.http_status is not None else "no HTTP status"
        code = f", code {self.code}" if self.code is not None else ""
        return f"{where}{status}{code}: {self.msg}"


class AuthenticationError(BinanceAPIError):
    """The API key was rejected: wrong key, IP not whitelisted or missing permission (-2014, -2015, -1002)."""


class InvalidSignatureError(AuthenticationError):
    """Binance could not verify the signature (-1022): wrong secret/private key or encoding."""


class TimestampError(BinanceAPIError):
    """The timestamp was outside recvWindow or ahead of server time (-1021)."""


class RateLimitError(BinanceAPIError):
    """Request weight exhausted (HTTP 429/418, -1003) or the pacing wait bound was exceeded."""

    def __init__(self, msg: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        self.retry_after = retry_after
        super().__init__(msg, **kwargs)


class InvalidRequestError(BinanceAPIError):
    """Binance rejected the parameters (-11xx and other 4xx answers)."""


class LoanBusinessError(BinanceAPIError):
    """A loan business rule refused the request (-27xxx, -1024, -1025, -3xxx)."""


class LiquidationInProgressError(LoanBusinessError):
    """The risk unit is being liquidated (-1024 / -27024): retry later."""


class PendingTransactionError(LoanBusinessError):
    """A previous transaction is still being processed (-1025 / -27025): retry shortly."""


class NoLiabilityError(LoanBusinessError):
    """The risk unit has nothing to repay (-27011)."""


class InsufficientBalanceError(LoanBusinessError):
    """The source wallet holds nothing to repay with (-27014 / -27015)."""


class ServerError(BinanceAPIError):
    """Binance-side failure (HTTP 5xx, -1000, -1001, -1004, -1006, -1007, -1008) on a read-only call."""


class ExecutionUnknownError(ServerError):
    """A money-moving request was sent but its outcome is unknown: it may have executed.

    Never resend blindly: reconcile ``intent`` against the borrow/repay records first.
    """

    def __init__(self, msg: str, *, intent: RequestIntent, **kwargs: Any) -> None:
        self.intent = intent
        super().__init__(msg, **kwargs)

    def _render(self) -> str:
        return (
            f"{super()._render()} — execution status UNKNOWN, the request may have executed: "
            f"{self.intent.describe()}"
        )


class UnexpectedResponseError(BinanceAPIError):
    """A successful HTTP status with a body that is not the documented shape."""



class RepayError(BinanceLoanError):
    """The exactly-once repay protocol stopped a try; the message says what moved and what to do."""


class RepayRejectedError(RepayError):
    """Binance definitely refused the repay (nothing moved): retrying the same request cannot help."""


class RepayOutcomeUnknownError(RepayError):
    """The repay MAY HAVE EXECUTED and was not resent; a later try continues the reconciliation."""


class RepayNotConfirmedError(RepayError):
    """Binance accepted the repay but its record could not be confirmed in time; it was not resent."""


class RepayFailedRecordError(RepayError):
    """Binance's record of the repay says FAILED: nothing moved, a later try may repay again."""


class RepaySupersededError(RepayError):
    """Another try of the same task instance owns this repay now: this try stops without sending."""


class JournalCorruptError(RepayError):
    """The repay journal entry cannot be read: nothing is sent until a person repairs or deletes it."""


class BooksNotPublishedError(BinanceLoanError):
    """A month has no published loan books, or its files do not match their pointer (``CURRENT.json``)."""
