"""BinanceCreditHook: turns a ``binance_credit`` connection into a :class:`LoanClient`.

The hook is deliberately thin: signing, time, pacing, retries and error mapping live
in :mod:`airflow_binance_loan.client`; this module only reads the connection and
exposes the client's methods under Airflow's hook conventions.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from airflow.sdk import BaseHook

from airflow_binance_loan.client.clock import SYSTEM_CLOCK, Clock
from airflow_binance_loan.client.retry import DEFAULT_RETRY_POLICY, RetryPolicy
from airflow_binance_loan.connection_fields import EXTRA_FIELDS
from airflow_binance_loan.exceptions import (
    AuthenticationError,
    BinanceAPIError,
    ConfigurationError,
    InvalidSignatureError,
    NetworkError,
    RateLimitError,
    TimestampError,
)
from airflow_binance_loan.hooks.connection_config import ConnectionConfig, config_from_connection

if TYPE_CHECKING:
    from airflow_binance_loan.client.endpoints import LimitKind
    from airflow_binance_loan.client.evidence import Reconciliation
    from airflow_binance_loan.client.intent import RequestIntent
    from airflow_binance_loan.client.loan_api import LoanClient
    from airflow_binance_loan.client.models import (
        ActiveRiskUnit,
        ApiRestrictions,
        BorrowRepayRecord,
        RepayResult,
        RiskUnitDetails,
    )
    from airflow_binance_loan.client.ratelimit import WeightPacer

CLOCK_WARNING_MS = 1000
#: Extras that are secrets (masked in logs); the others (key type, timeouts) are plain settings.
SECRET_EXTRAS = tuple(field.name for field in EXTRA_FIELDS if field.secret)


class BinanceCreditHook(BaseHook):
    """Hook for Binance Institutional Loan with keys kept in an Airflow connection.

    :param binance_credit_conn_id: connection of type ``binance_credit``; login = API key,
        password = HMAC secret or PEM private key (RSA PKCS#8 / Ed25519), host = base URL.
    """

    conn_name_attr = "binance_credit_conn_id"
    default_conn_name = "binance_credit_default"
    conn_type = "binance_credit"
    hook_name = "Binance Institutional Loan"

    def __init__(
        self,
        binance_credit_conn_id: str = default_conn_name,
        *,
        pacer: WeightPacer | None = None,
        clock: Clock = SYSTEM_CLOCK,
        retry_policy: RetryPolicy = DEFAULT_RETRY_POLICY,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.binance_credit_conn_id = binance_credit_conn_id
        self._pacer = pacer
        self._clock = clock
        self._retry_policy = retry_policy
        self._client: LoanClient | None = None

    def __repr__(self) -> str:
        return f"BinanceCreditHook(binance_credit_conn_id={self.binance_credit_conn_id!r})"

    # -- building the client -------------------------------------------------------------------

    def connection_config(self) -> ConnectionConfig:
        return self._config_of(self.get_connection(self.binance_credit_conn_id))

    async def aconnection_config(self) -> ConnectionConfig:
        """Same as :meth:`connection_config`, for triggers running in the event loop."""
        return self._config_of(await self.aget_connection(self.binance_credit_conn_id))

    def _config_of(self, conn: Any) -> ConnectionConfig:
        return config_from_connection(
            conn_id=self.binance_credit_conn_id,
            login=conn.login,
            password=conn.password,
            host=conn.host,
            port=conn.port,
            extra=self._extra_of(conn),
        )

    def _extra_of(self, conn: Any) -> dict[str, Any]:
        """The extras, parsed here and masked where they are secret (the passphrase, a Redis password).

        ``Connection.extra_dejson`` registers every string extra as a secret; this hook does not add to
        that. (Airflow 3.3's own connection lookup still does, through ``get_uri()``: with ``key_type``
        set to "hmac" or "rsa" every task log then starts with "Skipping masking for a secret as it's too
        short"; leave ``key_type`` empty, it is detected from the key.)
        """
        from airflow.sdk.log import mask_secret

        try:
            extra = json.loads(conn.extra) if conn.extra else {}
        except ValueError:
            raise ConfigurationError(f"connection {self.binance_credit_conn_id!r}: extra is not valid JSON") from None
        if not isinstance(extra, dict):
            raise ConfigurationError(f"connection {self.binance_credit_conn_id!r}: extra must be a JSON object")
        for name in SECRET_EXTRAS:
            if extra.get(name):
                mask_secret(str(extra[name]), name)
        budget_password = urlsplit(str(extra.get("weight_budget") or "")).password
        if budget_password:  # redis://:password@host/0
            mask_secret(budget_password, "weight_budget")
        return extra

    def client_from_config(self, config: ConnectionConfig) -> LoanClient:
        """A client built from ``config`` with this hook's clock, pacer and retry policy.

        :param config: the parsed connection (:meth:`connection_config`).
        """
        from airflow_binance_loan.client.connect import connect

        try:
            return connect(
                config.api_key,
                config.secret,
                config.base_url,
                key_type=config.key_type,
                passphrase=config.passphrase,
                recv_window=config.recv_window,
                connect_timeout=config.connect_timeout,
                read_timeout=config.timeout,
                proxy=config.proxy,
                budget_store=config.weight_budget,
                max_weight_wait_seconds=config.max_weight_wait,
                retry_policy=self._retry_policy,
                clock=self._clock,
                pacer=self._pacer,
            )
        except ConfigurationError as exc:
            raise ConfigurationError(f"connection {self.binance_credit_conn_id!r}: {exc}") from None

    def get_conn(self) -> LoanClient:
        """The client for this connection (built once per hook)."""
        if self._client is None:
            self._client = self.client_from_config(self.connection_config())
        return self._client

    async def aget_conn(self) -> LoanClient:
        """The client for this connection, looked up the way a trigger may (built once per hook)."""
        if self._client is None:
            try:
                config = await self.aconnection_config()
            except Exception:
                # dag.test's in-line trigger runner has no async connection lookup for DB connections.
                config = self.connection_config()
            self._client = self.client_from_config(config)
        return self._client

    # -- API -----------------------------------------------------------------------------------

    def repay(
        self,
        group_id: int | str,
        asset: str,
        amount: Decimal | int | str,
        repay_from: str | None = None,
        *,
        on_send: Callable[[RequestIntent], None] | None = None,
    ) -> RepayResult:
        """Repay a risk unit once; see :meth:`LoanClient.repay`. For exactly-once use the operator.

        :param group_id: the risk unit.
        :param asset: the liability's asset.
        :param amount: exact amount (Decimal, int or decimal string; floats are refused).
        :param repay_from: ``MARGIN`` or ``SPOT``; omitted: Binance's default.
        :param on_send: called with the intent just before each attempt's bytes leave.
        """
        return self.get_conn().repay(group_id, asset, amount, repay_from, on_send=on_send)

    def ltv_details(self, group_id: int | str | None = None) -> list[RiskUnitDetails]:
        """Risk unit details (LTV, equity, liabilities); see :meth:`LoanClient.ltv_details`.

        :param group_id: one unit; omitted: every unit the key can see.
        """
        return self.get_conn().ltv_details(group_id)

    def active_risk_units(self) -> list[ActiveRiskUnit]:
        """The parent account's active risk units (parent key)."""
        return self.get_conn().active_risk_units()

    def borrow_repay_records(
        self,
        type: str,
        group_id: int | str | None = None,
        asset: str | None = None,
        start_time: int | None = None,
        end_time: int | None = None,
    ) -> list[BorrowRepayRecord]:
        """Borrow or repay records; see :meth:`LoanClient.borrow_repay_records`.

        :param type: ``BORROW`` or ``REPAY``.
        :param group_id: one unit; omitted: every unit the key can see.
        :param asset: one asset; omitted: all.
        :param start_time: earliest record time in epoch milliseconds.
        :param end_time: latest record time in epoch milliseconds; omitted: Binance's now.
        """
        return self.get_conn().borrow_repay_records(type, group_id, asset, start_time, end_time)

    def api_restrictions(self) -> ApiRestrictions:
        """The key's permissions (weight 1)."""
        return self.get_conn().api_restrictions()

    def signed_request(
        self,
        method: str,
        path: str,
        params: dict[str, object] | None = None,
        weight: int = 1,
        limit_kind: LimitKind = "IP",
    ) -> Any:
        """Generic signed call for endpoints not wrapped yet (declare its weight).

        :param method: ``GET``, ``POST``, ``PUT`` or ``DELETE`` (non-GET is treated as money-moving).
        :param path: the path under the base URL, starting with ``/``.
        :param params: business parameters.
        :param weight: the endpoint's documented weight.
        :param limit_kind: ``IP`` or ``UID``.
        """
        return self.get_conn().signed_request(method, path, params, weight, limit_kind)

    def reconcile(self, intent: RequestIntent, **kwargs: Any) -> Reconciliation:
        """What became of a sent borrow/repay; see :func:`~.client.evidence.reconcile`.

        :param intent: the request as it was sent (from ``ExecutionUnknownError.intent`` or ``on_send``).
        :param kwargs: passed to :func:`~.client.evidence.reconcile`.
        """
        from airflow_binance_loan.client.evidence import reconcile

        return reconcile(self.get_conn(), intent, **kwargs)

    # -- connection test -----------------------------------------------------------------------

    def test_connection(self) -> tuple[bool, str]:
        """One cheap signed call (apiRestrictions, weight 1) and a precise verdict."""
        try:
            client = self.get_conn()
            restrictions = client.api_restrictions()
        except ConfigurationError as exc:
            return False, f"Bad connection settings or key format: {exc}"
        except InvalidSignatureError as exc:
            return False, (
                f"Binance rejected the signature (code {exc.code}): the secret or private key does not match "
                "the API key, or key_type is wrong."
            )
        except AuthenticationError as exc:
            return False, (
                f"Binance rejected the API key (code {exc.code}: {exc.msg}): the key is wrong or deleted, this "
                "machine's IP is not whitelisted for it, or it lacks the permission."
            )
        except TimestampError as exc:
            return False, (
                f"Clock skew: Binance rejected the timestamp even after resyncing server time ({exc.msg}). "
                "Check NTP on this machine."
            )
        except RateLimitError as exc:
            return False, f"Rate-limited by Binance: {exc.msg} (retry after {exc.retry_after} s)"
        except NetworkError as exc:
            return False, f"Network unreachable: {exc}"
        except BinanceAPIError as exc:
            return False, f"Binance error: {exc}"
        return True, self._verdict(client, restrictions)

    @staticmethod
    def _verdict(client: LoanClient, restrictions: ApiRestrictions) -> str:
        parts = [f"Connected to {client.base_url} with a {client.key_type.upper()} key."]
        if restrictions.enable_spot_and_margin_trading:
            parts.append("'Enable Spot & Margin Trading' is ON: repay is allowed.")
        else:
            parts.append(
                "WARNING: 'Enable Spot & Margin Trading' is OFF: repay and borrow will be refused "
                "(fine for a read-only parent-account connection)."
            )
        parts.append("IP whitelist: " + ("restricted." if restrictions.ip_restrict else "unrestricted."))
        offset = client.clock_offset_ms
        if abs(offset) >= CLOCK_WARNING_MS:
            parts.append(f"Local clock is {offset / 1000:+.1f} s off Binance (corrected automatically).")
        return " ".join(parts)
