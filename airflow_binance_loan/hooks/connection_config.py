"""Reading a ``binance_credit`` connection into client settings (pure Python, no Airflow import).

Extra fields are stored under bare keys by the Airflow UI (declarative ``conn-fields``),
by ``airflow connections add --conn-extra`` and by ``AIRFLOW_CONN_*`` JSON alike; values
may arrive as strings, so each one is parsed and validated here with a clear message.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from airflow_binance_loan import connection_fields as fields
from airflow_binance_loan.client.base_url import DEFAULT_BASE_URL, check_base_url
from airflow_binance_loan.client.budgets import BudgetSpec, parse_budget_spec
from airflow_binance_loan.exceptions import ConfigurationError


@dataclass(frozen=True)
class ConnectionConfig:
    """Everything needed to build a client; ``repr`` never shows the secret or passphrase."""

    api_key: str
    secret: str = field(repr=False)
    base_url: str = DEFAULT_BASE_URL
    key_type: str | None = None
    passphrase: str | None = field(default=None, repr=False)
    recv_window: int = fields.RECV_WINDOW.default
    timeout: float = fields.TIMEOUT.default
    proxy: str | None = field(default=None, repr=False)
    max_weight_wait: float = fields.MAX_WEIGHT_WAIT.default
    # Who shares the weight budgets: every process of this machine by default in Airflow.
    weight_budget: BudgetSpec = field(default_factory=lambda: parse_budget_spec(fields.WEIGHT_BUDGET.default))

    @property
    def connect_timeout(self) -> float:
        return min(5.0, self.timeout)


def config_from_connection(
    *, conn_id: str, login: str | None, password: str | None, host: str | None, port: int | None,
    extra: Mapping[str, Any],
) -> ConnectionConfig:
    """Validate a connection's fields; every error names the connection and the field.

    :param conn_id: the connection's id (named in every error).
    :param login: the API key.
    :param password: the HMAC secret or PEM private key.
    :param host: the base URL (scheme optional, https by default).
    :param port: the port field (0 or None: not set).
    :param extra: the extra fields, parsed from JSON.
    """
    def fail(what: str) -> ConfigurationError:
        return ConfigurationError(f"connection {conn_id!r}: {what}")

    api_key = (login or "").strip()
    if not api_key:
        raise fail("login (API key) is empty")
    if not password or not password.strip():
        raise fail("password (HMAC secret or PEM private key) is empty")
    unknown = sorted(set(extra) - set(fields.BY_NAME))
    if unknown:
        raise fail(f"unknown extra field(s) {', '.join(unknown)}; expected some of {', '.join(fields.BY_NAME)}")

    key_type = _text(extra.get("key_type"))
    if key_type is not None:
        key_type = key_type.lower()
        allowed = [value for value, _ in fields.KEY_TYPE.choices]
        if key_type not in allowed:
            raise fail(f"extra key_type={key_type!r} must be one of {', '.join(allowed)}")
    try:
        weight_budget = parse_budget_spec(extra.get("weight_budget"), field_name="extra weight_budget",
                                          default=parse_budget_spec(fields.WEIGHT_BUDGET.default))
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
        recv_window=_number(fields.RECV_WINDOW, extra, fail),
        timeout=_number(fields.TIMEOUT, extra, fail),
        proxy=_text(extra.get("proxy")),
        max_weight_wait=_number(fields.MAX_WEIGHT_WAIT, extra, fail),
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


def _number(spec: fields.ExtraField, extra: Mapping[str, Any], fail: Callable[[str], ConfigurationError]) -> Any:
    """The field's value as ``int`` or ``float``, its default when empty, checked against its range."""
    value = extra.get(spec.name)
    kind: type = int if spec.kind == "integer" else float
    if value is None or value == "":
        return kind(spec.default)
    if isinstance(value, bool):
        raise fail(f"extra {spec.name}={value!r} is not a number")
    try:
        number = kind(value)
    except (TypeError, ValueError):
        raise fail(f"extra {spec.name}={value!r} is not a number") from None
    if kind is int and isinstance(value, float) and value != number:
        raise fail(f"extra {spec.name}={value!r} must be a whole number")
    low, high = spec.minimum, spec.maximum
    if not math.isfinite(number) or (low is not None and number < low) or (high is not None and number > high):
        raise fail(f"extra {spec.name}={number} must be between {low:g} and {high:g} {spec.unit}")
    return number
