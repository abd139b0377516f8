"""Which base URLs may carry API keys: HTTPS anywhere, plain HTTP only to loopback (the local sandbox)."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from airflow_binance_loan.exceptions import ConfigurationError

DEFAULT_BASE_URL = "https://api.binance.com"


def check_base_url(base_url: str) -> str:
    """The normalized base URL; only HTTPS may carry API keys, plain http only to loopback (the sandbox).

    :param base_url: ``scheme://host[:port]``; empty means Binance's.
    """
    url = (base_url or DEFAULT_BASE_URL).strip().rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigurationError(f"invalid base URL {url!r}: expected https://host[:port]")
    if parts.path or parts.query or parts.fragment or parts.username:
        raise ConfigurationError(f"invalid base URL {url!r}: give only scheme, host and port")
    if parts.scheme == "http" and not is_loopback_host(parts.hostname):
        raise ConfigurationError(
            f"refusing plain-http base URL {url!r}: API keys only travel over HTTPS "
            "(http is allowed for loopback hosts such as the local sandbox)"
        )
    return url


def is_loopback_host(host: str) -> bool:
    """``localhost`` or a loopback IP address (127.0.0.0/8, ::1).

    :param host: a host name or IP address.
    """
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
