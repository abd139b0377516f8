"""The signed-request pipeline: pace → timestamp → encode → sign → send → parse → map → retry.

:class:`BinanceSession` knows nothing about loans; :mod:`.loan_api` builds the
endpoint methods on top of :meth:`BinanceSession.call`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any
from urllib.parse import quote

from airflow_binance_loan.client.base_url import DEFAULT_BASE_URL, check_base_url
from airflow_binance_loan.client.budgets import open_budget_store
from airflow_binance_loan.client.clock import SYSTEM_CLOCK, Clock, ServerTime
from airflow_binance_loan.client.encoding import encode_params, param_text, signature_payload
from airflow_binance_loan.client.endpoints import SERVER_TIME, Endpoint
from airflow_binance_loan.client.intent import RequestIntent
from airflow_binance_loan.client.ratelimit import WeightPacer, limit_key
from airflow_binance_loan.client.responses import (
    DEFAULT_RETRY_AFTER_SECONDS,
    error_from_response,
    parse_retry_after,
    parse_success,
)
from airflow_binance_loan.client.retry import DEFAULT_RETRY_POLICY, RetryPolicy
from airflow_binance_loan.client.signing import Signer
from airflow_binance_loan.client.transport import RawResponse, Transport
from airflow_binance_loan.client.validation import validate_recv_window
from airflow_binance_loan.exceptions import (
    BinanceAPIError,
    ConfigurationError,
    ExecutionUnknownError,
    NetworkError,
    RateLimitError,
    ServerError,
    TimestampError,
    UnexpectedResponseError,
)

log = logging.getLogger("airflow_binance_loan.client")

ParamItems = Sequence[tuple[str, object]]
_UNSIGNED_CONTROL = ("timestamp", "recvWindow", "signature")


class BinanceSession:
    """Signed, paced, retried calls to one Binance base URL with one API key.

    :param api_key: the API key sent as ``X-MBX-APIKEY``.
    :param signer: signs each request (:func:`~.signing.load_signer` builds one from a secret or PEM key).
    :param base_url: ``https://…``; plain ``http`` only for loopback hosts such as the local sandbox.
    :param recv_window: Binance's ``recvWindow`` in milliseconds (at most 60000).
    :param clock: wall time, monotonic time and sleeping; the server-time offset is measured on it.
    :param pacer: paces calls against Binance's weight budgets; default: this process's budgets.
    :param retry_policy: how often and how long to retry what is safe to retry.
    :param transport: sends the bytes; default: ``requests`` with 5 s connect and 15 s read timeouts.
    """

    def __init__(
        self,
        api_key: str,
        signer: Signer,
        base_url: str = DEFAULT_BASE_URL,
        *,
        recv_window: int = 5000,
        clock: Clock = SYSTEM_CLOCK,
        pacer: WeightPacer | None = None,
        retry_policy: RetryPolicy = DEFAULT_RETRY_POLICY,
        transport: Transport | None = None,
    ) -> None:
        if not api_key or not api_key.isascii() or any(c.isspace() for c in api_key):
            raise ConfigurationError("API key must be non-empty printable ASCII without spaces")
        self.base_url = check_base_url(base_url)
        self.recv_window = validate_recv_window(recv_window, "recv_window")
        self._api_key = api_key
        self._signer = signer
        self.clock = clock
        self.server_time = ServerTime(clock)
        self.pacer = pacer if pacer is not None else WeightPacer(clock, store=open_budget_store(None))
        self.retry_policy = retry_policy
        self._transport = transport or Transport()

    def __repr__(self) -> str:
        return f"BinanceSession(base_url={self.base_url!r}, key_type={self._signer.key_type!r})"

    @property
    def key_type(self) -> str:
        return self._signer.key_type

    def close(self) -> None:
        self._transport.close()

    # -- time -----------------------------------------------------------------------------------

    def fetch_server_time(self) -> int:
        """``GET /api/v3/time`` (unsigned, weight 1): the server's clock in milliseconds."""
        data = self.call(SERVER_TIME, ())
        if not isinstance(data, dict) or not isinstance(data.get("serverTime"), int):
            raise BinanceAPIError(f"unexpected server time answer {data!r}", endpoint=SERVER_TIME.label)
        return int(data["serverTime"])

    def sync_time(self) -> None:
        self.server_time.sync(self.fetch_server_time)

    def server_now(self) -> int:
        """Server time in ms, syncing first if the offset was never measured or is stale."""
        if self.server_time.needs_sync():
            self.sync_time()
        return int(self.server_time.server_now())

    # -- calls ----------------------------------------------------------------------------------

    def call(
        self,
        endpoint: Endpoint,
        params: ParamItems | Mapping[str, object],
        *,
        intent_fields: Mapping[str, Any] | None = None,
        on_send: Callable[[RequestIntent], None] | None = None,
    ) -> Any:
        """Send one call with its retry policy; returns the decoded JSON (Decimals for non-integers).

        ``on_send`` is called with the exact intent of a money-moving request just before its
        bytes leave (once per attempt); if it raises, nothing is sent. Callers use it to persist
        the intent where a later retry can find it.

        :param endpoint: the endpoint (its method, path, weight and limit kind).
        :param params: business parameters in order (``None`` values are left out).
        :param intent_fields: group id, asset and amount recorded in the :class:`RequestIntent`.
        :param on_send: called with the intent just before each attempt's bytes leave.
        """
        items: list[tuple[str, object]] = [
            (k, v) for k, v in (params.items() if isinstance(params, Mapping) else params) if v is not None
        ]
        for name, _ in items:
            if name in _UNSIGNED_CONTROL:
                raise ConfigurationError(f"parameter {name!r} is set by the client, do not pass it")
        if endpoint.signed and self.server_time.needs_sync():
            self.sync_time()

        policy = self.retry_policy
        resynced = False
        rate_limited = 0
        transient = 0
        while True:
            try:
                return self._attempt(endpoint, items, intent_fields, on_send)
            except RateLimitError as exc:
                if exc.http_status is None or rate_limited >= policy.rate_limit_retries:
                    raise
                rate_limited += 1
                log.warning("%s rate-limited (%s); will retry after the wait", endpoint.label, exc.msg)
            except TimestampError:
                if resynced:
                    raise
                resynced = True
                log.warning("%s: -1021 timestamp rejected; resyncing server time and resending", endpoint.label)
                self.server_time.invalidate()
                self.sync_time()
            except NetworkError as exc:
                retry = (not exc.sent and transient + 1 < policy.unsent_write_attempts) if endpoint.mutating \
                    else transient + 1 < policy.read_attempts
                if not retry:
                    raise
                transient += 1
                self._backoff(endpoint, transient, str(exc))
            except ServerError as exc:
                if endpoint.mutating or isinstance(exc, ExecutionUnknownError) \
                        or transient + 1 >= policy.read_attempts:
                    raise
                transient += 1
                self._backoff(endpoint, transient, str(exc))

    def _backoff(self, endpoint: Endpoint, retry_number: int, why: str) -> None:
        delay = self.retry_policy.backoff(retry_number)
        log.warning("%s failed (%s); retry %d in %.2f s", endpoint.label, why, retry_number, delay)
        self.clock.sleep(delay)

    def _attempt(
        self,
        endpoint: Endpoint,
        items: list[tuple[str, object]],
        intent_fields: Mapping[str, Any] | None,
        on_send: Callable[[RequestIntent], None] | None,
    ) -> Any:
        key = limit_key(endpoint, self.base_url, self._api_key)
        guard = self.server_time.uncertainty_ms
        reservation = self.pacer.acquire(
            key,
            endpoint.weight,
            endpoint.limit,
            self.server_time.server_now,
            extra_guard_ms=guard,
        )
        timestamp = 0
        if endpoint.signed:
            timestamp = self.server_time.timestamp_ms()
            items = [*items, ("recvWindow", self.recv_window), ("timestamp", timestamp)]
        encoded = encode_params(items)
        query, body = (encoded, "") if endpoint.method in ("GET", "DELETE") else ("", encoded)
        headers = {"Accept": "application/json"}
        if body:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        if endpoint.signed:
            headers["X-MBX-APIKEY"] = self._api_key
            signature = "signature=" + quote(self._signer.sign(signature_payload(query, body)), safe="")
            if body:
                body = f"{body}&{signature}"
            else:
                query = f"{query}&{signature}" if query else signature
        intent = self._intent(endpoint, items, timestamp, intent_fields) if endpoint.mutating else None
        if intent is not None and on_send is not None:
            try:
                on_send(intent)
            except BaseException:
                self.pacer.release(reservation, self.server_time.server_now())
                raise
        try:
            raw = self._transport.send(
                endpoint.method, self.base_url + endpoint.path, query, body, headers, label=endpoint.label
            )
        except NetworkError as exc:
            if not exc.sent:
                self.pacer.release(reservation, self.server_time.server_now())
            elif intent is not None:
                raise ExecutionUnknownError(str(exc), intent=intent, endpoint=endpoint.label) from None
            raise
        self._observe_weight(reservation, raw)
        if 200 <= raw.status < 300:
            try:
                return parse_success(raw.status, raw.body, endpoint=endpoint.label)
            except UnexpectedResponseError as exc:
                if intent is None:
                    raise
                raise ExecutionUnknownError(exc.msg, intent=intent, http_status=raw.status,
                                            endpoint=endpoint.label) from None
        error = error_from_response(
            raw.status, raw.body, endpoint=endpoint.label, retry_after=raw.headers.get("retry-after"), intent=intent
        )
        if isinstance(error, RateLimitError):
            wait = error.retry_after if error.retry_after is not None else DEFAULT_RETRY_AFTER_SECONDS
            self.pacer.block(key, wait, endpoint.limit, self.server_time.server_now())
        raise error

    def _observe_weight(self, reservation: Any, raw: RawResponse) -> None:
        header = "x-sapi-used-uid-weight-1m" if reservation.key.kind == "UID" else "x-sapi-used-ip-weight-1m"
        value = raw.headers.get(header)
        if value is not None and value.strip().isdigit():
            self.pacer.observe(reservation, int(value), self.server_time.server_now())

    def _intent(
        self,
        endpoint: Endpoint,
        items: list[tuple[str, object]],
        timestamp: int,
        fields: Mapping[str, Any] | None,
    ) -> RequestIntent:
        recv_window = self.recv_window
        business = {k: param_text(v) for k, v in items if k not in _UNSIGNED_CONTROL}
        fields = fields or {}
        return RequestIntent(
            method=endpoint.method,
            path=endpoint.path,
            params=business,
            timestamp_ms=timestamp,
            recv_window_ms=recv_window,
            group_id=fields.get("group_id"),
            asset=fields.get("asset"),
            amount=fields.get("amount"),
        )


__all__ = ["DEFAULT_BASE_URL", "BinanceSession", "check_base_url", "parse_retry_after"]
