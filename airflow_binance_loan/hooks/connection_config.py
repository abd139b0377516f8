"""Reading a ``binance_credit`` connection into client settings (pure Python, no Airflow import).

Extra fields are stored under bare keys by the Airflow UI (declarative ``conn-fields``),
by ``airflow connections add --conn-extra`` and by ``AIRFLOW_CONN_*`` JSON alike; values
may arrive as strings, so each one is parsed and validated here with a clear message.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from airflow_binance_loan.client.budgets import HOST, BudgetSpec, parse_budget_spec
from airflow_binance_loan.client.session import DEFAULT_BASE_URL, check_base_url
from airflow_binance_loan.client.signing import KEY_TYPES
from airflow_binance_loan.client.validation import RECV_WINDOW_MAX_MS
from airflow_binance_loan.exceptions import ConfigurationError

EXTRA_FIELDS = (
    "key_type",
    "private_key_passphrase",
    "recv_window",
    "timeout",
    "proxy",
    "max_weight_wait",
    "weight_window_seconds",
    "weight_budget",
)


@dataclass(frozen=True)
class ConnectionConfig:
    """Everything needed to build a client; ``repr`` never shows the secret or passphrase."""

    api_key: str
    secret: str = field(repr=False)
    base_url: str = DEFAULT_BASE_URL
    key_type: str | None = None
    passphrase: str | None = field(default=None, repr=False)
    recv_window: int = 5000
    timeout: float = 15.0
    proxy: str | None = field(default=None, repr=False)
    max_weight_wait: float | None = None
    weight_window_seconds: float = 60.0
    # Who shares the weight budgets: "host" (every process of this machine) by default in Airflow.
    weight_budget: BudgetSpec = HOST

    @property
    def connect_timeout(self) -> float:
        return min(5.0, self.timeout)


def config_from_connection(
    *, conn_id: str, login: str | None, password: str | None, host: str | None, port: int | None,
    extra: Mapping[str, Any],
) -> ConnectionConfig:
    """Validate a connection's fields; every error names the connection and the field."""
    def fail(what: str) -> ConfigurationError:
        return ConfigurationError(f"connection {conn_id!r}: {what}")

    api_key = (login or "").strip()
    if not api_key:
        raise fail("login (API key) is empty")
    if not password or not password.strip():
        raise fail("password (HMAC secret or PEM private key) is empty")
    unknown = sorted(set(extra) - set(EXTRA_FIELDS))
    if unknown:
        raise fail(f"unknown extra field(s) {', '.join(unknown)}; expected some of {', '.join(EXTRA_FIELDS)}")

    key_type = _text(extra.get("key_type"))
    if key_type is not None:
        key_type = key_type.lower()
        if key_type not in KEY_TYPES:
            raise fail(f"extra key_type={key_type!r} must be one of {', '.join(KEY_TYPES)}")
    recv_window = _number(extra.get("recv_window"), 5000, int, "recv_window", fail)
    if not 0 < recv_window <= RECV_WINDOW_MAX_MS:
        raise fail(f"extra recv_window={recv_window} must be between 1 and {RECV_WINDOW_MAX_MS} ms")
    timeout = _number(extra.get("timeout"), 15.0, float, "timeout", fail)
    if not (math.isfinite(timeout) and 0.1 <= timeout <= 300):
        raise fail(f"extra timeout={timeout} must be between 0.1 and 300 seconds")
    max_wait = extra.get("max_weight_wait")
    max_weight_wait = None if max_wait in (None, "") else _number(max_wait, 0.0, float, "max_weight_wait", fail)
    if max_weight_wait is not None and not (math.isfinite(max_weight_wait) and 0 <= max_weight_wait <= 3600):
        raise fail(f"extra max_weight_wait={max_wait!r} must be between 0 and 3600 seconds")
    window = _number(extra.get("weight_window_seconds"), 60.0, float, "weight_window_seconds", fail)
    if not 0 < window <= 60:
        raise fail(f"extra weight_window_seconds={window} must be in (0, 60]; Binance uses 60")
    try:
        weight_budget = parse_budget_spec(extra.get("weight_budget"), field_name="extra weight_budget", default=HOST)
    except ConfigurationError as exc:
        raise fail(str(exc)) from None
    try:
        base_url = check_base_url(_base_url(host, port))
    except ConfigurationError as exc:
        raise fail(str(exc)) from None
    return ConnectionConfig(
        api_key=api_key,
        secret=password,
        base_url=base_url,
        key_type=key_type,
        passphrase=_text(extra.get("private_key_passphrase")),
        recv_window=recv_window,
        timeout=timeout,
        proxy=_text(extra.get("proxy")),
        max_weight_wait=max_weight_wait,
        weight_window_seconds=window,
        weight_budget=weight_budget,
    )


def _base_url(host: str | None, port: int | None) -> str:
    """The base URL from the host field (scheme optional, https by default) and the port field.

    A port of 0 or none is "not set" (the UI sends 0 for an empty port). A port that repeats the
    URL's own (or the scheme's default) changes nothing; one that contradicts it is an error.
    """
    host = (host or "").strip()
    if not host:
        return DEFAULT_BASE_URL
    if "://" not in host:
        host = "https://" + host
    if not port:
        return host
    try:
        parts = urlsplit(host)
        explicit = parts.port
    except ValueError:
        return host  # check_base_url names the problem
    default = 443 if parts.scheme == "https" else 80
    if explicit is not None and explicit != port:
        raise ConfigurationError(f"host {host!r} says port {explicit} but the port field says {port}: keep one")
    if explicit is not None or port == default:
        return host
    return f"{host.rstrip('/')}:{port}"


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _number(value: Any, default: Any, kind: type, name: str, fail: Any) -> Any:
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        raise fail(f"extra {name}={value!r} is not a number")
    try:
        number = kind(value)
    except (TypeError, ValueError):
        raise fail(f"extra {name}={value!r} is not a number") from None
    if kind is int and isinstance(value, float) and value != number:
        raise fail(f"extra {name}={value!r} must be a whole number")
    return number
