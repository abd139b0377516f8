"""HTTP transport: sends exactly the bytes that were signed, and says whether a failure was pre-send.

The query string is attached to the prepared request after ``requests`` has
prepared it, and the body is passed as bytes, so nothing is re-encoded.
Transport errors become :class:`NetworkError` with ``sent=False`` only when the
request provably never reached the server (DNS failure, refused connection,
connect timeout).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import requests
from urllib3.exceptions import NewConnectionError

from airflow_binance_loan.client.redaction import redact
from airflow_binance_loan.exceptions import NetworkError


class _RedactSignatures(logging.Filter):
    """urllib3 logs request lines (with the query string) at DEBUG: strip signatures from them."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.args:
            record.msg = record.getMessage()
            record.args = None
        record.msg = redact(str(record.msg))
        return True


for _name in ("urllib3.connectionpool", "urllib3.connection", "requests"):
    _logger = logging.getLogger(_name)
    if not any(isinstance(f, _RedactSignatures) for f in _logger.filters):
        _logger.addFilter(_RedactSignatures())


@dataclass(frozen=True)
class RawResponse:
    status: int
    body: bytes
    headers: dict[str, str]


class Transport:
    """A ``requests.Session`` with keep-alive, bounded timeouts and an optional proxy."""

    def __init__(
        self,
        *,
        connect_timeout: float = 5.0,
        read_timeout: float = 15.0,
        proxy: str | None = None,
        session: requests.Session | None = None,
    ) -> None:
        self._session = session or requests.Session()
        self._session.trust_env = proxy is None and self._session.trust_env
        if proxy:
            self._session.proxies = {"http": proxy, "https": proxy}
        self._timeout = (connect_timeout, read_timeout)

    def send(
        self, method: str, url: str, query: str, body: str, headers: dict[str, str], *, label: str
    ) -> RawResponse:
        request = requests.Request(method, url, headers=headers, data=body.encode("ascii") if body else None)
        prepared = self._session.prepare_request(request)
        prepared.url = f"{url}?{query}" if query else url
        failure: NetworkError | None = None
        try:
            response = self._session.send(prepared, timeout=self._timeout, allow_redirects=False)
            content = response.content
        except requests.exceptions.ConnectTimeout as exc:
            failure = NetworkError(f"connect timeout: {_describe(exc)}", endpoint=label, sent=False)
        except requests.exceptions.ReadTimeout as exc:
            failure = NetworkError(f"read timeout after sending: {_describe(exc)}", endpoint=label, sent=True)
        except requests.exceptions.ConnectionError as exc:
            sent = not _never_connected(exc)
            what = "connection lost after sending" if sent else "could not connect"
            failure = NetworkError(f"{what}: {_describe(exc)}", endpoint=label, sent=sent)
        except requests.exceptions.RequestException as exc:
            failure = NetworkError(f"HTTP failure: {_describe(exc)}", endpoint=label, sent=True)
        if failure is not None:
            # Raised outside the except blocks so neither __cause__ nor __context__ keeps the
            # requests exception, whose text holds the signed URL.
            raise failure
        return RawResponse(
            status=response.status_code,
            body=content,
            headers={k.lower(): v for k, v in response.headers.items()},
        )

    def close(self) -> None:
        self._session.close()


def _never_connected(exc: requests.exceptions.ConnectionError) -> bool:
    """True for DNS failures and refused connections: the request bytes never left."""
    cause: object = exc.args[0] if exc.args else None
    reason = getattr(cause, "reason", cause)
    return isinstance(reason, NewConnectionError)


def _describe(exc: BaseException) -> str:
    text = str(exc)
    return redact(text[:300])
