"""Assembling a ready :class:`~.loan_api.LoanClient` from plain settings: the one place that wires the parts."""

from __future__ import annotations

from airflow_binance_loan.client.base_url import DEFAULT_BASE_URL
from airflow_binance_loan.client.budgets import BudgetSpec, BudgetStore, open_budget_store
from airflow_binance_loan.client.clock import SYSTEM_CLOCK, Clock
from airflow_binance_loan.client.endpoints import WINDOW_SECONDS
from airflow_binance_loan.client.loan_api import LoanClient
from airflow_binance_loan.client.ratelimit import DEFAULT_MAX_WAIT_SECONDS, WeightPacer
from airflow_binance_loan.client.retry import DEFAULT_RETRY_POLICY, RetryPolicy
from airflow_binance_loan.client.session import BinanceSession
from airflow_binance_loan.client.signing import load_signer
from airflow_binance_loan.client.transport import Transport


def connect(
    api_key: str,
    secret: str,
    base_url: str = DEFAULT_BASE_URL,
    *,
    key_type: str | None = None,
    passphrase: str | None = None,
    recv_window: int = 5000,
    connect_timeout: float = 5.0,
    read_timeout: float = 15.0,
    proxy: str | None = None,
    budget_store: BudgetStore | BudgetSpec | str | None = None,
    max_weight_wait_seconds: float = DEFAULT_MAX_WAIT_SECONDS,
    window_seconds: float = WINDOW_SECONDS,
    retry_policy: RetryPolicy = DEFAULT_RETRY_POLICY,
    clock: Clock = SYSTEM_CLOCK,
    pacer: WeightPacer | None = None,
    transport: Transport | None = None,
) -> LoanClient:
    """A ready client from an API key and its HMAC secret or PEM private key.

    :param api_key: the API key.
    :param secret: the HMAC secret, or an RSA / Ed25519 private key in PEM.
    :param base_url: Binance's base URL (or a loopback sandbox's).
    :param key_type: ``hmac``, ``rsa`` or ``ed25519``; detected from ``secret`` when omitted.
    :param passphrase: the PEM key's passphrase, if it is encrypted.
    :param recv_window: Binance's ``recvWindow`` in milliseconds.
    :param connect_timeout: seconds to establish a connection.
    :param read_timeout: seconds to wait for an answer.
    :param proxy: an HTTP(S) proxy URL.
    :param budget_store: where weight budgets are shared: ``"process"`` (default), ``"host"``,
        ``"host:/dir"``, ``"redis://host:port/db"`` or a :class:`~.budgets.BudgetStore`.
    :param max_weight_wait_seconds: longest wait for weight before a :class:`~..exceptions.RateLimitError`.
    :param window_seconds: the weight window; 60 on Binance, shorter only for a sandbox started so.
    :param retry_policy: how often and how long to retry what is safe to retry.
    :param clock: the clock to time, pace and sleep on (tests inject a virtual one).
    :param pacer: a ready pacer; replaces ``budget_store``, ``max_weight_wait_seconds`` and ``window_seconds``.
    :param transport: a ready transport; replaces ``connect_timeout``, ``read_timeout`` and ``proxy``.
    """
    signer = load_signer(secret, key_type, passphrase)
    if pacer is None:
        store = open_budget_store(budget_store) if budget_store is None or isinstance(
            budget_store, str | BudgetSpec) else budget_store
        pacer = WeightPacer(clock, store=store, window_seconds=window_seconds, max_wait_seconds=max_weight_wait_seconds)
    if transport is None:
        transport = Transport(connect_timeout=connect_timeout, read_timeout=read_timeout, proxy=proxy)
    session = BinanceSession(api_key, signer, base_url, recv_window=recv_window, clock=clock, pacer=pacer,
                             retry_policy=retry_policy, transport=transport)
    return LoanClient(session)
